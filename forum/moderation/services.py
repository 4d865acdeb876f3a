"""Every moderation step: checks that the actor may moderate, changes one thing, and records
a Decision holding the earlier state, from which `decision_undo` restores it exactly."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from essays.models import Essay, Paragraph
from forum.discussion.models import Comment
from forum.discussion.quotes import locate_quote
from forum.discussion.services import CommentRefused, check_can_comment
from forum.discussion.signals import comment_moderated, comment_published, comment_removed
from forum.ratelimits import RateLimited, consume

from . import rules
from .models import MODERATORS_GROUP, Decision, Flag, ReasonCode, Restriction
from .policy import is_moderator

User = get_user_model()

SUSPENSION_LENGTHS = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
PERMANENT = "permanent"


def moderators_group():
    """The Moderators group, with its one permission: moderators are not admins."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=MODERATORS_GROUP)
    permission = Permission.objects.get(content_type__app_label="moderation", codename="moderate")
    group.permissions.add(permission)
    return group


def ensure_moderators_group(sender, **kwargs) -> None:
    """post_migrate receiver: the group exists on every database, set up or not."""
    moderators_group()


class ModerationRefused(CommentRefused):
    """A moderation step that cannot be done; same shape as a refused comment."""


def check_moderator(actor) -> None:
    if not is_moderator(actor):
        raise ModerationRefused(_("Only moderators can do this."), status=403)


def _decide(
    *,
    actor,
    action,
    comment=None,
    essay=None,
    subject_user=None,
    reason="",
    reason_code="",
    previous_state=None,
    undoes=None,
) -> Decision:
    return Decision.objects.create(
        actor=actor,
        action=action,
        comment=comment,
        essay=essay or (comment.essay if comment else None),
        subject_user=subject_user or (comment.author if comment else None),
        reason=reason,
        reason_code=reason_code,
        previous_state=previous_state or {},
        undoes=undoes,
    )


def _tell_author(comment: Comment, action: str, detail: str = "") -> None:
    transaction.on_commit(
        lambda: comment_moderated.send(
            sender=Comment, comment=comment, action=action, detail=detail
        )
    )


def _announce_visibility_change(comment: Comment, was_published: bool) -> None:
    now_published = comment.status == Comment.Status.PUBLISHED
    if now_published and not was_published:
        transaction.on_commit(lambda: comment_published.send(sender=Comment, comment=comment))
    elif was_published and not now_published:
        transaction.on_commit(lambda: comment_removed.send(sender=Comment, comment=comment))


def _comment_state(comment: Comment) -> dict:
    return {
        "status": comment.status,
        "removal_reason": comment.removal_reason,
        "open_flags": list(comment.flags.open().values_list("pk", flat=True)),
    }


def _restore_comment_state(comment: Comment, state: dict) -> None:
    was_published = comment.status == Comment.Status.PUBLISHED
    comment.status = state["status"]
    comment.removal_reason = state["removal_reason"]
    comment.save(update_fields=["status", "removal_reason"])
    Flag.objects.filter(pk__in=state["open_flags"]).update(resolved_at=None)
    _announce_visibility_change(comment, was_published)


# Reports -------------------------------------------------------------------------------


@transaction.atomic
def flag_create(*, reporter, comment: Comment, reason: str, note: str = "") -> Flag:
    """A verified reader reports a published comment, once; enough reports hide it."""
    check_can_comment(reporter)
    if reason not in ReasonCode.values:
        raise ModerationRefused(_("Choose a reason for your report."))
    if reason == ReasonCode.OTHER and not note.strip():
        raise ModerationRefused(_("Say in a few words what is wrong with this comment."))
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status != Comment.Status.PUBLISHED:
        raise ModerationRefused(
            _("This comment is not published; there is nothing to report."), status=409
        )
    if comment.author_id == reporter.pk:
        raise ModerationRefused(_("You cannot report your own comment."), status=403)
    if Flag.objects.filter(comment=comment, reporter=reporter).exists():
        raise ModerationRefused(_("You have already reported this comment. Thank you."), status=409)
    try:
        consume("report", str(reporter.pk), settings.REPORT_RATE_LIMITS)
    except RateLimited as limited:
        raise ModerationRefused(
            _("You are reporting faster than the site allows. Try again in %(seconds)s seconds.")
            % {"seconds": limited.retry_after},
            status=429,
            retry_after=limited.retry_after,
        ) from None
    flag = Flag.objects.create(comment=comment, reporter=reporter, reason=reason, note=note.strip())
    reporters = comment.flags.open().values("reporter").distinct().count()
    if rules.reaches_hide_threshold(reporters, settings.MODERATION_HIDE_THRESHOLD):
        state = _comment_state(comment)
        state["open_flags"] = []  # hiding resolves nothing
        comment.status = Comment.Status.HIDDEN
        comment.save(update_fields=["status"])
        _decide(
            actor=None,
            action=Decision.Action.HIDE,
            comment=comment,
            reason=_("%(count)s readers reported it") % {"count": reporters},
            previous_state=state,
        )
        _announce_visibility_change(comment, was_published=True)
    return flag


