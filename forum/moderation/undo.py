"""Undoing a decision: one small handler per kind of decision, each reading the typed
snapshot the decision stored (forum/moderation/snapshots.py).

An undo applies only while its target is still as that decision left it, and while no
later decision on the same target stands; otherwise it is refused, naming that decision
(or the author's deletion, which is final). The undo is a decision of its own, holding
the state it replaced.
"""

from collections.abc import Callable

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from essays.models import Essay
from forum.discussion.models import Comment
from forum.discussion.readers import reader_state_forget
from forum.refusals import Refused

from .models import Decision, ManualLevel, ReasonCode, Restriction
from .services import (
    COMMENT_STATUS_ACTIONS,
    STATUS_LEFT_BY,
    check_may_restrict,
    check_moderator,
    decision_words,
    guidelines_section_for,
    manual_level_restore,
    restore_comment_status,
    tell_author,
    tell_member,
)
from .snapshots import (
    CommentStatus,
    EssayOpen,
    EssayPremoderated,
    LevelSet,
    RestrictionCreated,
    RestrictionsLifted,
    ThreadAnchors,
    ThreadLock,
)

RESTRICTION_KIND_OF = {
    Decision.Action.SUSPEND: Restriction.Kind.SUSPENSION,
    Decision.Action.LIFT: Restriction.Kind.SUSPENSION,
    Decision.Action.PREMODERATE: Restriction.Kind.PREMODERATION,
    Decision.Action.CLEAR_PREMODERATION: Restriction.Kind.PREMODERATION,
}
# Decisions that act on the same thing, for finding what happened since.
RELATED_ACTIONS = [
    COMMENT_STATUS_ACTIONS,
    [Decision.Action.LOCK, Decision.Action.UNLOCK],
    [Decision.Action.CLOSE, Decision.Action.REOPEN],
    [Decision.Action.ESSAY_PREMODERATE, Decision.Action.ESSAY_CLEAR_PREMODERATION],
    [Decision.Action.SUSPEND, Decision.Action.LIFT],
    [Decision.Action.PREMODERATE, Decision.Action.CLEAR_PREMODERATION],
    [Decision.Action.REATTACH],
    [Decision.Action.LEVEL_SET],
]
# Decisions about an account (the rest are about a comment or an essay).
ACCOUNT_ACTIONS = [*RESTRICTION_KIND_OF, Decision.Action.LEVEL_SET]


ESSAY_ACTIONS = [
    Decision.Action.CLOSE,
    Decision.Action.REOPEN,
    Decision.Action.ESSAY_PREMODERATE,
    Decision.Action.ESSAY_CLEAR_PREMODERATION,
]


def later_decision(decision: Decision) -> Decision | None:
    """The first decision since this one, on the same target, that still stands (an undo
    and an undone decision leave things as they were)."""
    actions = next(group for group in RELATED_ACTIONS if decision.action in group)
    later = Decision.objects.filter(
        id__gt=decision.id, action__in=actions, undone_by__isnull=True
    ).select_related("actor")
    if decision.action in ACCOUNT_ACTIONS:
        later = later.filter(subject_user_id=decision.subject_user_id)
    elif decision.action in ESSAY_ACTIONS:
        later = later.filter(essay_id=decision.essay_id)
    else:
        later = later.filter(comment_id=decision.comment_id)
    return later.order_by("id").first()


def _refuse(decision: Decision, what_changed: str):
    since = later_decision(decision)
    if since is not None:
        what_changed = _("%(decision)s since") % {"decision": decision_words(since)}
    raise Refused(
        _("This decision can no longer be undone: %(change)s. Undo that first, or act anew.")
        % {"change": what_changed},
        status=409,
    )


# The handlers: each checks that nothing changed since, restores, and returns the
# snapshot of what it replaced.


