from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .states import essay_states_changed


class EssayQuerySet(models.QuerySet):
    def published(self, *, now=None):
        return self.filter(status=Essay.Status.PUBLISHED, published_at__lte=now or timezone.now())

    def discussion_changed(self) -> int:
        """Say that what readers see of these essays has changed: their cached pages are
        no longer the pages (see Essay.discussion_version and states.py)."""
        # One statement, which also names the essays and the versions it made (every post
        # comes through here: the ORM's update returns no rows, and would cost a read too).
        try:
            essays, params = self.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # filtered on nothing (pk__in=[]): no essay changed
            return 0
        connection = connections[self.db]
        table = connection.ops.quote_name(Essay._meta.db_table)
        version = connection.ops.quote_name("discussion_version")
        # Quoted names and SQL the ORM made: no input is spliced in (S608).
        statement = (
            f"UPDATE {table} SET {version} = {version} + 1 "  # noqa: S608
            f"WHERE {connection.ops.quote_name('id')} IN ({essays}) "
            f"RETURNING {connection.ops.quote_name('slug')}, {version}"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            versions = dict(cursor.fetchall())
        essay_states_changed(versions)
        return len(versions)


class Essay(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    title = models.CharField(_("title"), max_length=300)
    alternate_title = models.CharField(_("alternate title"), max_length=300, blank=True)
    attribution = models.CharField(
        _("attribution"), max_length=200, blank=True, help_text=_("Exactly as the source signs it.")
    )
    source = models.TextField(_("Markdown source"))
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    comments_open = models.BooleanField(_("comments open"), default=True)
    premoderated = models.BooleanField(
        _("pre-moderated"), default=False, help_text=_("Every comment waits for a moderator.")
    )
    revision = models.PositiveIntegerField(_("current revision"), default=1)
    revised_at = models.DateTimeField(_("last revised at"), null=True, blank=True)
    # Names the cached reading page: bumped, atomically and in the writer's transaction,
    # whenever what readers see of the essay changes (its own save, and every save or update
    # of its comments: forum/discussion/models.py). Only ever written by F() + 1.
    discussion_version = models.PositiveBigIntegerField(default=0, editable=False)

    objects = EssayQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "title"]
        verbose_name = _("essay")
        verbose_name_plural = _("essays")

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self._state.adding and kwargs.get("update_fields") is None:
            # Never write back a version read earlier: another writer may have bumped it.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "discussion_version"
            ]
        super().save(*args, **kwargs)
        Essay.objects.filter(pk=self.pk).discussion_changed()

    def get_absolute_url(self):
        return reverse("discussion:essay_detail", kwargs={"slug": self.slug})

    @property
    def is_published(self) -> bool:
        """What `EssayQuerySet.published` selects, for an essay already loaded."""
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )


class ParagraphQuerySet(models.QuerySet):
    def live(self):
        return self.filter(retired_in__isnull=True)

    def commentable(self):
        return self.exclude(kind__in=Paragraph.UNCOMMENTABLE_KINDS)


class Paragraph(models.Model):
    """One addressable block of an essay; its `key` is its anchor for good."""

    class Kind(models.TextChoices):
        PARAGRAPH = "paragraph", _("Paragraph")
        HEADING = "heading", _("Heading")
        BLOCKQUOTE = "blockquote", _("Block quote")
        LIST = "list", _("List")
        FOOTNOTE = "footnote", _("Footnote")
        # A horizontal rule ("* * *"): it separates blocks and is not one to discuss. It has
        # a key like every row, but no anchor on the page, no margin and no discussion.
        SEPARATOR = "separator", _("Separator")

    # Headings are discussed with the text under them; a separator has nothing to discuss.
    UNCOMMENTABLE_KINDS = (Kind.HEADING, Kind.SEPARATOR)

    essay = models.ForeignKey(Essay, on_delete=models.CASCADE, related_name="paragraphs")
    key = models.CharField(_("key"), max_length=16)
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    html = models.TextField(_("HTML, rendered at import"))
    text = models.TextField(_("plain text"))
    added_in = models.PositiveIntegerField(_("added in revision"), default=1)
    retired_in = models.PositiveIntegerField(
        _("retired in revision"), null=True, blank=True, help_text=_("Empty while live.")
    )

    objects = ParagraphQuerySet.as_manager()

    class Meta:
        ordering = ["essay", "position"]
        constraints = [
            models.UniqueConstraint(fields=["essay", "key"], name="paragraph_key_unique_per_essay")
        ]
        indexes = [models.Index(fields=["essay", "retired_in", "position"])]
        verbose_name = _("paragraph")
        verbose_name_plural = _("paragraphs")

    def __str__(self):
        return f"{self.essay.slug} #p-{self.key}"

    def get_absolute_url(self):
        return reverse(
            "discussion:paragraph_detail", kwargs={"slug": self.essay.slug, "key": self.key}
        )

    @property
    def anchor(self) -> str:
        return f"p-{self.key}"

    @property
    def is_commentable(self) -> bool:
        return self.kind not in self.UNCOMMENTABLE_KINDS

    @property
    def is_separator(self) -> bool:
        return self.kind == self.Kind.SEPARATOR

    @property
    def is_live(self) -> bool:
        return self.retired_in is None

    def live_successor(self) -> "Paragraph | None":
        """The live paragraph this retired one was joined into (its discussion followed it
        there), through any later joins; None if it left the essay without one. A query
        or two for each revision it passed through."""
        paragraph, seen = self, set()
        while paragraph is not None and not paragraph.is_live and paragraph.pk not in seen:
            seen.add(paragraph.pk)
            summary = (
                EssayRevision.objects.filter(
                    essay_id=paragraph.essay_id, number=paragraph.retired_in
                )
                .values_list("summary", flat=True)
                .first()
            ) or {}
            into = next(
                (m["into"] for m in summary.get("merged", []) if paragraph.key in m["from"]), None
            )
            paragraph = (
                Paragraph.objects.filter(essay_id=paragraph.essay_id, key=into).first()
                if into
                else None
            )
        return paragraph if paragraph is not None and paragraph.is_live else None