# Comments ------------------------------------------------------------------------------


def record_automatic_hold(sender, comment: Comment, reasons: list[str], **kwargs) -> None:
    """Receiver of `comment_held`: the rules' hold goes into the log like any decision."""
    _decide(
        actor=None,
        action=Decision.Action.HOLD,
        comment=comment,
        reason="; ".join(reasons),
        previous_state={"status": Comment.Status.PENDING, "removal_reason": "", "open_flags": []},
    )
    _tell_author(comment, "hold", "; ".join(reasons))


def _set_comment_status(
    *, actor, comment, action, status, resolve_flags, reason, reason_code="", removal_reason=""
) -> Decision:
    """Give a (locked) comment its new status and log the step with the state before it."""
    state = _comment_state(comment)
    was_published = comment.status == Comment.Status.PUBLISHED
    comment.status = status
    comment.removal_reason = removal_reason
    comment.save(update_fields=["status", "removal_reason"])
    if resolve_flags:
        comment.flags.open().update(resolved_at=timezone.now())
    _announce_visibility_change(comment, was_published)
    if action == Decision.Action.REMOVE:
        _tell_author(comment, "remove", removal_reason)
    elif status == Comment.Status.PUBLISHED and not was_published:
        _tell_author(comment, "approve")
    return _decide(
        actor=actor,
        action=action,
        comment=comment,
        reason=reason,
        reason_code=reason_code,
        previous_state=state,
    )


@transaction.atomic
def comment_approve(*, actor, comment: Comment, reason: str = "") -> Decision:
    """Keep a comment: publish it if held, hidden or removed, and clear its reports."""
    check_moderator(actor)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status == Comment.Status.DELETED:
        raise ModerationRefused(_("Its author has already deleted this comment."), status=409)
    return _set_comment_status(
        actor=actor,
        comment=comment,
        action=Decision.Action.APPROVE,
        status=Comment.Status.PUBLISHED,
        resolve_flags=True,
        reason=reason,
    )


@transaction.atomic
def comment_remove(*, actor, comment: Comment, reason_code: str, reason: str = "") -> Decision:
    """Remove a comment: readers see "removed by a moderator" with the public reason."""
    check_moderator(actor)
    if reason_code not in ReasonCode.values:
        raise ModerationRefused(_("Choose the public reason for the removal."))
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status == Comment.Status.DELETED:
        raise ModerationRefused(_("Its author has already deleted this comment."), status=409)
    return _set_comment_status(
        actor=actor,
        comment=comment,
        action=Decision.Action.REMOVE,
        status=Comment.Status.REMOVED,
        removal_reason=str(ReasonCode(reason_code).label),
        resolve_flags=True,
        reason=reason,
        reason_code=reason_code,
    )


@transaction.atomic
def comment_restore(*, actor, comment: Comment, reason: str = "") -> Decision:
    """Bring a removed comment back."""
    check_moderator(actor)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status != Comment.Status.REMOVED:
        raise ModerationRefused(_("Only a removed comment can be restored."), status=409)
    return _set_comment_status(
        actor=actor,
        comment=comment,
        action=Decision.Action.RESTORE,
        status=Comment.Status.PUBLISHED,
        resolve_flags=False,
        reason=reason,
    )