def _undo_comment_status(decision: Decision, actor) -> dict:
    comment = Comment.objects.select_for_update().get(pk=decision.comment_id)
    if comment.status == Comment.Status.DELETED:
        raise Refused(
            _("Its author has deleted this comment since; a deletion is final."), status=409
        )
    if comment.status != STATUS_LEFT_BY[decision.action]:
        _refuse(
            decision,
            _("the comment is now “%(status)s”") % {"status": comment.get_status_display()},
        )
    before = CommentStatus.load(decision.previous_state)
    if decision.action == Decision.Action.HOLD:
        before = CommentStatus(Comment.Status.PUBLISHED, "", [])  # undoing a hold publishes
    replaced = CommentStatus.of(comment)
    restore_comment_status(comment, before)
    return replaced.dump()


def _undo_lock(decision: Decision, actor) -> dict:
    root = Comment.objects.select_for_update().get(pk=decision.comment_id)
    if (root.locked_at is not None) != (decision.action == Decision.Action.LOCK):
        _refuse(decision, _("the thread is no longer so"))
    replaced = ThreadLock.of(root)
    ThreadLock.load(decision.previous_state).restore(root)
    return replaced.dump()


def _undo_comments_open(decision: Decision, actor) -> dict:
    essay = Essay.objects.select_for_update().get(pk=decision.essay_id)
    if essay.comments_open != (decision.action == Decision.Action.REOPEN):
        _refuse(decision, _("comments on the essay are no longer so"))
    replaced = EssayOpen.of(essay)
    EssayOpen.load(decision.previous_state).restore(essay)
    return replaced.dump()


def _undo_essay_premoderation(decision: Decision, actor) -> dict:
    essay = Essay.objects.select_for_update().get(pk=decision.essay_id)
    if essay.premoderated != (decision.action == Decision.Action.ESSAY_PREMODERATE):
        _refuse(decision, _("comments on the essay are no longer so"))
    replaced = EssayPremoderated.of(essay)
    EssayPremoderated.load(decision.previous_state).restore(essay)
    return replaced.dump()


def _undo_restriction(decision: Decision, actor) -> dict:
    if decision.subject_user is not None:
        check_may_restrict(actor, decision.subject_user)
    created = RestrictionCreated.load(decision.previous_state)
    restriction = Restriction.objects.select_for_update().filter(pk=created.restriction).first()
    if restriction is None:
        raise Refused(_("The account this restriction was on no longer exists."), status=409)
    if not restriction.is_active:
        _refuse(decision, _("the restriction has ended or was lifted"))
    restriction.lifted_at = timezone.now()
    restriction.save(update_fields=["lifted_at"])
    return {"lifted_at": None}


def _undo_lift(decision: Decision, actor) -> dict:
    if decision.subject_user is not None:
        check_may_restrict(actor, decision.subject_user)
    lifted = RestrictionsLifted.load(decision.previous_state)
    restrictions = list(Restriction.objects.select_for_update().filter(pk__in=lifted.lifted))
    kind = RESTRICTION_KIND_OF[decision.action]
    if any(r.lifted_at is None for r in restrictions) or (
        decision.subject_user is not None
        and decision.subject_user.restrictions.active().filter(kind=kind).exists()
    ):
        _refuse(decision, _("the author has been restricted again since"))
    Restriction.objects.filter(pk__in=lifted.lifted).update(lifted_at=None)
    return lifted.dump()


def _undo_reattach(decision: Decision, actor) -> dict:
    """Put a re-attached thread back where it was, with the replies posted since: they
    belong to the thread, so they follow its root."""
    root_id = decision.comment_id
    thread = list(
        Comment.objects.select_for_update().filter(models.Q(pk=root_id) | models.Q(root_id=root_id))
    )
    replaced = ThreadAnchors.of(thread)
    ThreadAnchors.load(decision.previous_state).restore(thread, root_id=root_id)
    return replaced.dump()


def _undo_level_set(decision: Decision, actor) -> dict:
    user = decision.subject_user
    if user is None:
        raise Refused(_("The account this level was set on no longer exists."), status=409)
    check_may_restrict(actor, user)
    now = ManualLevel.objects.filter(user=user).values_list("level", flat=True).first()
    if now != decision.facts.get("level"):
        _refuse(decision, _("the author’s trust level has changed"))
    manual_level_restore(user, LevelSet.load(decision.previous_state).level, actor=actor)
    return LevelSet(now).dump()


