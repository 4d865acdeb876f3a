import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from essays.services import essay_import
from forum.discussion.services import comment_import_response

SEED_ESSAY = settings.BASE_DIR / "essays" / "content" / "stalinism-the-inner-truth-of-bolshevism.md"
SEED_RESPONSES = Path(__file__).resolve().parents[2] / "seed" / f"{SEED_ESSAY.stem}.responses.json"


class Command(BaseCommand):
    help = "Publish the seed essay and the reader responses that close it (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        result = essay_import(source=SEED_ESSAY.read_text(encoding="utf-8"))
        state = "created" if result.created else "revised" if result.revised else "unchanged"
        self.stdout.write(f"Essay “{result.essay.title}”: {state}.")
        responses = json.loads(SEED_RESPONSES.read_text(encoding="utf-8"))["responses"]
        created = 0
        for response in responses:
            _comment, was_created = comment_import_response(
                essay=result.essay, author_name=response["author_name"], body=response["body"]
            )
            created += was_created
        self.stdout.write(f"Responses: {created} added, {len(responses) - created} already there.")
