from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from forum.discussion.readers import reader_state_forget
from forum.moderation.policy import moderators
from forum.moderation.services import moderators_group

HOW_TO_ADD = (
    "DJANGO_DEBUG=true .venv/bin/python manage.py moderator add EMAIL "
    "(a member who has signed up), or createsuperuser for the site owner"
)


class Command(BaseCommand):
    help = (
        "Add a member to the Moderators group, or remove them: moderator add|remove EMAIL; "
        "moderator list: who can moderate (the site owner too)"
    )

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["add", "remove", "list"])
        parser.add_argument("email", nargs="?")

    def handle(self, *args, operation, email, **options):
        if operation == "list":
            return self.list()
        if not email:
            raise CommandError(f"Name the member: moderator {operation} EMAIL")
        try:
            user = get_user_model().objects.get(email__iexact=email)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No member has the email address {email}.") from None
        group = moderators_group()
        if operation == "add":
            user.groups.add(group)
            self.stdout.write(f"{user.email} is now a moderator.")
        else:
            user.groups.remove(group)
            self.stdout.write(f"{user.email} is no longer a moderator.")
        # Their pages carry a moderator's controls, or no longer do (readers.py).
        reader_state_forget(user.pk)

    def list(self):
        emails = list(moderators().order_by("email").values_list("email", flat=True))
        if emails:
            self.stdout.write("Moderators: " + ", ".join(emails))
            return
        self.stdout.write(
            "No one moderates yet, so no comment waits for review: new accounts' comments "
            f"publish at once. To make a moderator: {HOW_TO_ADD}."
        )