UNDO_HANDLERS: dict[str, Callable[[Decision, object], dict]] = {
    **dict.fromkeys(STATUS_LEFT_BY, _undo_comment_status),
    Decision.Action.LOCK: _undo_lock,
    Decision.Action.UNLOCK: _undo_lock,
    Decision.Action.CLOSE: _undo_comments_open,
    Decision.Action.REOPEN: _undo_comments_open,
    Decision.Action.ESSAY_PREMODERATE: _undo_essay_premoderation,
    Decision.Action.ESSAY_CLEAR_PREMODERATION: _undo_essay_premoderation,
    Decision.Action.SUSPEND: _undo_restriction,
    Decision.Action.PREMODERATE: _undo_restriction,
    Decision.Action.LIFT: _undo_lift,
    Decision.Action.CLEAR_PREMODERATION: _undo_lift,
    Decision.Action.REATTACH: _undo_reattach,
    Decision.Action.LEVEL_SET: _undo_level_set,
}


# What an author is told after an undo: what their comment is now.
ACTION_FOR_STATUS = {
    Comment.Status.PENDING: "hold",
    Comment.Status.HIDDEN: "hide",
    Comment.Status.REMOVED: "remove",
}


def _tell_what_the_undo_did(decision: Decision, public_reason: str) -> None:
    """Tell the author (or the suspended member) what the undo changed for them, with the
    undo's public reason, else the reason of the state it put back. Undoing a hold is an
    approval; undoing a hiding or a removal restores the comment."""
    if decision.action in STATUS_LEFT_BY:
        comment = Comment.objects.get(pk=decision.comment_id)
        if comment.status == Comment.Status.PUBLISHED:
            action = "approve" if decision.action == Decision.Action.HOLD else "restore"
            tell_author(comment, action, public_reason)
            return
        action = ACTION_FOR_STATUS.get(comment.status)
        if action is None:
            return
        # The removal put back carries its public reason and its section of the guidelines.
        codes = {str(label): code for code, label in ReasonCode.choices}
        section = guidelines_section_for(codes.get(comment.removal_reason, ""))
        tell_author(comment, action, public_reason or comment.removal_reason, section)
    elif decision.action == Decision.Action.SUSPEND and decision.subject_user_id:
        tell_member(decision.subject_user, "lift", public_reason)
    elif decision.action == Decision.Action.LIFT and decision.subject_user_id:
        suspension = (
            decision.subject_user.restrictions.active()
            .filter(kind=Restriction.Kind.SUSPENSION)
            .order_by("-created")
            .first()
        )
        if suspension is not None:
            tell_member(
                decision.subject_user,
                "suspend",
                public_reason or suspension.reason,
                suspension.until,
            )


@transaction.atomic
def decision_undo(
    *, actor, decision: Decision, reason: str = "", public_reason: str = ""
) -> Decision:
    """Put back exactly what a decision changed, and log that as a decision of its own."""
    check_moderator(actor)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.action == Decision.Action.UNDO:
        raise Refused(_("Undo the original decision's effect by acting again."), status=409)
    if hasattr(decision, "undone_by"):
        raise Refused(_("This decision has already been undone."), status=409)
    handler = UNDO_HANDLERS.get(decision.action)
    if handler is None:
        raise Refused(_("This decision cannot be undone."), status=409)
    if later_decision(decision) is not None:
        _refuse(decision, "")
    replaced = handler(decision, actor)
    _tell_what_the_undo_did(decision, public_reason.strip())
    # What their pages show of the member the decision was about (a restriction, a comment
    # of theirs held or put back) changes back too.
    reader_state_forget(decision.subject_user_id)
    return Decision.objects.create(
        actor=actor,
        action=Decision.Action.UNDO,
        comment=decision.comment,
        essay=decision.essay,
        subject_user=decision.subject_user,
        reason=reason,
        public_reason=public_reason,
        previous_state=replaced,
        undoes=decision,
    )
