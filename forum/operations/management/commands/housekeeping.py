from django.core.management.base import BaseCommand

from forum.operations.services import housekeeping


class Command(BaseCommand):
    help = (
        "Daily clean-up: expired sessions, old finished task results, heartbeats of workers "
        "long gone. Safe to run at any time, and twice."
    )

    def handle(self, *args, **options):
        deleted = housekeeping()
        self.stdout.write(
            "Deleted " + ", ".join(f"{count} {what}" for what, count in deleted.items()) + "."
        )
