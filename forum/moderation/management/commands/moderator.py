from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from forum.moderation.services import moderators_group


class Command(BaseCommand):
    help = "Add a member to the Moderators group, or remove them: moderator add|remove EMAIL"

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["add", "remove"])
        parser.add_argument("email")

    def handle(self, *args, operation, email, **options):
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
