import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from essays.models import Essay
from forum.accounts.discussion_export import discussion_export


class Command(BaseCommand):
    help = (
        "Write an essay's whole discussion (revisions, paragraphs, comments, reports, "
        "decisions, subscriptions) as one JSON document, for import_discussion."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--output", type=Path, help="Write to this file instead of the standard output."
        )

    def handle(self, *args, slug: str, output: Path | None, **options):
        essay = Essay.objects.filter(slug=slug).first()
        if essay is None:
            raise CommandError(f"No essay has the slug “{slug}”.")
        text = json.dumps(discussion_export(essay), ensure_ascii=False, indent=1)
        if output is None:
            self.stdout.write(text)
            return
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}.") from error
        self.stderr.write(f"Discussion of “{essay.title}” written to {output}.")
