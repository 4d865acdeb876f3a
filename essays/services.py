import re
import secrets
import sqlite3
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.refusals import Refused

from .models import Essay, EssayRevision, Paragraph, PublicationJob, RevisionBlock, revision_summary
from .reanchoring import New, Old, Plan, plan_revision
from .rendering import SLUG, Block, EssayDocument, EssaySourceError, parse_essay, parse_front_matter
from .signals import essay_revised

KEY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o or 1/l: keys get read aloud and typed
KEY_LENGTH = 8
# Rows written per query: within SQLite's oldest limit on parameters (999) at four a row.
PARAGRAPHS_PER_QUERY = 240
BLANK_LINES = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class ImportResult:
    essay: Essay
    created: bool
    revised: bool
    kept: int
    added: int
    retired: int

    @property
    def summary(self) -> str:
        return revision_summary(
            revised=self.revised,
            revision=self.essay.revision,
            kept=self.kept,
            added=self.added,
            retired=self.retired,
        )


class PublicationStale(Refused):
    """The essay was revised after the revision to publish was previewed."""

    def __init__(self, essay: Essay):
        super().__init__(
            _(
                "The essay was revised since this preview (it is now at revision "
                "%(revision)s): nothing was published. Preview the source again."
            )
            % {"revision": essay.revision},
            status=409,
        )


def new_paragraph_key(taken: set[str]) -> str:
    while True:
        key = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
        if key not in taken:
            taken.add(key)
            return key


def essay_document(source: str) -> EssayDocument:
    """Parse a source once, its footnote links pointing at the essay its front matter names."""
    source = source.replace("\r\n", "\n")
    slug = parse_front_matter(source)[0].get("slug", "")
    # An unusable slug has no address: parse_essay then says what is wrong with it.
    url = Essay(slug=slug).get_absolute_url() if SLUG.fullmatch(slug) else ""
    return parse_essay(source, url=url)


@transaction.atomic
def essay_import(
    *,
    source: str,
    publish: bool = True,
    document: EssayDocument | None = None,
    onto_revision: int | None = None,
    planned: tuple[list[Paragraph], Plan | None] | None = None,
) -> ImportResult:
    """Create or update the essay a Markdown source describes, keeping paragraph keys.

    A live paragraph whose kind and text reappear keeps its key (and everything attached to
    it); a new block gets a new key; a paragraph that disappeared is retired in the new
    revision, never deleted. Importing an unchanged source changes nothing at all.

    Callers that parsed the source already pass its `document`; `onto_revision` refuses
    (PublicationStale) to revise an essay that is no longer at that revision; `planned`,
    the live paragraphs and the plan computed for them outside this transaction, spares
    planning again (the essay must still be at `onto_revision`).
    """
    document = document or essay_document(source)
    essay = Essay.objects.select_for_update().filter(slug=document.slug).first()
    created = essay is None
    if created:
        if onto_revision is not None:
            raise EssaySourceError(_("The source names no existing essay."))
        essay = Essay(slug=document.slug, revision=1)
    elif onto_revision is not None and essay.revision != onto_revision:
        raise PublicationStale(essay)
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

    if planned is None:
        live = list(essay.paragraphs.live().order_by("position"))
        plan = _plan(live, document.blocks)
    else:
        # Planned against `onto_revision`, checked above: paragraphs change only by revision.
        live, plan = planned
    if plan is None:
        if essay_changed:
            essay.full_clean()
            essay.save()
        return ImportResult(essay, False, False, len(live), 0, 0)

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


def essay_revise(
    *, editor, essay: Essay, source: str, onto_revision: int | None = None
) -> ImportResult:
    """An editor publishes a revision of `essay` from the site (the command needs no editor),
    within this request."""
    check_can_publish(editor)
    document = essay_document(source)
    if document.slug != essay.slug:
        raise EssaySourceError(_("The source's slug names another essay."))
    return essay_import(source=source, document=document, onto_revision=onto_revision)


