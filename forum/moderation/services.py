"""Every moderation step: checks that the actor may moderate, changes one thing, and records
a Decision holding the earlier state, from which `undo.decision_undo` restores it exactly."""

from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from essays.models import Essay, Paragraph
from forum.discussion.models import Comment, Guidelines
from forum.discussion.quotes import locate_quote
from forum.discussion.readers import reader_state_forget
from forum.discussion.services import check_can_comment
from forum.discussion.signals import (
    account_moderated,
    comment_moderated,
    comment_published,
    comment_removed,
    reports_answered,
)
from forum.refusals import Refused, consume_or_refuse

from . import rules
from .models import (
    MODERATORS_GROUP,
    Decision,
    Flag,
    ManualLevel,
    ReasonCode,
    Restriction,
    TrustLevel,
    WordRule,
)
from .policy import AUTOMATIC_LEVEL, is_moderator, word_list
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


def on_group_membership_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Members joined or left groups: the pages showing their comments change when the
    Moderators group is among them (its members' comments carry a badge)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    moderators = moderators_group()
    if reverse:  # a group's members changed
        if instance.pk != moderators.pk:
            return
        user_ids = list(pk_set) if pk_set else list(instance.user_set.values_list("pk", flat=True))
    else:  # a member's groups changed
        if pk_set is not None and moderators.pk not in pk_set:
            return
        user_ids = [instance.pk]
    Essay.objects.filter(comments__author_id__in=user_ids).distinct().discussion_changed()


def check_moderator(actor) -> None:
    if not is_moderator(actor, fresh=True):
        raise Refused(_("Only moderators can do this."), status=403)


def check_may_restrict(actor, user) -> None:
    """The hierarchy: nobody restricts the site owner (a superuser); only the site owner
    restricts (or lifts a restriction of) a moderator or a member of staff; nobody acts on
    their own account."""
    if user.pk == actor.pk:
        raise Refused(_("You cannot restrict yourself or lift your own restriction."), status=403)
    if user.is_superuser:
        raise Refused(_("The site owner’s account cannot be restricted."), status=403)
    holds_office = user.is_staff or user.has_perm("moderation.moderate")
    if holds_office and not actor.is_superuser:
        raise Refused(
            _("Only the site owner can restrict a moderator or a member of staff."), status=403
        )


# What a comment's status became after each kind of decision: an undo applies only while the
# comment is still so.
STATUS_LEFT_BY = {
    Decision.Action.HOLD: Comment.Status.PENDING,
    Decision.Action.HIDE: Comment.Status.HIDDEN,
    Decision.Action.APPROVE: Comment.Status.PUBLISHED,
    Decision.Action.REMOVE: Comment.Status.REMOVED,
    Decision.Action.RESTORE: Comment.Status.PUBLISHED,
}
COMMENT_STATUS_ACTIONS = list(STATUS_LEFT_BY)


def latest_decision_on(comment: Comment) -> Decision | None:
    return (
        Decision.objects.filter(comment=comment, action__in=COMMENT_STATUS_ACTIONS)
        .select_related("actor")
        .order_by("-id")
        .first()
    )


def decision_words(decision: Decision | None) -> str:
    if decision is None:
        return _("an action outside moderation")
    return _("“%(action)s” by %(actor)s at %(when)s (decision #%(pk)s)") % {
        "actor": decision.actor_display,
        "action": decision.get_action_display(),
        "when": timezone.localtime(decision.created).strftime("%H:%M:%S"),
        "pk": decision.pk,
    }


def check_status_unchanged(comment: Comment, seen_status: str | None) -> None:
    """Refuse to act on a comment whose status changed since the moderator saw it: a second
    moderator deciding at the same moment is told, rather than silently overriding."""
    if seen_status and comment.status != seen_status:
        raise Refused(
            _(
                "Another decision was just made about this comment: %(decision)s. It is now "
                "“%(status)s”. Look again before acting."
            )
            % {
                "decision": decision_words(latest_decision_on(comment)),
                "status": comment.get_status_display(),
            },
            status=409,
        )


def _decide(
    *,
    actor,
    action,
    comment=None,
    essay=None,
    subject_user=None,
    reason="",
    public_reason="",
    reason_code="",
    previous_state=None,
    facts=None,
    undoes=None,
) -> Decision:
    """Append one step to the log. `reason` is the private note (moderators only);
    `public_reason` is what the author and readers are told.

    Every decision is about someone (the author of the comment, or the member restricted):
    what their pages show of them may change (forum/discussion/readers.py)."""
    subject_user = subject_user or (comment.author if comment else None)
    if subject_user is not None:
        reader_state_forget(subject_user.pk)
    return Decision.objects.create(
        actor=actor,
        action=action,
        comment=comment,
        essay=essay or (comment.essay if comment else None),
        subject_user=subject_user,
        reason=reason,
        public_reason=public_reason,
        reason_code=reason_code,
        previous_state=previous_state or {},
        facts=facts or {},
        undoes=undoes,
    )


def tell_author(comment: Comment, action: str, detail: str = "", section: str = "") -> None:
    """Tell a comment's author what became of it, with the public reason only."""
    transaction.on_commit(
        lambda: comment_moderated.send(
            sender=Comment, comment=comment, action=action, detail=detail, section=section
        )
    )


def tell_reporters(
    comment: Comment, reporter_ids: list[int], outcome: str, detail: str = "", section: str = ""
) -> None:
    """Tell the readers who reported a comment what became of it: not who decided, nor why
    in private."""
    if not reporter_ids:
        return
    transaction.on_commit(
        lambda: reports_answered.send(
            sender=Comment,
            comment=comment,
            reporter_ids=reporter_ids,
            outcome=outcome,
            detail=detail,
            section=section,
        )
    )


def tell_member(user, action: str, detail: str = "", until=None) -> None:
    """Tell a member that they are suspended (until when, and why) or free to post again."""
    transaction.on_commit(
        lambda: account_moderated.send(
            sender=type(user), user=user, action=action, detail=detail, until=until
        )
    )


def guidelines_section_for(reason_code: str) -> str:
    """The anchor of the guidelines' section a public reason points to: the section whose
    anchor is the reason's code, when the guidelines have one (else "": the whole page)."""
    guidelines = Guidelines.current()
    return reason_code if reason_code and guidelines and guidelines.has_section(reason_code) else ""


def open_reporter_ids(comment: Comment) -> list[int]:
    return sorted(set(comment.flags.open().values_list("reporter_id", flat=True)))


def _announce_visibility_change(comment: Comment, was_published: bool) -> None:
    now_published = comment.status == Comment.Status.PUBLISHED
    if now_published and not was_published:
        # In the transaction, as the contract asks (forum/discussion/signals.py).
        comment_published.send(sender=Comment, comment=comment)
    elif was_published and not now_published:
        transaction.on_commit(lambda: comment_removed.send(sender=Comment, comment=comment))


def restore_comment_status(comment: Comment, state: CommentStatus) -> None:
    """Put a comment's status, public removal reason and open reports back as they were,
    and announce the change of visibility."""
    was_published = comment.status == Comment.Status.PUBLISHED
    comment.status = state.status
    comment.removal_reason = state.removal_reason
    comment.save(update_fields=["status", "removal_reason"])
    Flag.objects.filter(pk__in=state.open_flags).update(resolved_at=None)
    _announce_visibility_change(comment, was_published)


# Reports -------------------------------------------------------------------------------


@transaction.atomic
def flag_create(*, reporter, comment: Comment, reason: str, note: str = "") -> Flag:
    """A verified reader reports a published comment, once; enough reports hide it.

    A comment hidden a moment ago (by other readers' reports) still takes reports: readers
    who saw it published are recorded and thanked, not told it does not exist."""
    check_can_comment(reporter)
    if reason not in ReasonCode.values:
        raise Refused(_("Choose a reason for your report."))
    if reason == ReasonCode.OTHER and not note.strip():
        raise Refused(_("Say in a few words what is wrong with this comment."))
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status not in (Comment.Status.PUBLISHED, Comment.Status.HIDDEN):
        raise Refused(_("This comment is not published; there is nothing to report."), status=409)
    if comment.author_id == reporter.pk:
        raise Refused(_("You cannot report your own comment."), status=403)
    if Flag.objects.filter(comment=comment, reporter=reporter).exists():
        raise Refused(_("You have already reported this comment. Thank you."), status=409)
    consume_or_refuse(
        "report",
        str(reporter.pk),
        settings.REPORT_RATE_LIMITS,
        _("You are reporting faster than the site allows. Try again in %(seconds)s seconds."),
    )
    flag = Flag.objects.create(comment=comment, reporter=reporter, reason=reason, note=note.strip())
    reporters = comment.flags.open().values("reporter").distinct().count()
    if comment.status == Comment.Status.PUBLISHED and rules.reaches_hide_threshold(
        reporters, settings.MODERATION_HIDE_THRESHOLD
    ):
        # Hiding resolves no report: undoing it reopens none.
        state = replace(CommentStatus.of(comment), open_flags=[]).dump()
        comment.status = Comment.Status.HIDDEN
        comment.save(update_fields=["status"])
        _decide(
            actor=None,
            action=Decision.Action.HIDE,
            comment=comment,
            reason=_("%(count)s readers reported it") % {"count": reporters},
            public_reason=_("Hidden after readers’ reports, until a moderator looks at it."),
            previous_state=state,
        )
        _announce_visibility_change(comment, was_published=True)
        hidden_because = _("Hidden after readers’ reports, until a moderator looks at it.")
        tell_author(comment, "hide", hidden_because)
        tell_reporters(comment, open_reporter_ids(comment), "hidden")
    return flag


# Comments ------------------------------------------------------------------------------


def hold_facts(comment: Comment, reasons: list[str]) -> dict:
    """What the rules saw when they held `comment`, for the queue's "why is this here":
    its reasons, the watched words it uses and the links a reader could follow."""
    from forum.discussion.markup import link_targets, visible_text

    links = link_targets(comment.body_html)
    watched = []
    if rules.HoldReason.WATCHED_WORD in reasons:
        words = word_list(WordRule.Kind.WATCHED)
        watched = rules.words_in("\n".join([visible_text(comment.body_html), *links]), words)
    return {"reasons": list(reasons), "watched_words": watched, "link_count": len(links)}


def record_automatic_hold(sender, comment: Comment, reasons: list[str], **kwargs) -> None:
    """Receiver of `comment_held`: the rules' hold goes into the log like any decision,
    with the facts behind it."""
    _decide(
        facts=hold_facts(comment, reasons),
        actor=None,
        action=Decision.Action.HOLD,
        comment=comment,
        reason="; ".join(reasons),
        public_reason="; ".join(_(reason) for reason in reasons),
        previous_state=CommentStatus(Comment.Status.PENDING, "", []).dump(),
    )
    tell_author(comment, "hold", "; ".join(_(reason) for reason in reasons))


def _set_comment_status(
    *,
    actor,
    comment,
    action,
    status,
    resolve_flags,
    reason,
    public_reason="",
    reason_code="",
    removal_reason="",
) -> Decision:
    """Give a (locked) comment its new status and log the step with the state before it."""
    state = CommentStatus.of(comment).dump()
    was_published = comment.status == Comment.Status.PUBLISHED
    comment.status = status
    comment.removal_reason = removal_reason
    comment.save(update_fields=["status", "removal_reason"])
    reporters = open_reporter_ids(comment) if resolve_flags else []
    if resolve_flags:
        comment.flags.open().update(resolved_at=timezone.now())
    _announce_visibility_change(comment, was_published)
    section = guidelines_section_for(reason_code)
    if action == Decision.Action.REMOVE:
        tell_author(comment, "remove", removal_reason, section)
        tell_reporters(comment, reporters, "removed", removal_reason, section)
    elif action == Decision.Action.RESTORE:
        tell_author(comment, "restore", public_reason)
    elif status == Comment.Status.PUBLISHED:
        if not was_published:
            tell_author(comment, "approve", public_reason)
        tell_reporters(comment, reporters, "kept")
    return _decide(
        actor=actor,
        action=action,
        comment=comment,
        reason=reason,
        public_reason=public_reason,
        reason_code=reason_code,
        previous_state=state,
    )


def _lock_comment_for_decision(comment: Comment, seen_status: str | None) -> Comment:
    """Lock the row and read it again: the decision applies to the comment as it is now."""
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status == Comment.Status.DELETED:
        # An author's deletion is final: no moderator action republishes it.
        raise Refused(_("Its author has already deleted this comment."), status=409)
    check_status_unchanged(comment, seen_status)
    return comment


@transaction.atomic
def comment_approve(
    *,
    actor,
    comment: Comment,
    reason: str = "",
    public_reason: str = "",
    seen_status: str | None = None,
) -> Decision:
    """Keep a comment: publish it if held, hidden or removed, and clear its reports.

    `seen_status` is the status the moderator saw; if it changed meanwhile, nothing is done."""
    check_moderator(actor)
    comment = _lock_comment_for_decision(comment, seen_status)
    return _set_comment_status(
        actor=actor,
        comment=comment,
        action=Decision.Action.APPROVE,
        status=Comment.Status.PUBLISHED,
        resolve_flags=True,
        reason=reason,
        public_reason=public_reason,
    )


@transaction.atomic
def comment_remove(
    *,
    actor,
    comment: Comment,
    reason_code: str,
    reason: str = "",
    seen_status: str | None = None,
) -> Decision:
    """Remove a comment: readers see "removed by a moderator" with the public reason."""
    check_moderator(actor)
    if reason_code not in ReasonCode.values:
        raise Refused(_("Choose the public reason for the removal."))
    comment = _lock_comment_for_decision(comment, seen_status)
    if comment.status == Comment.Status.REMOVED:
        raise Refused(_("This comment is already removed."), status=409)
    return _set_comment_status(
        actor=actor,
        comment=comment,
        action=Decision.Action.REMOVE,
        status=Comment.Status.REMOVED,
        removal_reason=str(ReasonCode(reason_code).label),
        resolve_flags=True,
        reason=reason,
        public_reason=str(ReasonCode(reason_code).label),
        reason_code=reason_code,
    )


@transaction.atomic
def comment_restore(
    *,
    actor,
    comment: Comment,
    reason: str = "",
    public_reason: str = "",
    seen_status: str | None = None,
) -> Decision:
    """Bring a removed comment back."""
    check_moderator(actor)
    comment = _lock_comment_for_decision(comment, seen_status)
    if comment.status != Comment.Status.REMOVED:
        raise Refused(_("Only a removed comment can be restored."), status=409)
    decision = _set_comment_status(
        actor=actor,
        comment=comment,
        action=Decision.Action.RESTORE,
        status=Comment.Status.PUBLISHED,
        resolve_flags=False,
        reason=reason,
        public_reason=public_reason,
    )
    # Those who reported it were told it was removed: they learn it is back.
    reporters = sorted(set(comment.flags.values_list("reporter_id", flat=True)))
    tell_reporters(comment, reporters, "kept", detail=public_reason)
    return decision


@transaction.atomic
def comments_decide_in_bulk(
    *,
    actor,
    comment_ids: list[int],
    action: str,
    reason_code: str = "",
    reason: str = "",
    seen_statuses: dict[int, str | None] | None = None,
) -> int:
    """Approve or remove many comments, all or nothing: if one cannot be decided (deleted by
    its author, decided by someone else meanwhile), none is, and the refusal names it."""
    check_moderator(actor)
    if action not in ("approve", "remove"):
        raise Refused(_("Choose approve or remove."))
    comments = list(Comment.objects.filter(pk__in=comment_ids).order_by("pk"))
    if not comments:
        raise Refused(_("Choose at least one comment."))
    seen_statuses = seen_statuses or {}
    for comment in comments:
        seen = seen_statuses.get(comment.pk)
        try:
            if action == "approve":
                comment_approve(actor=actor, comment=comment, reason=reason, seen_status=seen)
            else:
                comment_remove(
                    actor=actor,
                    comment=comment,
                    reason_code=reason_code,
                    reason=reason,
                    seen_status=seen,
                )
        except Refused as refusal:
            raise Refused(
                _("Nothing was done: comment #%(pk)s: %(message)s")
                % {"pk": comment.pk, "message": refusal.message},
                status=refusal.status,
            ) from None
    return len(comments)


@transaction.atomic
def thread_lock_set(*, actor, comment: Comment, locked: bool, reason: str = "") -> Decision:
    """Lock (or unlock) the thread a comment belongs to: no new replies in it."""
    check_moderator(actor)
    root = Comment.objects.select_for_update().get(pk=comment.thread_root_id)
    state = ThreadLock.of(root).dump()
    if locked == (root.locked_at is not None):
        raise Refused(_("The thread is already so."), status=409)
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
        raise Refused(_("Comments on this essay are already so."), status=409)
    state = EssayOpen.of(essay).dump()
    essay.comments_open = open_
    essay.save(update_fields=["comments_open"])
    action = Decision.Action.REOPEN if open_ else Decision.Action.CLOSE
    return _decide(actor=actor, action=action, essay=essay, reason=reason, previous_state=state)


@transaction.atomic
def essay_premoderation_set(
    *, actor, essay: Essay, premoderated: bool, reason: str = ""
) -> Decision:
    """Review every new comment on an essay before publication, or stop doing so."""
    check_moderator(actor)
    essay = Essay.objects.select_for_update().get(pk=essay.pk)
    if essay.premoderated == premoderated:
        raise Refused(_("Comments on this essay are already so."), status=409)
    state = EssayPremoderated.of(essay).dump()
    essay.premoderated = premoderated
    essay.save(update_fields=["premoderated"])
    action = (
        Decision.Action.ESSAY_PREMODERATE
        if premoderated
        else Decision.Action.ESSAY_CLEAR_PREMODERATION
    )
    return _decide(actor=actor, action=action, essay=essay, reason=reason, previous_state=state)


@transaction.atomic
def thread_reattach(*, actor, comment: Comment, paragraph, reason: str = "") -> Decision:
    """Put a thread that moved or was orphaned by a revision on another live paragraph.

    The thread keeps the text it was written about: readers see it beside the paragraph it
    now sits on, with the moderator's re-attachment said, whenever the two differ."""
    check_moderator(actor)
    root = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("paragraph")
        .get(pk=comment.thread_root_id)
    )
    paragraph = Paragraph.objects.get(pk=paragraph.pk)  # its state now, not as it was passed
    if paragraph.essay_id != root.essay_id or not paragraph.is_live or not paragraph.is_commentable:
        raise Refused(_("Choose a live paragraph of the same essay."))
    thread = list(
        Comment.objects.select_for_update().filter(models.Q(pk=root.pk) | models.Q(root=root))
    )
    state = ThreadAnchors.of(thread).dump()
    # A comment from before texts were remembered answered its paragraph as it reads now
    # (a thread on the whole essay answered no paragraph's text).
    written_about = root.anchor_text or (root.paragraph.text if root.paragraph else "")
    now = timezone.now()
    for c in thread:
        c.anchor_text = c.anchor_text or written_about
        c.paragraph = paragraph
        c.anchor_status = (
            Comment.AnchorStatus.PLACED
            if c.anchor_text in ("", paragraph.text)
            else Comment.AnchorStatus.MOVED
        )
        c.reattached_at = now
        c.quote_lost = (
            bool(c.quote)
            and locate_quote(paragraph.text, c.quote, c.quote_prefix, c.quote_suffix) is None
        )
    Comment.objects.bulk_update(thread, ThreadAnchors.FIELDS)
    return _decide(
        actor=actor,
        action=Decision.Action.REATTACH,
        comment=root,
        reason=reason,
        previous_state=state,
    )


