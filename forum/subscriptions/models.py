from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext_lazy as _

from essays.models import Essay, Paragraph
from forum.discussion.models import Comment


class Subscription(models.Model):
    """A reader's explicit choice about one target: the essay, a paragraph, or a thread.

    No row means the default (quiet, except replies to one's own comments); the most
    specific row wins: thread over paragraph over essay.
    """

    class Level(models.TextChoices):
        FOLLOW = "follow", _("Follow")
        MUTE = "mute", _("Mute")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    essay = models.ForeignKey(Essay, on_delete=models.CASCADE, related_name="+")
    paragraph = models.ForeignKey(
        Paragraph, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # A thread is named by its root comment.
    thread = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    level = models.CharField(max_length=10, choices=Level)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "essay"],
                condition=Q(paragraph__isnull=True, thread__isnull=True),
                name="one_essay_subscription",
            ),
            models.UniqueConstraint(
                fields=["user", "paragraph"],
                condition=Q(paragraph__isnull=False),
                name="one_paragraph_subscription",
            ),
            models.UniqueConstraint(
                fields=["user", "thread"],
                condition=Q(thread__isnull=False),
                name="one_thread_subscription",
            ),
            models.CheckConstraint(
                condition=Q(paragraph__isnull=True) | Q(thread__isnull=True),
                name="subscription_has_one_target",
            ),
        ]
        indexes = [models.Index(fields=["essay", "level"])]

    def __str__(self):
        return f"{self.user} {self.level}s {self.scope}"

    @property
    def scope(self) -> str:
        if self.thread_id:
            return "thread"
        if self.paragraph_id:
            return "paragraph"
        return "essay"