def revision_publish(
    *, editor, essay: Essay, source: str, onto_revision: int | None
) -> ImportResult | PublicationJob:
    """Publish the previewed `source` onto the revision it was previewed against: at once for
    an essay up to PUBLISH_IN_WORKER_ABOVE paragraphs (before or after), else through a
    publication job for the task worker, returned queued.

    Deciding costs no Markdown parsing: the new version's size is estimated from its blank
    lines, and a big source is parsed (and found wrong, if it is) by the worker alone."""
    check_can_publish(editor)
    meta, body = parse_front_matter(source.replace("\r\n", "\n"))
    if meta.get("slug") != essay.slug:
        raise EssaySourceError(_("The source's slug names another essay."))
    if onto_revision != essay.revision:
        raise PublicationStale(essay)
    old_paragraphs = essay.paragraphs.live().count()
    if max(old_paragraphs, _estimated_blocks(body)) <= settings.PUBLISH_IN_WORKER_ABOVE:
        return essay_revise(editor=editor, essay=essay, source=source, onto_revision=onto_revision)
    return _publication_enqueue(
        editor=editor, essay=essay, source=source, old_paragraphs=old_paragraphs
    )


def _estimated_blocks(body: str) -> int:
    """About how many blocks a Markdown body makes: its chunks between blank lines."""
    return sum(1 for chunk in BLANK_LINES.split(body) if chunk.strip())


@transaction.atomic
def _publication_enqueue(*, editor, essay, source, old_paragraphs) -> PublicationJob:
    from .tasks import publish_revision

    job = PublicationJob.objects.create(
        essay=essay,
        editor=editor,
        source=source,
        base_revision=essay.revision,
        old_paragraphs=old_paragraphs,
    )
    # The database backend enqueues within this transaction: the job and its task are
    # stored together or not at all, and the worker sees neither before the commit.
    job.task_id = str(publish_revision.enqueue(job.pk).id)
    job.save(update_fields=["task_id"])
    return job


def publication_run(*, job_id: int) -> PublicationJob | None:
    """Publish a job's revision (the worker's work): plan outside any transaction, saying
    so on the job, then apply the plan and record the outcome in one transaction, so that
    the job is done exactly when the revision is published. A stale or invalid job fails
    with its reason and changes nothing else. Running it again after it finished does
    nothing; after a worker died halfway, it starts afresh."""
    job = _publication_claim(job_id)
    if job is None:
        return None
    try:
        document = essay_document(job.source)
        essay = job.essay
        if document.slug != essay.slug:
            raise EssaySourceError(_("The source's slug names another essay."))
        if essay.revision != job.base_revision:
            raise PublicationStale(essay)
        job.new_paragraphs = len(document.blocks)
        job.save(update_fields=["new_paragraphs"])
        live = list(essay.paragraphs.live().order_by("position"))
        plan = _plan(live, document.blocks)
        _publication_stage(job, PublicationJob.Stage.APPLYING)
        with transaction.atomic():
            result = essay_import(
                source=job.source,
                document=document,
                onto_revision=job.base_revision,
                planned=(live, plan),
            )
            job.status, job.stage = PublicationJob.Status.DONE, PublicationJob.Stage.FINISHED
            job.revised, job.revision = result.revised, result.essay.revision
            job.kept, job.added, job.retired = result.kept, result.added, result.retired
            job.finished = timezone.now()
            job.save()
    except Refused as refusal:
        _publication_fail(job, refusal.message)
    except EssaySourceError as error:
        _publication_fail(job, str(error))
    except Exception:
        _publication_fail(
            job, _("The publication failed unexpectedly; nothing was published. Try again.")
        )
        raise
    return job


def access_publication_job(*, user, slug: str, job_id: int) -> PublicationJob:
    """A publication job of the essay `slug`, for an editor; 404 if absent, Refused if not
    an editor. A job whose task the worker gave up on reads as failed."""
    check_can_publish(user)
    job = get_object_or_404(
        PublicationJob.objects.select_related("essay"), pk=job_id, essay__slug=slug
    )
    if not job.is_finished and _task_gave_up(job):
        job.status = PublicationJob.Status.FAILED
        job.failure = _("The task worker could not finish the publication; nothing was published.")
    return job


