"""The task worker, made to survive: django-tasks-db's worker loop, plus

- a heartbeat, written by a thread of its own so that a long task does not silence it;
- recovery: the same thread gives back the tasks of workers whose heartbeat stopped (a worker
  killed with SIGKILL leaves its task "running" forever otherwise);
- reconnection: when the database goes away the worker waits and tries again, with backoff,
  instead of exiting; a task it could not record an outcome for goes back to the queue.
"""

import contextlib
import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from . import services

logger = logging.getLogger(__name__)

# What a lost database connection raises, and how a failed task records it.
CONNECTION_ERRORS = (OperationalError, InterfaceError)
CONNECTION_ERROR_PATHS = {f"{error.__module__}.{error.__qualname__}" for error in CONNECTION_ERRORS}
LONGEST_RECONNECT_WAIT = 30  # seconds


class SupervisedWorker(Worker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.unrecorded_task_ids = set()
        self.heartbeat_stopped = threading.Event()

    def run(self) -> None:
        logger.info("Worker %s starting on queues %s", self.worker_id, ",".join(self.queue_names))
        if not self.batch:
            # A batch (run what is queued, then stop) is watched by whoever started it.
            threading.Thread(target=self.beat, name="heartbeat", daemon=True).start()
        wait = 1.0
        try:
            while self.running:
                try:
                    self.give_back_unrecorded_tasks()
                    ran_a_task = self.run_next_task()
                    wait = 1.0
                except CONNECTION_ERRORS as error:
                    if not is_locked_database_exception(error):
                        logger.warning(
                            "Database unreachable (%s); trying again in %.0f s.", error, wait
                        )
                    self.forget_connections()
                    time.sleep(wait)
                    wait = min(wait * 2, LONGEST_RECONNECT_WAIT)
                    continue
                if self.batch and not ran_a_task:
                    return
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    return
                if self.running and not ran_a_task:
                    time.sleep(self.interval)
        finally:
            self.heartbeat_stopped.set()
            if not self.batch:
                # Unreachable now, it is presumed dead after WORKER_PRESUMED_DEAD_AFTER instead.
                with contextlib.suppress(*CONNECTION_ERRORS):
                    services.heartbeat_remove(worker_id=self.worker_id)

    def run_next_task(self) -> bool:
        close_old_connections()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        if task_result is None:
            return False
        try:
            self.run_task(task_result)
        except CONNECTION_ERRORS:
            # The task ran, or began to, but its outcome could not be written.
            self.unrecorded_task_ids.add(task_result.id)
            raise
        if (
            task_result.status == TaskResultStatus.FAILED
            and task_result.exception_class_path in CONNECTION_ERROR_PATHS
            and len(task_result.worker_ids) < settings.TASK_MAX_ATTEMPTS
        ):
            # The database went away under the task, not the task's own fault: run it again.
            self.unrecorded_task_ids.add(task_result.id)
        close_old_connections()
        return True

    def give_back_unrecorded_tasks(self) -> None:
        for task_id in list(self.unrecorded_task_ids):
            if services.task_requeue(task_id=task_id, worker_id=self.worker_id):
                logger.warning("Task %s was interrupted by the database; queued again.", task_id)
            self.unrecorded_task_ids.discard(task_id)

    def beat(self) -> None:
        """Say this worker is alive, and give back the tasks of workers that are not."""
        host, pid = socket.gethostname(), os.getpid()
        while not self.heartbeat_stopped.is_set():
            try:
                services.heartbeat_record(worker_id=self.worker_id, host=host, pid=pid)
                services.tasks_requeue_abandoned()
            except CONNECTION_ERRORS as error:
                logger.warning("Heartbeat not recorded: database unreachable (%s).", error)
            finally:
                # This thread's own connection: never held open between beats.
                connections.close_all()
            self.heartbeat_stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)

    @staticmethod
    def forget_connections() -> None:
        for connection in connections.all(initialized_only=True):
            with contextlib.suppress(*CONNECTION_ERRORS):
                connection.close()
