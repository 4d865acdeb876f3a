from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from essays.models import Essay, Paragraph

from .quotes import QUOTE_CONTEXT_STORED, QUOTE_MAX_LENGTH


class CommentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Comment.Status.PUBLISHED)

    def awaiting_review_by(self, author, *, essay):
        """`author`'s comments on `essay` that wait for a moderator (shown to them alone)."""
        return self.filter(essay=essay, author=author, status=Comment.Status.PENDING)

    def on_whole_essay(self, essay: Essay):
        return self.filter(essay=essay, paragraph__isnull=True)

    def on_paragraph(self, paragraph: Paragraph):
        return self.filter(essay_id=paragraph.essay_id, paragraph=paragraph)

    def shown_in_threads(self, viewer=None, *, moderator: bool = False):
        """Published comments, the placeholders that keep replies in place, and what only
        this viewer may see: their own comments awaiting review, or everything for a
        moderator."""
        if moderator:
            return self.all()
        visible = models.Q(status__in=PLACEHOLDER_STATUSES + [Comment.Status.PUBLISHED])
        # A comment sent back to review after it was answered (an edit, an approval undone)
        # keeps its place for its published replies, as a placeholder: hiding it would hide
        # what others wrote under it (see Comment.is_placeholder_for).
        answered = self.model._base_manager.filter(
            parent_id=models.OuterRef("pk"), status=Comment.Status.PUBLISHED
        )
        visible |= models.Q(status=Comment.Status.PENDING) & models.Exists(answered)
        if viewer is not None and viewer.is_authenticated:
            visible |= models.Q(status=Comment.Status.PENDING, author=viewer)
        return self.filter(visible)

    # A change to comments is a change to the pages of their essays: see
    # Essay.discussion_version. (Model.save does not come through here; Comment.save does.)
    def update(self, **kwargs):
        essay_ids = set(self.values_list("essay_id", flat=True).order_by())
        count = super().update(**kwargs)
        Essay.objects.filter(pk__in=essay_ids).discussion_changed()
        return count

    def delete(self):
        essay_ids = set(self.values_list("essay_id", flat=True).order_by())
        deleted = super().delete()
        Essay.objects.filter(pk__in=essay_ids).discussion_changed()
        return deleted

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        Essay.objects.filter(pk__in={comment.essay_id for comment in created}).discussion_changed()
        return created


