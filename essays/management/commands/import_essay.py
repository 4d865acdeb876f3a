from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from essays.rendering import EssaySourceError
from essays.services import essay_import


class Command(BaseCommand):
    help = "Create or update an essay from a Markdown file with front matter, keeping anchors."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--draft", action="store_true", help="Import without publishing a new essay."
        )

    def handle(self, *args, path: Path, draft: bool, **options):
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        try:
            result = essay_import(source=source, publish=not draft)
        except EssaySourceError as error:
            raise CommandError(f"{path}: {error}") from error
        essay = result.essay
        if result.created:
            summary = f"created with {result.added} blocks"
        elif result.revised:
            summary = (
                f"revised to revision {essay.revision}: {result.kept} kept, "
                f"{result.added} added, {result.retired} retired"
            )
        else:
            summary = "unchanged"
        self.stdout.write(f"Essay “{essay.title}” ({essay.slug}): {summary}.")
