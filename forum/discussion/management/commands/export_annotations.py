import json

from django.core.management.base import BaseCommand, CommandError

from essays.models import Essay
from forum.discussion.annotations import essay_annotations


class Command(BaseCommand):
    help = (
        "Write every published comment on a published essay to standard output as W3C Web "
        "Annotations (JSON-LD), as GET /essays/<slug>/annotations.jsonld serves them."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the essay's slug")

    def handle(self, *args, slug, **options):
        essay = Essay.objects.published().filter(slug=slug).first()
        if essay is None:
            raise CommandError(f"No published essay has the slug {slug!r}.")
        self.stdout.write(json.dumps(essay_annotations(essay), ensure_ascii=False, indent=2))