@transaction.atomic
def thread_lock_set(*, actor, comment: Comment, locked: bool, reason: str = "") -> Decision:
    """Lock (or unlock) the thread a comment belongs to: no new replies in it."""
    check_moderator(actor)
    root = Comment.objects.select_for_update().get(pk=comment.thread_root_id)
    state = {"locked_at": root.locked_at.isoformat() if root.locked_at else None}
    if locked == (root.locked_at is not None):
        raise ModerationRefused(_("The thread is already so."), status=409)
    root.locked_at = timezone.now() if locked else None
    root.save(update_fields=["locked_at"])
    action = Decision.Action.LOCK if locked else Decision.Action.UNLOCK
    return _decide(actor=actor, action=action, comment=root, reason=reason, previous_state=state)


@transaction.atomic
def essay_comments_set(*, actor, essay: Essay, open_: bool, reason: str = "") -> Decision:
    """Close or reopen comments on a whole essay."""
    check_moderator(actor)
    essay = Essay.objects.select_for_update().get(pk=essay.pk)
    if essay.comments_open == open_:
        raise ModerationRefused(_("Comments on this essay are already so."), status=409)
    state = {"comments_open": essay.comments_open}
    essay.comments_open = open_
    essay.save(update_fields=["comments_open"])
    action = Decision.Action.REOPEN if open_ else Decision.Action.CLOSE
    return _decide(actor=actor, action=action, essay=essay, reason=reason, previous_state=state)


@transaction.atomic
def thread_reattach(*, actor, comment: Comment, paragraph, reason: str = "") -> Decision:
    """Put a thread that moved or was orphaned by a revision on another live paragraph."""
    check_moderator(actor)
    root = Comment.objects.select_for_update().get(pk=comment.thread_root_id)
    paragraph = Paragraph.objects.get(pk=paragraph.pk)  # its state now, not as it was passed
    if paragraph.essay_id != root.essay_id or not paragraph.is_live or not paragraph.is_commentable:
        raise ModerationRefused(_("Choose a live paragraph of the same essay."))
    thread = list(
        Comment.objects.select_for_update().filter(models.Q(pk=root.pk) | models.Q(root=root))
    )
    state = {
        "comments": {
            str(c.pk): [c.paragraph_id, c.anchor_status, c.anchor_text, c.quote_lost]
            for c in thread
        }
    }
    for c in thread:
        c.paragraph = paragraph
        c.anchor_status = "placed"
        c.anchor_text = paragraph.text
        c.quote_lost = (
            bool(c.quote)
            and locate_quote(paragraph.text, c.quote, c.quote_prefix, c.quote_suffix) is None
        )
    Comment.objects.bulk_update(thread, ["paragraph", "anchor_status", "anchor_text", "quote_lost"])
    return _decide(
        actor=actor,
        action=Decision.Action.REATTACH,
        comment=root,
        reason=reason,
        previous_state=state,
    )


# Authors -------------------------------------------------------------------------------


@transaction.atomic
def user_restrict(*, actor, user, kind: str, length: str = PERMANENT, reason: str = "") -> Decision:
    """Suspend an author (1, 7 or 30 days, or until lifted) or always pre-moderate them."""
    check_moderator(actor)
    if user.pk == actor.pk:
        raise ModerationRefused(_("You cannot restrict yourself."), status=403)
    if kind == Restriction.Kind.SUSPENSION and not reason.strip():
        raise ModerationRefused(_("Say why: the author is told."))
    if length != PERMANENT and length not in SUSPENSION_LENGTHS:
        raise ModerationRefused(_("Choose how long."))
    until = None if length == PERMANENT else timezone.now() + SUSPENSION_LENGTHS[length]
    if kind == Restriction.Kind.PREMODERATION:
        until = None
    if user.restrictions.active().filter(kind=kind).exists():
        raise ModerationRefused(
            _("The author is already so restricted; lift it first."), status=409
        )
    restriction = Restriction.objects.create(
        user=user, kind=kind, until=until, reason=reason.strip(), created_by=actor
    )
    action = (
        Decision.Action.SUSPEND
        if kind == Restriction.Kind.SUSPENSION
        else Decision.Action.PREMODERATE
    )
    return _decide(
        actor=actor,
        action=action,
        subject_user=user,
        reason=reason,
        previous_state={"restriction": restriction.pk, "created": True},
    )