# Authors -------------------------------------------------------------------------------


@transaction.atomic
def user_restrict(
    *, actor, user, kind: str, length: str = PERMANENT, reason: str = "", note: str = ""
) -> Decision:
    """Suspend an author (1, 7 or 30 days, or until lifted) or always pre-moderate them.
    `reason` is told to the author; `note` is for moderators only."""
    check_moderator(actor)
    check_may_restrict(actor, user)
    if kind not in Restriction.Kind.values:
        raise Refused(_("Choose a restriction."))
    if kind == Restriction.Kind.SUSPENSION and not reason.strip():
        raise Refused(_("Say why: the author is told."))
    if length != PERMANENT and length not in SUSPENSION_LENGTHS:
        raise Refused(_("Choose how long."))
    until = None if length == PERMANENT else timezone.now() + SUSPENSION_LENGTHS[length]
    if kind == Restriction.Kind.PREMODERATION:
        until = None
    if user.restrictions.active().filter(kind=kind).exists():
        raise Refused(_("The author is already so restricted; lift it first."), status=409)
    restriction = Restriction.objects.create(
        user=user, kind=kind, until=until, reason=reason.strip(), created_by=actor
    )
    if kind == Restriction.Kind.SUSPENSION:
        tell_member(user, "suspend", restriction.reason, until)
    action = (
        Decision.Action.SUSPEND
        if kind == Restriction.Kind.SUSPENSION
        else Decision.Action.PREMODERATE
    )
    return _decide(
        actor=actor,
        action=action,
        subject_user=user,
        # The author is told why (the restriction's reason is shown to them).
        public_reason=reason.strip(),
        reason=note.strip(),
        previous_state=RestrictionCreated(restriction.pk).dump(),
    )


