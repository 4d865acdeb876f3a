import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.refusals import Refused

from .models import Essay, EssayRevision, Paragraph, RevisionBlock
from .reanchoring import New, Old, Plan, plan_revision
from .rendering import Block, EssaySourceError, parse_essay
from .signals import essay_revised

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
        _record_revision(essay, summary={})
        return ImportResult(essay, True, False, 0, len(document.blocks), 0)

    live = list(essay.paragraphs.live().order_by("position"))
    if [(p.kind, p.html) for p in live] == [(b.kind, b.html) for b in document.blocks]:
        if essay_changed:
            essay.full_clean()
            essay.save()
        return ImportResult(essay, False, False, len(live), 0, 0)

    plan = plan_revision(
        [Old(p.key, p.kind, p.text) for p in live], [New(b.kind, b.text) for b in document.blocks]
    )
    essay.revision += 1
    essay.revised_at = timezone.now()
    essay.full_clean()
    essay.save()
    kept, added, retired = _apply_plan(essay, live, document.blocks, plan)
    return ImportResult(essay, False, True, kept, added, retired)


def check_can_publish(editor) -> None:
    """Only editors (the essays.change_essay permission) publish revisions from the site."""
    if not editor.has_perm("essays.change_essay"):
        raise Refused(_("Only the site’s editors can publish a revision of an essay."), status=403)


def essay_revise(*, editor, essay: Essay, source: str) -> ImportResult:
    """An editor publishes a revision of `essay` from the site (the command needs no editor)."""
    check_can_publish(editor)
    if parse_essay(source).slug != essay.slug:
        raise EssaySourceError(_("The source's slug names another essay."))
    return essay_import(source=source)


def preview_revision(*, source: str) -> tuple[Essay, list[Paragraph], Plan, list[Block]]:
    """What importing `source` would do to an existing essay, without doing it."""
    slug = parse_essay(source).slug
    document = parse_essay(source, url=Essay(slug=slug).get_absolute_url())
    essay = Essay.objects.get(slug=slug)
    live = list(essay.paragraphs.live().order_by("position"))
    plan = plan_revision(
        [Old(p.key, p.kind, p.text) for p in live], [New(b.kind, b.text) for b in document.blocks]
    )
    return essay, live, plan, document.blocks


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


def _apply_plan(essay: Essay, live: list[Paragraph], blocks: list[Block], plan: Plan):
    """Keys follow their paragraphs; new blocks get new keys; the rest retire."""
    taken = set(essay.paragraphs.values_list("key", flat=True))
    to_update, to_create = [], []
    changed, moved = set(), set()
    for position, (block, source) in enumerate(zip(blocks, plan.sources, strict=True)):
        if source is None:
            to_create.append(_new_paragraph(essay, block, position, new_paragraph_key(taken)))
            continue
        paragraph = live[source]
        paragraph.position, paragraph.html, paragraph.text = position, block.html, block.text
        to_update.append(paragraph)
        if position in plan.changed:
            changed.add(paragraph)
        if position in plan.moved:
            moved.add(paragraph)
    to_retire = [live[i] for i in plan.retired]
    for paragraph in to_retire:
        paragraph.retired_in = essay.revision
    Paragraph.objects.bulk_update(to_update + to_retire, ["position", "html", "text", "retired_in"])
    Paragraph.objects.bulk_create(to_create)
    revision = _record_revision(
        essay,
        summary={
            "added": [p.key for p in to_create],
            "changed": [p.key for p in changed],
            "moved": [p.key for p in moved],
            "removed": [p.key for p in to_retire],
        },
    )
    essay_revised.send(
        sender=Essay,
        essay=essay,
        revision=revision,
        changed={p.pk for p in changed},
        moved={p.pk for p in moved},
        retired={p.pk for p in to_retire},
    )
    return len(to_update), len(to_create), len(to_retire)


def _record_revision(essay: Essay, *, summary: dict) -> EssayRevision:
    revision = EssayRevision.objects.create(
        essay=essay,
        number=essay.revision,
        title=essay.title,
        alternate_title=essay.alternate_title,
        attribution=essay.attribution,
        source=essay.source,
        summary=summary,
    )
    RevisionBlock.objects.bulk_create(
        RevisionBlock(
            revision=revision,
            paragraph=paragraph,
            position=paragraph.position,
            kind=paragraph.kind,
            html=paragraph.html,
            text=paragraph.text,
        )
        for paragraph in essay.paragraphs.live().order_by("position")
    )
    return revision