@transaction.atomic
def user_restriction_lift(*, actor, user, kind: str, reason: str = "") -> Decision:
    check_moderator(actor)
    active = list(user.restrictions.active().filter(kind=kind))
    if not active:
        raise ModerationRefused(_("There is nothing to lift."), status=409)
    now = timezone.now()
    for restriction in active:
        restriction.lifted_at = now
        restriction.save(update_fields=["lifted_at"])
    action = (
        Decision.Action.LIFT
        if kind == Restriction.Kind.SUSPENSION
        else Decision.Action.CLEAR_PREMODERATION
    )
    return _decide(
        actor=actor,
        action=action,
        subject_user=user,
        reason=reason,
        previous_state={"lifted": [r.pk for r in active]},
    )


# Undo ----------------------------------------------------------------------------------


@transaction.atomic
def decision_undo(*, actor, decision: Decision, reason: str = "") -> Decision:
    """Put back exactly what a decision changed, and log that as a decision of its own."""
    check_moderator(actor)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.action == Decision.Action.UNDO:
        raise ModerationRefused(
            _("Undo the original decision's effect by acting again."), status=409
        )
    if hasattr(decision, "undone_by"):
        raise ModerationRefused(_("This decision has already been undone."), status=409)
    state = decision.previous_state
    action = decision.action
    if decision.comment_id and action in {
        Decision.Action.HOLD,
        Decision.Action.HIDE,
        Decision.Action.APPROVE,
        Decision.Action.REMOVE,
        Decision.Action.RESTORE,
    }:
        comment = Comment.objects.select_for_update().get(pk=decision.comment_id)
        if action == Decision.Action.HOLD:
            state = {**state, "status": Comment.Status.PUBLISHED}  # undoing a hold publishes
        current = _comment_state(comment)
        _restore_comment_state(comment, state)
        undo_state = current
    elif action in (Decision.Action.LOCK, Decision.Action.UNLOCK):
        root = Comment.objects.select_for_update().get(pk=decision.comment_id)
        undo_state = {"locked_at": root.locked_at.isoformat() if root.locked_at else None}
        root.locked_at = (
            timezone.datetime.fromisoformat(state["locked_at"]) if state["locked_at"] else None
        )
        root.save(update_fields=["locked_at"])
    elif action in (Decision.Action.CLOSE, Decision.Action.REOPEN):
        essay = Essay.objects.select_for_update().get(pk=decision.essay_id)
        undo_state = {"comments_open": essay.comments_open}
        essay.comments_open = state["comments_open"]
        essay.save(update_fields=["comments_open"])
    elif action in (Decision.Action.SUSPEND, Decision.Action.PREMODERATE):
        restriction = Restriction.objects.get(pk=state["restriction"])
        undo_state = {"lifted_at": None}
        restriction.lifted_at = timezone.now()
        restriction.save(update_fields=["lifted_at"])
    elif action == Decision.Action.REATTACH:
        comments = Comment.objects.select_for_update().in_bulk(
            [int(pk) for pk in state["comments"]]
        )
        undo_state = {
            "comments": {
                str(c.pk): [c.paragraph_id, c.anchor_status, c.anchor_text, c.quote_lost]
                for c in comments.values()
            }
        }
        for pk, (paragraph_id, status, text, lost) in state["comments"].items():
            comment = comments[int(pk)]
            comment.paragraph_id, comment.anchor_status = paragraph_id, status
            comment.anchor_text, comment.quote_lost = text, lost
        Comment.objects.bulk_update(
            comments.values(), ["paragraph", "anchor_status", "anchor_text", "quote_lost"]
        )
    elif action in (Decision.Action.LIFT, Decision.Action.CLEAR_PREMODERATION):
        undo_state = {"lifted": state["lifted"]}
        Restriction.objects.filter(pk__in=state["lifted"]).update(lifted_at=None)
    else:
        raise ModerationRefused(_("This decision cannot be undone."), status=409)
    return Decision.objects.create(
        actor=actor,
        action=Decision.Action.UNDO,
        comment=decision.comment,
        essay=decision.essay,
        subject_user=decision.subject_user,
        reason=reason,
        previous_state=undo_state,
        undoes=decision,
    )