@transaction.atomic
def user_restriction_lift(
    *, actor, user, kind: str, reason: str = "", public_reason: str = ""
) -> Decision:
    check_moderator(actor)
    check_may_restrict(actor, user)
    active = list(user.restrictions.select_for_update().active().filter(kind=kind))
    if not active:
        raise Refused(_("There is nothing to lift."), status=409)
    now = timezone.now()
    for restriction in active:
        restriction.lifted_at = now
        restriction.save(update_fields=["lifted_at"])
    if kind == Restriction.Kind.SUSPENSION:
        tell_member(user, "lift", public_reason.strip())
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
        public_reason=public_reason,
        previous_state=RestrictionsLifted([r.pk for r in active]).dump(),
    )


def manual_level_restore(user, level: int | None, *, actor=None) -> None:
    """Set (or, with None, clear) an account's manual trust level."""
    if level is None:
        ManualLevel.objects.filter(user=user).delete()
    else:
        ManualLevel.objects.update_or_create(
            user=user, defaults={"level": level, "set_by": actor, "set_at": timezone.now()}
        )


@transaction.atomic
def author_level_set(*, actor, user, level: str, reason: str = "") -> Decision:
    """Set an author's trust level by hand, to hold until a moderator changes it, or give
    the account back to the ladder (`level` AUTOMATIC_LEVEL). Same hierarchy as a
    restriction: only the site owner sets a moderator's, nobody their own."""
    check_moderator(actor)
    if user.pk == actor.pk:
        raise Refused(_("You cannot set your own trust level."), status=403)
    check_may_restrict(actor, user)
    if level == AUTOMATIC_LEVEL:
        new_level = None
    elif level in {str(value) for value in TrustLevel.values}:
        new_level = int(level)
    else:
        raise Refused(_("Choose a trust level, or “automatic”."))
    # Lock the account's row: two moderators setting its level at once are told in turn.
    User.objects.select_for_update().filter(pk=user.pk).first()
    before = ManualLevel.objects.filter(user=user).values_list("level", flat=True).first()
    if before == new_level:
        raise Refused(_("The author’s trust level is already so."), status=409)
    manual_level_restore(user, new_level, actor=actor)
    return _decide(
        actor=actor,
        action=Decision.Action.LEVEL_SET,
        subject_user=user,
        reason=reason.strip(),
        previous_state=LevelSet(before).dump(),
        facts={
            "level": new_level,
            "label": str(TrustLevel(new_level).label) if new_level is not None else "",
        },
    )


