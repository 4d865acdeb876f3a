import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from forum.accounts.discussion_export import DiscussionFileError, discussion_import


class Command(BaseCommand):
    help = (
        "Restore an essay and its discussion from a file export_discussion wrote, on a site "
        "where that essay does not exist: all of it, or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text.") from error
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{path} is not JSON (line {error.lineno}, column {error.colno}: {error.msg})."
            ) from error
        try:
            essay, counts = discussion_import(document)
        except DiscussionFileError as error:
            raise CommandError(f"{path}: {error}") from error
        written = "; ".join(f"{name}: {count}" for name, count in counts.items())
        self.stdout.write(f"Essay “{essay.title}” ({essay.slug}) restored: {written}.")
