from django.core.management.base import BaseCommand

from forum.subscriptions.services import send_digests


class Command(BaseCommand):
    help = (
        "Send the daily digest to readers who chose it (safe to run twice: nothing is sent twice)."
    )

    def handle(self, *args, **options):
        sent = send_digests()
        self.stdout.write(f"Sent {sent} digest{'s' if sent != 1 else ''}.")
