from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from essays.models import Essay
from forum.discussion.models import Comment

from . import rules
from .rules import restriction_is_active

MODERATORS_GROUP = "Moderators"


class ReasonCode(models.TextChoices):
    """The public reasons a report or a removal gives."""

    SPAM = "spam", _("Spam")
    ABUSE = "abuse", _("Harassment or abuse")
    HATE = "hate", _("Hate")
    OFF_TOPIC = "off-topic", _("Off-topic")
    OTHER = "other", _("Other")


class FlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)


class Flag(models.Model):
    """A reader's report of a comment. The comment's author never learns who reported it."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ReasonCode)
    note = models.TextField(_("note"), blank=True, max_length=1000)
    created = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = FlagQuerySet.as_manager()

    class Meta:
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "reporter"], name="one_flag_per_reader")
        ]

    def __str__(self):
        return f"Report on comment {self.comment_id}: {self.get_reason_display()}"


class Decision(models.Model):
    """One moderation step: the append-only audit log. Undoing is a new decision."""

    class Action(models.TextChoices):
        HOLD = "hold", _("held for review")
        HIDE = "hide", _("hidden after reports")
        APPROVE = "approve", _("approved")
        REMOVE = "remove", _("removed")
        RESTORE = "restore", _("restored")
        LOCK = "lock", _("locked thread")
        UNLOCK = "unlock", _("unlocked thread")
        CLOSE = "close", _("closed comments")
        REOPEN = "reopen", _("reopened comments")
        SUSPEND = "suspend", _("suspended")
        LIFT = "lift", _("lifted suspension")
        PREMODERATE = "premoderate", _("set to always pre-moderate")
        CLEAR_PREMODERATION = "clear-premoderation", _("cleared pre-moderation")
        REATTACH = "reattach", _("re-attached thread")
        UNDO = "undo", _("undid")
        ESSAY_PREMODERATE = "essay-premoderate", _("set comments on an essay to be reviewed")
        ESSAY_CLEAR_PREMODERATION = (
            "essay-clear-premoderation",
            _("stopped reviewing comments on an essay"),
        )
        WORD_ADD = "word-add", _("added a word to a list")
        WORD_CHANGE = "word-change", _("moved a word to the other list")
        WORD_REMOVE = "word-remove", _("removed a word from its list")
        LEVEL_SET = "level-set", _("set the trust level")

    # Null: the site's own rules acted (a hold, or hiding after reports).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_decisions",
    )
    action = models.CharField(max_length=30, choices=Action)
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="decisions"
    )
    essay = models.ForeignKey(
        Essay, on_delete=models.CASCADE, null=True, blank=True, related_name="decisions"
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions_about",
    )
    reason_code = models.CharField(max_length=20, choices=ReasonCode, blank=True)
    # Two texts that are never mixed: what the author (and readers) are told, and what
    # only moderators read.
    public_reason = models.CharField(_("public reason"), max_length=1000, blank=True)
    reason = models.TextField(_("private note (moderators only)"), blank=True)
    # What the target looked like before, so that the step can be undone exactly.
    previous_state = models.JSONField(default=dict, blank=True)
    # What the site's rules or the moderator saw when deciding, for the pages that explain it:
    # for a hold, its reasons, the watched words found and the links counted; for a change
    # to a word list, the word and its lists before and after. Never read by an undo.
    facts = models.JSONField(default=dict, blank=True)
    undoes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="undone_by"
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        permissions = [("moderate", "Can moderate the discussion")]

    def __str__(self):
        return f"{self.actor or 'The site'} {self.get_action_display()} ({self.created:%Y-%m-%d})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The audit log is append-only: decisions are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The audit log is append-only: decisions are never deleted.")

    @property
    def is_undo(self) -> bool:
        return self.action == self.Action.UNDO

    @property
    def is_word_list_change(self) -> bool:
        return self.action in WORD_LIST_ACTIONS

    @property
    def actor_display(self) -> str:
        return str(self.actor) if self.actor_id else str(_("The site’s rules"))


WORD_LIST_ACTIONS = [
    Decision.Action.WORD_ADD,
    Decision.Action.WORD_CHANGE,
    Decision.Action.WORD_REMOVE,
]


class RestrictionQuerySet(models.QuerySet):
    def active(self, *, now=None):
        now = now or timezone.now()
        return self.filter(lifted_at__isnull=True).filter(
            models.Q(until__isnull=True) | models.Q(until__gt=now)
        )


class Restriction(models.Model):
    class Kind(models.TextChoices):
        SUSPENSION = "suspension", _("Suspended from posting")
        PREMODERATION = "premoderation", _("Always pre-moderated")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="restrictions"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    # Null: until lifted.
    until = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictionQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.user}"

    @property
    def is_active(self) -> bool:
        return restriction_is_active(until=self.until, lifted_at=self.lifted_at, now=timezone.now())


class WordRule(models.Model):
    class Kind(models.TextChoices):
        BLOCKED = "blocked", _("Blocked: the comment is refused")
        WATCHED = "watched", _("Watched: the comment waits for review")

    word = models.CharField(_("word or phrase"), max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind)

    class Meta:
        ordering = ["word"]
        verbose_name = _("word rule")

    def __str__(self):
        return f"{self.word} ({self.kind})"


class TrustLevel(models.IntegerChoices):
    """The rungs of the trust ladder (forum/moderation/rules.py; settings say what each
    asks and allows)."""

    NEW = rules.NEW, _("New")
    MEMBER = rules.MEMBER, _("Member")
    TRUSTED = rules.TRUSTED, _("Trusted")


class ManualLevel(models.Model):
    """A trust level a moderator set by hand: it holds, whatever the ladder says, until a
    moderator changes it or gives the account back to the ladder (the row goes)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="manual_level",
    )
    level = models.PositiveSmallIntegerField(choices=TrustLevel)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.user}: {self.get_level_display()} (set by a moderator)"