# Word lists ----------------------------------------------------------------------------


def _normalized_word(word: str) -> str:
    return " ".join(word.split())


@transaction.atomic
def word_rule_set(*, actor, word: str, kind: str, reason: str = "") -> Decision:
    """Put a word or phrase on the watched or the blocked list (moving it from the other
    list if it is there), and log the change."""
    check_moderator(actor)
    word = _normalized_word(word)
    if not word:
        raise Refused(_("Write the word or phrase."))
    if len(word) > WordRule._meta.get_field("word").max_length:
        raise Refused(_("A word or phrase is at most 100 characters."))
    if kind not in WordRule.Kind.values:
        raise Refused(_("Choose the list: watched or blocked."))
    rule = WordRule.objects.select_for_update().filter(word__iexact=word).first()
    if rule is not None and rule.kind == kind:
        raise Refused(_("“%(word)s” is already on that list.") % {"word": rule.word}, status=409)
    was = rule.kind if rule else ""
    if rule is None:
        rule = WordRule.objects.create(word=word, kind=kind)
        action = Decision.Action.WORD_ADD
    else:
        rule.kind = kind
        rule.save(update_fields=["kind"])
        action = Decision.Action.WORD_CHANGE
    return _decide(
        actor=actor,
        action=action,
        reason=reason,
        facts={"word": rule.word, "kind": kind, "was": was},
    )


@transaction.atomic
def word_rule_remove(*, actor, rule: WordRule, reason: str = "") -> Decision:
    """Take a word or phrase off its list, and log the change."""
    check_moderator(actor)
    rule = WordRule.objects.select_for_update().filter(pk=rule.pk).first()
    if rule is None:
        raise Refused(_("That word is no longer on a list."), status=409)
    facts = {"word": rule.word, "kind": "", "was": rule.kind}
    rule.delete()
    return _decide(actor=actor, action=Decision.Action.WORD_REMOVE, reason=reason, facts=facts)