class Comment(models.Model):
    class AnchorStatus(models.TextChoices):
        """What a revision did to the paragraph a comment discusses."""

        PLACED = "placed", _("placed")  # the paragraph's text is as it was
        MOVED = "moved", _("moved")  # changed or moved: the comment shows the old text
        ORPHANED = "orphaned", _("orphaned")  # retired: under "On earlier versions"

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        PENDING = "pending", _("Awaiting review")
        REMOVED = "removed", _("Removed by a moderator")
        DELETED = "deleted", _("Deleted by its author")
        HIDDEN = "hidden", _("Hidden pending review")

    essay = models.ForeignKey(Essay, on_delete=models.CASCADE, related_name="comments")
    # Null: a comment on the whole essay. Paragraphs are retired, never deleted.
    paragraph = models.ForeignKey(
        Paragraph, on_delete=models.RESTRICT, null=True, blank=True, related_name="comments"
    )
    # The paragraph's text when the comment was written, and what became of the anchor
    # when the essay was revised since (set at publication time, never on a page view).
    anchor_text = models.TextField(_("paragraph text when written"), blank=True)
    anchor_revision = models.PositiveIntegerField(_("essay revision when written"), default=1)
    anchor_status = models.CharField(
        max_length=10,
        choices=AnchorStatus,
        default=AnchorStatus.PLACED,
    )
    # An optional exact passage of the paragraph, with a little context on each side.
    quote = models.CharField(_("quoted passage"), max_length=QUOTE_MAX_LENGTH, blank=True)
    quote_prefix = models.CharField(max_length=QUOTE_CONTEXT_STORED, blank=True)
    quote_suffix = models.CharField(max_length=QUOTE_CONTEXT_STORED, blank=True)
    quote_lost = models.BooleanField(
        _("the passage no longer occurs in the paragraph"), default=False
    )
    # Where the passage is now, once a revision edited it ("collectivisation" corrected to
    # "collectivization"): its text there, while `quote` keeps what the comment answered
    # (empty while the passage still reads as quoted; up to twice as long, as an edit may
    # lengthen it), and its first character in the paragraph's text (null: not known yet,
    # or lost). Set at publication time, with the context around it in quote_prefix/suffix.
    quote_now = models.CharField(
        _("the passage as it reads now"), max_length=2 * QUOTE_MAX_LENGTH, blank=True
    )
    quote_start = models.PositiveIntegerField(
        _("where the passage starts in the paragraph's text"), null=True, blank=True
    )
    # Set on every comment of a thread a moderator put on another paragraph. The thread
    # keeps the text it was written about (anchor_text): readers see what it answered.
    reattached_at = models.DateTimeField(_("re-attached by a moderator at"), null=True, blank=True)
    # Set on a thread's first comment by the essay's editor: the revision that took up what
    # it says (criticism addressed after it was written).
    addressed_in = models.PositiveIntegerField(_("addressed in revision"), null=True, blank=True)
    addressed_at = models.DateTimeField(_("marked addressed at"), null=True, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    # Null for a top-level comment, which is its own thread's root.
    root = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="descendants"
    )
    depth = models.PositiveIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
    )
    # The name an imported response was signed with; empty when the source names nobody.
    author_name = models.CharField(_("author name"), max_length=100, blank=True)
    # Came with an essay's source, or from another site's export, not from an account here.
    imported = models.BooleanField(_("imported"), default=False)
    # Where an imported comment came from ("wxr:881", "disqus:4"): importing the same file
    # again finds it (unique per essay; empty for everything else).
    source_id = models.CharField(_("id in the imported file"), max_length=100, blank=True)
    # The address an imported comment was written under, lower-cased. Only claiming reads
    # it (a member who has confirmed it may claim the comment); it is never shown.
    imported_email = models.EmailField(_("address it was written under"), blank=True)
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(_("body, rendered and sanitized"))
    status = models.CharField(max_length=20, choices=Status, default=Status.PUBLISHED)
    # The public reason a moderator gave for a removal, shown in the placeholder.
    removal_reason = models.CharField(_("public removal reason"), max_length=100, blank=True)
    # Set on a thread's root comment: no new replies anywhere in the thread.
    locked_at = models.DateTimeField(null=True, blank=True)
    # Null for responses imported from a source that gives no date: we invent none.
    created = models.DateTimeField(default=timezone.now, null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["essay", "paragraph", "status"]),
            models.Index(fields=["root"]),
            # A post looks for the same post just made by its author (a double click).
            models.Index(fields=["author", "created"]),
            models.Index(
                fields=["imported_email"],
                condition=~models.Q(imported_email=""),
                name="comment_imported_email",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["essay", "source_id"],
                condition=~models.Q(source_id=""),
                name="comment_source_id_unique_per_essay",
            )
        ]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self):
        return f"Comment {self.pk} by {self.author_display}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Essay.objects.filter(pk=self.essay_id).discussion_changed()

    def get_absolute_url(self):
        """Where the comment is read in context. A comment on a paragraph that a revision
        retired lives on its own page, with the text it was written about."""
        if self.paragraph_id and not self.paragraph.is_live:
            return reverse("discussion:comment_permalink", kwargs={"pk": self.pk})
        if self.paragraph_id:
            return f"{self.paragraph.get_absolute_url()}#{self.anchor}"
        return f"{self.essay.get_absolute_url()}#{self.anchor}"

    def delete(self, *args, **kwargs):
        essay_id = self.essay_id
        deleted = super().delete(*args, **kwargs)
        Essay.objects.filter(pk=essay_id).discussion_changed()
        return deleted

    @property
    def anchor(self) -> str:
        return f"c-{self.pk}"

    @staticmethod
    def place_in_thread(parent: "Comment | None") -> dict:
        """Where a new comment sits in its thread: a reply joins its parent's thread (same
        root, one level deeper); a top-level comment is its own thread's root."""
        if parent is None:
            return {"parent": None, "root": None, "depth": 0}
        return {"parent": parent, "root": parent.root or parent, "depth": parent.depth + 1}

    @property
    def thread_root_id(self) -> int:
        return self.root_id or self.pk

    @property
    def author_display(self) -> str:
        if self.author_id:
            return str(self.author)
        if self.imported:
            return self.author_name or _("An unnamed reader")
        return _("A former member")

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def passage(self) -> str:
        """The quoted passage as the paragraph reads now: the quote, unless a revision
        edited it (then it is found where quote_start says, with the context kept)."""
        return self.quote_now or self.quote

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_removed(self) -> bool:
        return self.status == self.Status.REMOVED

    @property
    def is_deleted(self) -> bool:
        return self.status == self.Status.DELETED

    @property
    def is_editable_by_author(self) -> bool:
        """Its author may still edit or delete it (published or awaiting review)."""
        return self.status in (self.Status.PUBLISHED, self.Status.PENDING)

    @property
    def shows_old_anchor_text(self) -> bool:
        """A thread shows the text it was written about where its paragraph no longer reads
        so: the paragraph changed, or a moderator put the thread on another paragraph (which
        a later revision may have retired: its group then shows that paragraph's text)."""
        if self.depth != 0 or not self.anchor_text:
            return False
        if self.anchor_status == self.AnchorStatus.MOVED:
            return True
        return self.reattached_at is not None and self.anchor_status == self.AnchorStatus.ORPHANED

    @property
    def is_addressable(self) -> bool:
        """Whether an editor may mark it addressed: a published thread's first comment."""
        return self.parent_id is None and self.status == self.Status.PUBLISHED

    @property
    def is_placeholder(self) -> bool:
        """Shown to readers as a placeholder (the thread keeps its shape)."""
        return self.status in PLACEHOLDER_STATUSES

    def is_placeholder_for(self, viewer) -> bool:
        """Shown to `viewer` (not a moderator) as a placeholder: a removed, hidden or deleted
        comment, or one awaiting review that is not theirs (shown at all only to keep the
        replies it already had in their place)."""
        if self.is_placeholder:
            return True
        own = viewer is not None and viewer.is_authenticated and viewer.pk == self.author_id
        return self.status == self.Status.PENDING and not own

    @property
    def placeholder_text(self) -> str:
        if self.status == self.Status.REMOVED and self.removal_reason:
            return _("Removed by a moderator: %(reason)s") % {"reason": self.removal_reason}
        return self.get_status_display()