class NotificationSettings(models.Model):
    class Email(models.TextChoices):
        IMMEDIATELY = "immediately", _("At once (replies arriving together come in one email)")
        DAILY = "daily", _("A daily digest")
        NEVER = "never", _("Never")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email = models.CharField(
        _("Email me about new activity"), max_length=20, choices=Email, default=Email.IMMEDIATELY
    )
    follow_on_post = models.BooleanField(_("Follow the threads I post in"), default=True)
    # When an immediate email is already scheduled: later activity joins it.
    email_due_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Notification settings of {self.user}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    class Reason(models.TextChoices):
        REPLY = "reply", _("replied to you")
        THREAD = "thread", _("in a thread you follow")
        PARAGRAPH = "paragraph", _("on a paragraph you follow")
        ESSAY = "essay", _("on an essay you follow")
        HELD = "held", _("your comment is awaiting review")
        APPROVED = "approved", _("your comment was approved")
        REMOVED = "removed", _("your comment was removed")
        HIDDEN = "hidden", _("your comment was hidden after reports")
        RESTORED = "restored", _("your comment was restored")
        SUSPENDED = "suspended", _("you are suspended from posting")
        LIFTED = "lifted", _("your suspension was lifted")
        REPORT_HIDDEN = "report-hidden", _("a comment you reported is hidden")
        REPORT_REMOVED = "report-removed", _("a comment you reported was removed")
        REPORT_KEPT = "report-kept", _("a comment you reported was kept")

    ACTIVITY_REASONS = [Reason.REPLY, Reason.THREAD, Reason.PARAGRAPH, Reason.ESSAY]
    # About the reader's account, not a comment: these have none.
    ACCOUNT_REASONS = [Reason.SUSPENDED, Reason.LIFTED]
    # About a comment the reader reported: its author's, not theirs.
    REPORT_REASONS = [Reason.REPORT_HIDDEN, Reason.REPORT_REMOVED, Reason.REPORT_KEPT]
    # What happened, in a line, for each kind: a comment's author does something, or a
    # moderator (or a rule) decides about the reader's own comment, their account, or a
    # comment they reported. Never who decided.
    HEADLINES = {
        Reason.REPLY: _("%(author)s replied to you"),
        Reason.THREAD: _("%(author)s wrote in a thread you follow"),
        Reason.PARAGRAPH: _("%(author)s commented on a paragraph you follow"),
        Reason.ESSAY: _("%(author)s commented on an essay you follow"),
        Reason.HELD: _("Your comment is awaiting review"),
        Reason.APPROVED: _("Your comment was approved"),
        Reason.REMOVED: _("Your comment was removed"),
        Reason.HIDDEN: _("Your comment was hidden after readers’ reports"),
        Reason.RESTORED: _("Your comment was restored"),
        Reason.SUSPENDED: _("You are suspended from posting"),
        Reason.LIFTED: _("Your suspension was lifted"),
        Reason.REPORT_HIDDEN: _("A comment you reported is hidden"),
        Reason.REPORT_REMOVED: _("A comment you reported was removed"),
        Reason.REPORT_KEPT: _("A comment you reported was kept"),
    }
    # What the headline leaves out: what follows from it, and the moderator's reason.
    EXPLANATIONS = {
        Reason.HELD: _("Until a moderator approves it only you can see it; you will be told."),
        Reason.APPROVED: _("It is published: everyone can read it now."),
        Reason.REMOVED: _("Readers see a placeholder in its place."),
        Reason.HIDDEN: _(
            "Readers see a placeholder until a moderator looks at it; you will be told."
        ),
        Reason.RESTORED: _("It is back on the page: everyone can read it again."),
        Reason.SUSPENDED: _("You can still read and follow discussions, but not comment."),
        Reason.LIFTED: _("You can comment again."),
        Reason.REPORT_HIDDEN: _(
            "Enough readers reported it: it is hidden until a moderator looks at it."
        ),
        Reason.REPORT_REMOVED: _("A moderator removed it. Thank you for your report."),
        Reason.REPORT_KEPT: _(
            "A moderator read it and found it within the guidelines. Thank you for your report."
        ),
    }
    DETAIL_LABELS = {Reason.HELD: _("Why")}
    # Several notifications of one kind in one email.
    SUBJECTS_OF_SEVERAL = {
        Reason.REPLY: _("%(count)s replies to you"),
        Reason.THREAD: _("%(count)s new comments in threads you follow"),
        Reason.PARAGRAPH: _("%(count)s new comments on paragraphs you follow"),
        Reason.ESSAY: _("%(count)s new comments on essays you follow"),
        Reason.HELD: _("%(count)s of your comments are awaiting review"),
        Reason.APPROVED: _("%(count)s of your comments were approved"),
        Reason.REMOVED: _("%(count)s of your comments were removed"),
        Reason.HIDDEN: _("%(count)s of your comments were hidden after readers’ reports"),
        Reason.RESTORED: _("%(count)s of your comments were restored"),
        Reason.SUSPENDED: _("News about your account"),
        Reason.LIFTED: _("News about your account"),
        Reason.REPORT_HIDDEN: _("%(count)s comments you reported are hidden"),
        Reason.REPORT_REMOVED: _("%(count)s comments you reported were removed"),
        Reason.REPORT_KEPT: _("%(count)s comments you reported were kept"),
    }

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # None for news about the reader's account (a suspension, its end).
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason)
    # For moderation outcomes: the public reason given (never a moderator's private note).
    detail = models.TextField(blank=True)
    # The section of the community guidelines that reason points to (an anchor), if any.
    guidelines_section = models.CharField(max_length=60, blank=True)
    # For a suspension: when it ends (None: until a moderator lifts it).
    until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            # One notification per reader and comment, however many reasons apply.
            models.UniqueConstraint(
                fields=["recipient", "comment"],
                condition=Q(reason__in=["reply", "thread", "paragraph", "essay"]),
                name="one_activity_notification",
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return f"To {self.recipient}: {self.get_reason_display()}"

    @property
    def is_activity(self) -> bool:
        return self.reason in self.ACTIVITY_REASONS

    @property
    def is_about_account(self) -> bool:
        return self.reason in self.ACCOUNT_REASONS

    @property
    def is_about_report(self) -> bool:
        return self.reason in self.REPORT_REASONS

    @property
    def points_to_guidelines(self) -> bool:
        """Whether to link the community guidelines: with every removal, hiding and
        suspension."""
        return self.reason in (
            self.Reason.REMOVED,
            self.Reason.HIDDEN,
            self.Reason.SUSPENDED,
            self.Reason.REPORT_REMOVED,
        )

    @property
    def guidelines_url(self) -> str:
        url = reverse("discussion:guidelines")
        return f"{url}#{self.guidelines_section}" if self.guidelines_section else url

    @property
    def until_text(self) -> str:
        """When a suspension ends, as the reader reads it."""
        if self.reason != self.Reason.SUSPENDED:
            return ""
        if self.until is None:
            return str(_("Until a moderator lifts it."))
        when = dateformat.format(timezone.localtime(self.until), "j M Y, H:i T")
        return _("Until %(when)s.") % {"when": when}

    @property
    def headline(self) -> str:
        """What happened, in a line of its kind: "Ada replied to you", "Your comment is
        awaiting review"."""
        author = self.comment.author_display if self.is_activity else ""
        return str(self.HEADLINES[self.reason]) % {"author": author}

    @property
    def headline_in_place(self) -> str:
        """The headline with the essay it happened on, for a line read on its own (a
        subject, the notifications page)."""
        if self.comment_id is None:
            return self.headline
        if self.reason == self.Reason.ESSAY:
            return _("%(author)s commented on “%(essay)s”") % {
                "author": self.comment.author_display,
                "essay": self.comment.essay.title,
            }
        return _("%(headline)s, on “%(essay)s”") % {
            "headline": self.headline,
            "essay": self.comment.essay.title,
        }

    @property
    def explanation(self) -> str:
        return str(self.EXPLANATIONS.get(self.reason, ""))

    @property
    def detail_label(self) -> str:
        """What the detail is ("Why", "Reason"), when there is one."""
        if not self.detail:
            return ""
        return str(self.DETAIL_LABELS.get(self.reason, _("Reason")))

    @property
    def detail_text(self) -> str:
        """The detail as the end of a sentence the templates close with their own stop."""
        return self.detail.rstrip(" .")

    @property
    def summary(self) -> str:
        """The headline, the detail and what follows from it, in a sentence or three."""
        parts = [f"{self.headline}."]
        if self.detail:
            parts.append(f"{self.detail_label}: {self.detail_text}.")
        if self.until_text:
            parts.append(self.until_text)
        if self.explanation:
            parts.append(self.explanation)
        return " ".join(parts)

    @property
    def excerpt_lead(self) -> str:
        """Whose text the excerpt is: the author's who wrote, or the reader's own."""
        if self.is_activity or self.is_about_report:
            return _("%(author)s wrote") % {"author": self.comment.author_display}
        return str(_("Your comment"))
