import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands import db_worker

from forum.operations.worker import SupervisedWorker


class Command(db_worker.Command):
    help = (
        "Run the task worker: django-tasks-db's db_worker, with a heartbeat, recovery of "
        "tasks left by dead workers, and reconnection when the database goes away."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # db_worker draws its default id once, at import: every worker started from one
        # parent process would share it.
        parser.set_defaults(worker_id=None)

    def handle(self, *, verbosity, queue_name, exclude_queues, worker_id, reload, **options):
        self.configure_logging(verbosity)
        worker = SupervisedWorker(
            queue_names=queue_name.split(","),
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=worker_id or get_random_string(32),
        )
        if reload and not options["batch"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
