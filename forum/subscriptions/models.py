from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
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

    ACTIVITY_REASONS = [Reason.REPLY, Reason.THREAD, Reason.PARAGRAPH, Reason.ESSAY]

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason)
    # For moderation outcomes: the reason the moderator gave.
    detail = models.TextField(blank=True)
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
    def headline(self) -> str:
        """What happened, in a line: "Ada replied to you", or "Your comment was removed:
        Spam" (a moderation outcome, with its public reason)."""
        if self.is_activity:
            return f"{self.comment.author_display} {self.get_reason_display()}"
        what = capfirst(self.get_reason_display())
        return f"{what}: {self.detail}" if self.detail else what
