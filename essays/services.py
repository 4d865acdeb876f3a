import secrets
from collections import defaultdict, deque
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import Essay, Paragraph
from .rendering import Block, parse_essay

KEY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o or 1/l: keys get read aloud and typed
KEY_LENGTH = 8


@dataclass(frozen=True)
class ImportResult:
    essay: Essay
    created: bool
    revised: bool
    kept: int
    added: int
    retired: int


def new_paragraph_key(taken: set[str]) -> str:
    while True:
        key = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
        if key not in taken:
            taken.add(key)
            return key


@transaction.atomic
def essay_import(*, source: str, publish: bool = True) -> ImportResult:
    """Create or update the essay a Markdown source describes, keeping paragraph keys.

    A live paragraph whose kind and text reappear keeps its key (and everything attached to
    it); a new block gets a new key; a paragraph that disappeared is retired in the new
    revision, never deleted. Importing an unchanged source changes nothing at all.
    """
    slug = parse_essay(source).slug
    url = Essay(slug=slug).get_absolute_url()
    document = parse_essay(source, url=url)
    essay = Essay.objects.select_for_update().filter(slug=slug).first()
    created = essay is None
    if created:
        essay = Essay(slug=slug, revision=1)
    fields = {
        "title": document.title,
        "alternate_title": document.alternate_title,
        "attribution": document.attribution,
        "source": source,
    }
    if publish and essay.status != Essay.Status.PUBLISHED:
        fields["status"] = Essay.Status.PUBLISHED
        fields["published_at"] = essay.published_at or timezone.now()
    essay_changed = any(getattr(essay, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(essay, name, value)

    if created:
        essay.full_clean()
        essay.save()
        taken: set[str] = set()
        Paragraph.objects.bulk_create(
            _new_paragraph(essay, block, position, new_paragraph_key(taken))
            for position, block in enumerate(document.blocks)
        )
        return ImportResult(essay, True, False, 0, len(document.blocks), 0)

    live = list(essay.paragraphs.live().order_by("position"))
    if [(p.kind, p.html) for p in live] == [(b.kind, b.html) for b in document.blocks]:
        if essay_changed:
            essay.full_clean()
            essay.save()
        return ImportResult(essay, False, False, len(live), 0, 0)

    essay.revision += 1
    essay.revised_at = timezone.now()
    essay.full_clean()
    essay.save()
    kept, added, retired = _reconcile_paragraphs(essay, live, document.blocks)
    return ImportResult(essay, False, True, kept, added, retired)


def _new_paragraph(essay: Essay, block: Block, position: int, key: str) -> Paragraph:
    return Paragraph(
        essay=essay,
        key=key,
        position=position,
        kind=block.kind,
        html=block.html,
        text=block.text,
        added_in=essay.revision,
    )


def _reconcile_paragraphs(essay: Essay, live: list[Paragraph], blocks: list[Block]):
    """Match blocks to live paragraphs by identical kind and text, in document order."""
    candidates: dict[tuple[str, str], deque[Paragraph]] = defaultdict(deque)
    for paragraph in live:
        candidates[(paragraph.kind, paragraph.text)].append(paragraph)
    taken = set(essay.paragraphs.values_list("key", flat=True))
    to_update, to_create = [], []
    for position, block in enumerate(blocks):
        matches = candidates.get((block.kind, block.text))
        if matches:
            paragraph = matches.popleft()
            paragraph.position, paragraph.html = position, block.html
            to_update.append(paragraph)
        else:
            to_create.append(_new_paragraph(essay, block, position, new_paragraph_key(taken)))
    to_retire = [p for queue in candidates.values() for p in queue]
    for paragraph in to_retire:
        paragraph.retired_in = essay.revision
    Paragraph.objects.bulk_update(to_update + to_retire, ["position", "html", "retired_in"])
    Paragraph.objects.bulk_create(to_create)
    return len(to_update), len(to_create), len(to_retire)