class EssayRevision(models.Model):
    """One published version of an essay: its source, its blocks and what changed."""

    essay = models.ForeignKey(Essay, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    alternate_title = models.CharField(max_length=300, blank=True)
    attribution = models.CharField(max_length=200, blank=True)
    source = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    # Keys of the paragraphs "added", "changed", "moved" and "removed" by this revision;
    # "merged": [{"into": key, "from": [keys]}], paragraphs removed as they joined another
    # (among "removed" too; their discussion followed); "split": [{"from": key, "into":
    # [keys]}], a paragraph whose text went to several (its own key among them, if it went on).
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["essay", "number"]
        constraints = [
            models.UniqueConstraint(fields=["essay", "number"], name="one_revision_number")
        ]

    def __str__(self):
        return f"{self.essay.slug} revision {self.number}"

    def get_absolute_url(self):
        return reverse(
            "essays:revision_detail", kwargs={"slug": self.essay.slug, "number": self.number}
        )


class RevisionBlock(models.Model):
    """A paragraph as it stood in one revision, for reading that revision again."""

    revision = models.ForeignKey(EssayRevision, on_delete=models.CASCADE, related_name="blocks")
    paragraph = models.ForeignKey(Paragraph, on_delete=models.CASCADE, related_name="versions")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Paragraph.Kind)
    html = models.TextField()
    text = models.TextField()

    class Meta:
        ordering = ["revision", "position"]

    def __str__(self):
        return f"{self.revision} #{self.position}"

    @property
    def anchor(self) -> str:
        return f"p-{self.paragraph.key}"

    @property
    def is_separator(self) -> bool:
        return self.kind == Paragraph.Kind.SEPARATOR


def revision_summary(*, revised: bool, revision: int, kept: int, added: int, retired: int) -> str:
    """What an editor is told once a revision is published (in the request or by the worker)."""
    if not revised:
        return _("Nothing changed: no new revision.")
    return _(
        "Published revision %(revision)s: %(kept)s kept, %(added)s added, %(retired)s retired."
    ) % {"revision": revision, "kept": kept, "added": added, "retired": retired}


class PublicationJob(models.Model):
    """A revision an editor asked to publish, too big to publish within a web request: the
    task worker publishes it (essays/tasks.py) and this row tells the editor how it went."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Stage(models.TextChoices):
        WAITING = "waiting", _("Waiting for the worker")
        MATCHING = "matching", _("Matching the paragraphs of both versions")
        APPLYING = "applying", _("Publishing the revision and re-anchoring its comments")
        FINISHED = "finished", _("Finished")

    essay = models.ForeignKey(Essay, on_delete=models.CASCADE, related_name="publication_jobs")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Exactly the source the editor previewed, and the revision it was previewed against:
    # the job publishes that source onto that revision, or nothing.
    source = models.TextField(_("Markdown source"))
    base_revision = models.PositiveIntegerField(_("previewed against revision"))
    old_paragraphs = models.PositiveIntegerField(_("paragraphs before"))
    # Known once the worker has parsed the source.
    new_paragraphs = models.PositiveIntegerField(_("paragraphs after"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.QUEUED)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage, default=Stage.WAITING)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    # The outcome: what ImportResult says, once done; why not, once failed.
    revised = models.BooleanField(default=False)
    revision = models.PositiveIntegerField(null=True, blank=True)
    kept = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0)
    failure = models.TextField(_("why it failed"), blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("publication job")
        verbose_name_plural = _("publication jobs")

    def __str__(self):
        return f"{self.essay.slug}: publication of a revision onto {self.base_revision}"

    def get_absolute_url(self):
        return reverse("essays:publication_detail", kwargs={"slug": self.essay.slug, "pk": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def summary(self) -> str:
        return revision_summary(
            revised=self.revised,
            revision=self.revision or self.base_revision,
            kept=self.kept,
            added=self.added,
            retired=self.retired,
        )