def _task_gave_up(job: PublicationJob) -> bool:
    from django_tasks.base import TaskResultStatus
    from django_tasks.exceptions import TaskResultDoesNotExist

    from .tasks import publish_revision

    if not job.task_id:
        return False
    try:
        return publish_revision.get_result(job.task_id).status == TaskResultStatus.FAILED
    except TaskResultDoesNotExist:
        return False


@transaction.atomic
def _publication_claim(job_id: int) -> PublicationJob | None:
    job = (
        PublicationJob.objects.select_for_update(of=("self",))
        .select_related("essay")
        .filter(pk=job_id)
        .first()
    )
    if job is None or job.is_finished:
        return None
    job.status, job.stage = PublicationJob.Status.RUNNING, PublicationJob.Stage.MATCHING
    job.started = timezone.now()
    job.save(update_fields=["status", "stage", "started"])
    return job


def _publication_stage(job: PublicationJob, stage: str) -> None:
    # Committed at once (no transaction here): the progress page reads it meanwhile.
    job.stage = stage
    job.save(update_fields=["stage"])


def _publication_fail(job: PublicationJob, reason: str) -> None:
    job.status, job.stage = PublicationJob.Status.FAILED, PublicationJob.Stage.FINISHED
    job.failure, job.finished = reason, timezone.now()
    job.save(update_fields=["status", "stage", "failure", "finished"])


def preview_revision(*, source: str) -> tuple[Essay, list[Paragraph], Plan, list[Block]]:
    """What importing `source` would do to an existing essay, without doing it."""
    document = essay_document(source)
    essay = Essay.objects.get(slug=document.slug)
    live = list(essay.paragraphs.live().order_by("position"))
    plan = plan_revision(
        [Old(p.key, p.kind, p.text) for p in live], [New(b.kind, b.text) for b in document.blocks]
    )
    return essay, live, plan, document.blocks


def _plan(live: list[Paragraph], blocks: list[Block]) -> Plan | None:
    """How the live paragraphs become the new blocks; None when nothing would change."""
    if [(p.kind, p.html) for p in live] == [(b.kind, b.html) for b in blocks]:
        return None
    return plan_revision(
        [Old(p.key, p.kind, p.text) for p in live], [New(b.kind, b.text) for b in blocks]
    )


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
    """Keys follow their paragraphs; new blocks get new keys; the rest retire. A constant
    number of queries (a few per thousand paragraphs), whatever the essay's length."""
    taken = set(essay.paragraphs.values_list("key", flat=True))
    to_update, to_create = [], []
    changed, moved = set(), set()
    for position, (block, source) in enumerate(zip(blocks, plan.sources, strict=True)):
        if source is None:
            to_create.append(_new_paragraph(essay, block, position, new_paragraph_key(taken)))
            continue
        paragraph = live[source]
        if (paragraph.position, paragraph.html, paragraph.text) != (
            position,
            block.html,
            block.text,
        ):
            paragraph.position, paragraph.html, paragraph.text = position, block.html, block.text
            to_update.append(paragraph)
        if position in plan.changed:
            changed.add(paragraph)
        if position in plan.moved:
            moved.add(paragraph)
    # Merged paragraphs retire too (one key per paragraph); their discussion follows.
    to_retire = [live[i] for i in plan.ending]
    for paragraph in to_retire:
        paragraph.retired_in = essay.revision
    Paragraph.objects.filter(pk__in=[p.pk for p in to_retire]).update(retired_in=essay.revision)
    _update_paragraphs(to_update)
    Paragraph.objects.bulk_create(to_create, batch_size=PARAGRAPHS_PER_QUERY)
    by_block = _paragraphs_by_block(essay, live, plan, to_create)
    revision = _record_revision(
        essay,
        summary={
            "added": [p.key for p in to_create],
            "changed": [p.key for p in changed],
            "moved": [p.key for p in moved],
            "removed": [p.key for p in to_retire],
            "merged": [
                {"into": by_block[j].key, "from": [live[i].key for i in olds]}
                for j, olds in sorted(plan.merged.items())
            ],
            "split": [
                {"from": live[i].key, "into": [by_block[j].key for j in parts]}
                for i, parts in sorted(plan.split.items())
            ],
        },
    )
    essay_revised.send(
        sender=Essay,
        essay=essay,
        revision=revision,
        changed={p.pk for p in changed},
        moved={p.pk for p in moved},
        retired={live[i].pk for i in plan.retired},
        followed={live[i].pk: by_block[j].pk for i, j in plan.merged_into.items()},
        parts={live[i].pk: [by_block[j].pk for j in parts] for i, parts in plan.split.items()},
    )
    return len(live) - len(to_retire), len(to_create), len(to_retire)