PLACEHOLDER_STATUSES = [Comment.Status.DELETED, Comment.Status.REMOVED, Comment.Status.HIDDEN]


class CommentRevision(models.Model):
    """An earlier version of an edited comment, kept for moderators."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    body_html = models.TextField()
    written_at = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["comment", "replaced_at"]
        verbose_name = _("earlier version of a comment")
        verbose_name_plural = _("earlier versions of comments")

    def __str__(self):
        return f"Comment {self.comment_id} as of {self.replaced_at:%Y-%m-%d %H:%M}"


class Guidelines(models.Model):
    """The community guidelines: one text, in Markdown, that the site owner edits in the
    admin. Rendered and sanitized when saved (`services.guidelines_edit`), with its sections'
    anchors, so that a removal's public reason can point to one."""

    body = models.TextField(
        _("text (Markdown)"),
        help_text=_(
            "Each heading starts a section with its own address (/guidelines/#be-civil). End "
            "a heading with {#anchor} to choose it: a section whose anchor is a public "
            "removal reason's code (spam, abuse, hate, off-topic, other) is where removals "
            "for that reason point."
        ),
    )
    body_html = models.TextField(editable=False)
    # [[anchor, title], ...] in the text's order.
    sections = models.JSONField(default=list, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("community guidelines")
        verbose_name_plural = _("community guidelines")

    def __str__(self):
        return str(_("Community guidelines"))

    def get_absolute_url(self):
        return reverse("discussion:guidelines")

    @classmethod
    def current(cls) -> "Guidelines | None":
        return cls.objects.order_by("pk").first()

    def has_section(self, anchor: str) -> bool:
        return any(section[0] == anchor for section in self.sections)