def _paragraphs_by_block(essay, live, plan, created) -> dict[int, Paragraph]:
    """The paragraph of each new block that a merge or a split names, with its id."""
    named = set(plan.merged) | {j for parts in plan.split.values() for j in parts}
    if not named:
        return {}
    created_for = {j: n for n, j in enumerate(plan.added)}  # `created` is in block order
    by_block = {j: created[created_for[j]] for j in named if plan.sources[j] is None}
    by_block.update({j: live[plan.sources[j]] for j in named if plan.sources[j] is not None})
    if any(p.pk is None for p in by_block.values()):  # a database that returns no ids
        ids = dict(essay.paragraphs.live().values_list("key", "pk"))
        for paragraph in by_block.values():
            paragraph.pk = paragraph.pk or ids[paragraph.key]
    return by_block


def _update_paragraphs(paragraphs: list[Paragraph]) -> None:
    """Write the position, HTML and text of many paragraphs, a batch per query.

    Why not bulk_update: it writes one CASE WHEN per row and field, which costs Django
    milliseconds per row to build and the database a scan of the whole CASE per row (about
    20 s for a 5,000-paragraph book). UPDATE ... FROM a list of values (PostgreSQL; SQLite
    from 3.33) is a join: linear."""
    if not paragraphs:
        return
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33):
        Paragraph.objects.bulk_update(
            paragraphs, ["position", "html", "text"], batch_size=PARAGRAPHS_PER_QUERY
        )
        return
    quote = connection.ops.quote_name
    table = quote(Paragraph._meta.db_table)
    pk, position, html, text = (quote(name) for name in ("id", "position", "html", "text"))
    row = "(CAST(%s AS bigint), CAST(%s AS integer), CAST(%s AS text), CAST(%s AS text))"
    with connection.cursor() as cursor:
        for start in range(0, len(paragraphs), PARAGRAPHS_PER_QUERY):
            batch = paragraphs[start : start + PARAGRAPHS_PER_QUERY]
            values = ", ".join([row] * len(batch))
            # Only quoted names of our own model and placeholders go into the text.
            cursor.execute(
                f"WITH incoming ({pk}, {position}, {html}, {text}) AS (VALUES {values}) "  # noqa: S608
                f"UPDATE {table} SET {position} = incoming.{position}, "
                f"{html} = incoming.{html}, {text} = incoming.{text} "
                f"FROM incoming WHERE {table}.{pk} = incoming.{pk}",
                [value for p in batch for value in (p.pk, p.position, p.html, p.text)],
            )


def _record_revision(essay: Essay, *, summary: dict) -> EssayRevision:
    """Keep the revision, with a copy of its live paragraphs."""
    revision = EssayRevision.objects.create(
        essay=essay,
        number=essay.revision,
        title=essay.title,
        alternate_title=essay.alternate_title,
        attribution=essay.attribution,
        source=essay.source,
        summary=summary,
    )
    # Copied within the database (INSERT ... SELECT, one statement): a book's paragraphs
    # need not travel to Python and back, which took seconds through bulk_create.
    quote = connection.ops.quote_name

    def column(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    copied = ["position", "kind", "html", "text"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(RevisionBlock._meta.db_table)} "  # noqa: S608 (names only)
            f"({column(RevisionBlock, 'revision')}, {column(RevisionBlock, 'paragraph')}, "
            f"{', '.join(column(RevisionBlock, name) for name in copied)}) "
            f"SELECT %s, {column(Paragraph, 'id')}, "
            f"{', '.join(column(Paragraph, name) for name in copied)} "
            f"FROM {quote(Paragraph._meta.db_table)} "
            f"WHERE {column(Paragraph, 'essay')} = %s "
            f"AND {column(Paragraph, 'retired_in')} IS NULL",
            [revision.pk, essay.pk],
        )
    return revision
