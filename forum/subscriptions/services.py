"""Following, muting and notifying. Posting a comment only enqueues one task; the fan-out to
every interested reader and their emails happens in the worker, in batches."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from essays.models import Essay, Paragraph
from forum.discussion.access import can_read_text, plain_excerpt_for
from forum.discussion.models import Comment
from forum.discussion.readers import reader_state_forget
from forum.discussion.services import has_verified_email
from forum.refusals import Refused

from .models import Notification, NotificationSettings, Subscription

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 500
Level = Subscription.Level
Reason = Notification.Reason


# Choosing ------------------------------------------------------------------------------


def notification_reason(*, levels: dict[str, str], is_parent_author: bool) -> str | None:
    """Why a reader hears of a new comment, or None. `levels` maps "thread", "paragraph" and
    "essay" to that reader's setting there, if any. The most specific setting wins; a reply
    to one's own comment gets through anything but a muted thread."""
    thread = levels.get("thread")
    if thread == Level.MUTE:
        return None
    if is_parent_author:
        return Reason.REPLY
    if thread == Level.FOLLOW:
        return Reason.THREAD
    paragraph = levels.get("paragraph")
    if paragraph == Level.MUTE:
        return None
    if paragraph == Level.FOLLOW:
        return Reason.PARAGRAPH
    if levels.get("essay") == Level.FOLLOW:
        return Reason.ESSAY
    return None


@transaction.atomic
def subscription_set(
    *,
    user,
    essay: Essay,
    paragraph: Paragraph | None = None,
    thread: Comment | None = None,
    level: str | None,
) -> Subscription | None:
    """Follow, mute, or (level None) go back to the default for one target."""
    if not user.is_authenticated:
        raise Refused(_("Log in to follow."), status=403)
    if paragraph is not None and paragraph.essay_id != essay.pk:
        raise Refused(_("That paragraph belongs to another essay."))
    if thread is not None:
        if thread.essay_id != essay.pk or thread.parent_id is not None:
            raise Refused(_("Threads are followed by their first comment, on this essay."))
        paragraph = None
    if level not in (None, Level.FOLLOW, Level.MUTE):
        raise Refused(_("Choose follow, mute, or neither."))
    target = {"user": user, "essay": essay, "paragraph": paragraph, "thread": thread}
    # Their pages show what they follow (forum/discussion/readers.py).
    reader_state_forget(user.pk)
    if level is None:
        Subscription.objects.filter(**target).delete()
        return None
    subscription, _created = Subscription.objects.update_or_create(
        **target, defaults={"level": level}
    )
    return subscription


def settings_for(user) -> NotificationSettings:
    return NotificationSettings.objects.get_or_create(user=user)[0]


@transaction.atomic
def notification_settings_set(*, user, email: str, follow_on_post: bool) -> NotificationSettings:
    preferences = settings_for(user)
    preferences.email = email
    preferences.follow_on_post = follow_on_post
    preferences.full_clean()
    preferences.save(update_fields=["email", "follow_on_post"])
    return preferences


# Events from the discussion ------------------------------------------------------------------


# Whether a member follows what they post in, kept in the cache: every post asks it. Saving
# or deleting their settings (the service, the admin, an account deleted) moves their entry's
# generation on: an answer read from the database before the change and kept after it bears
# the old generation, and is not believed.
FOLLOWS_ON_POST_SECONDS = 10 * 60  # also bounds a change made while Redis was away


def _follows_on_post_keys(user_id) -> tuple[str, str]:
    key = f"subscriptions:follows-on-post:{user_id}"
    return key, f"{key}:generation"


def follows_on_post(user_id: int) -> bool:
    """Whether this member follows the threads they post in (the default, with no settings
    saved: reading creates no row)."""
    key, generation_key = _follows_on_post_keys(user_id)
    found = cache.get_many([key, generation_key])
    generation = found.get(generation_key, 0)
    kept = found.get(key)
    if kept is not None and kept[0] == generation:
        return kept[1]
    saved = (
        NotificationSettings.objects.filter(user_id=user_id)
        .values_list("follow_on_post", flat=True)
        .first()
    )
    if saved is None:
        saved = NotificationSettings._meta.get_field("follow_on_post").default
    cache.set(key, (generation, saved), FOLLOWS_ON_POST_SECONDS)
    return saved


def forget_follows_on_post(sender, instance, **kwargs) -> None:
    """Receiver of NotificationSettings' post_save and post_delete: the kept answer's
    generation moves on now, and again once the change is committed (a post in between
    would read the setting from before it)."""
    _, generation_key = _follows_on_post_keys(instance.user_id)

    def move_on():
        cache.add(generation_key, 0, timeout=None)
        cache.incr(generation_key)

    move_on()
    transaction.on_commit(move_on)


def on_comment_published(sender, comment: Comment, **kwargs) -> None:
    """A comment became visible: its author follows the thread, and the fan-out is queued.

    Constant work, whatever the number of followers or comments: one read and two inserts,
    in the transaction that publishes the comment (forum/discussion/signals.py)."""
    from .tasks import fan_out_comment

    if comment.author_id and follows_on_post(comment.author_id):
        # Following already (or muted): the row stays as the reader left it.
        Subscription.objects.bulk_create(
            [
                Subscription(
                    user_id=comment.author_id,
                    essay_id=comment.essay_id,
                    thread_id=comment.root_id or comment.pk,
                    level=Level.FOLLOW,
                )
            ],
            ignore_conflicts=True,
        )
        reader_state_forget(comment.author_id)
    fan_out_comment.enqueue(comment.pk)


def on_comment_removed(sender, comment: Comment, **kwargs) -> None:
    """A comment left the page: so do the unread notifications about it (and from the
    bells of their recipients)."""
    unread = Notification.objects.filter(
        comment=comment, read_at__isnull=True, reason__in=Notification.ACTIVITY_REASONS
    )
    recipients = list(unread.values_list("recipient_id", flat=True).distinct())
    unread.delete()
    reader_state_forget(*recipients)


MODERATION_REASONS = {
    "hold": Reason.HELD,
    "approve": Reason.APPROVED,
    "remove": Reason.REMOVED,
    "hide": Reason.HIDDEN,
    "restore": Reason.RESTORED,
}
REPORT_OUTCOMES = {
    "hidden": Reason.REPORT_HIDDEN,
    "removed": Reason.REPORT_REMOVED,
    "kept": Reason.REPORT_KEPT,
}
ACCOUNT_ACTIONS = {"suspend": Reason.SUSPENDED, "lift": Reason.LIFTED}


def on_comment_moderated(
    sender, comment: Comment, action: str, detail: str = "", section: str = "", **kwargs
) -> None:
    """Tell an author what moderators (or the rules) decided about their comment."""
    reason = MODERATION_REASONS.get(action)
    if reason is None or not comment.author_id:
        return
    Notification.objects.create(
        recipient_id=comment.author_id,
        comment=comment,
        reason=reason,
        detail=detail,
        guidelines_section=section,
    )
    _notified([comment.author_id])


def on_reports_answered(
    sender,
    comment: Comment,
    reporter_ids: list[int],
    outcome: str,
    detail: str = "",
    section: str = "",
    **kwargs,
) -> None:
    """Tell the readers who reported a comment what became of it (never who decided)."""
    reason = REPORT_OUTCOMES.get(outcome)
    recipients = [pk for pk in reporter_ids if pk != comment.author_id]
    if reason is None or not recipients:
        return
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=pk,
                comment=comment,
                reason=reason,
                detail=detail,
                guidelines_section=section,
            )
            for pk in recipients
        ]
    )
    _notified(recipients)


def on_account_moderated(sender, user, action: str, detail: str = "", until=None, **kwargs) -> None:
    """Tell a member they are suspended (until when, and why), or may post again."""
    reason = ACCOUNT_ACTIONS.get(action)
    if reason is None:
        return
    Notification.objects.create(
        recipient=user, comment=None, reason=reason, detail=detail, until=until
    )
    _notified([user.pk])


# The fan-out (in the worker) ------------------------------------------------------------------


def fan_out(comment_id: int) -> int:
    """Create one notification per interested reader; returns how many were created."""
    comment = Comment.objects.select_related("parent").filter(pk=comment_id).first()
    if comment is None or comment.status != Comment.Status.PUBLISHED:
        return 0  # removed or held since: nothing to announce
    root_id = comment.root_id or comment.pk
    # A follow made after the comment was written (replying to it follows its thread) is
    # not news of it: the reader has read it. A mute counts whenever it was made.
    relevant = (
        Subscription.objects.filter(essay_id=comment.essay_id)
        .filter(models_q_for(comment, root_id))
        .filter(Q(level=Subscription.Level.MUTE) | Q(created__lte=comment.created))
    )
    levels: dict[int, dict[str, str]] = {}
    for user_id, paragraph_id, thread_id, level in relevant.values_list(
        "user_id", "paragraph_id", "thread_id", "level"
    ).iterator(chunk_size=2000):
        scope = "thread" if thread_id else "paragraph" if paragraph_id else "essay"
        levels.setdefault(user_id, {})[scope] = level
    parent_author = comment.parent.author_id if comment.parent_id else None
    if parent_author:
        levels.setdefault(parent_author, {})
    recipients = []
    for user_id, user_levels in levels.items():
        if user_id == comment.author_id:
            continue
        reason = notification_reason(levels=user_levels, is_parent_author=user_id == parent_author)
        if reason:
            recipients.append((user_id, reason))
    created = 0
    for start in range(0, len(recipients), FAN_OUT_BATCH):
        batch = recipients[start : start + FAN_OUT_BATCH]
        with transaction.atomic():
            made = Notification.objects.bulk_create(
                [Notification(recipient_id=u, comment_id=comment.pk, reason=r) for u, r in batch],
                ignore_conflicts=True,
            )
            created += len(made)
            _notified([u for u, _r in batch])
    return created


def models_q_for(comment: Comment, root_id: int):
    from django.db.models import Q

    scopes = Q(paragraph__isnull=True, thread__isnull=True) | Q(thread_id=root_id)
    if comment.paragraph_id:
        scopes |= Q(paragraph_id=comment.paragraph_id)
    return scopes


# Email -----------------------------------------------------------------------------------------


def _notified(user_ids: list[int]) -> None:
    """These readers have new notifications: their bell's count changes, and their email
    may be due."""
    reader_state_forget(*user_ids)
    _schedule_emails(user_ids)


def _schedule_emails(user_ids: list[int]) -> None:
    """Schedule one email per reader who wants them at once, unless one is already due:
    a burst of replies to one person is one email, sent when the window closes."""
    from .tasks import send_notification_email

    NotificationSettings.objects.bulk_create(
        [NotificationSettings(user_id=u) for u in user_ids], ignore_conflicts=True
    )
    due = timezone.now() + timedelta(seconds=settings.NOTIFICATION_EMAIL_WINDOW)
    waiting = list(
        NotificationSettings.objects.filter(
            user_id__in=user_ids,
            email=NotificationSettings.Email.IMMEDIATELY,
            email_due_at__isnull=True,
        ).values_list("user_id", flat=True)
    )
    NotificationSettings.objects.filter(user_id__in=waiting).update(email_due_at=due)
    # The database queue joins the surrounding transaction: no notification, no email task.
    for user_id in waiting:
        send_notification_email.using(run_after=due).enqueue(user_id, 1)


def pending_notifications(user):
    """What a reader has not been told yet. News of activity whose comment has since left
    the page is dropped: an email never carries a text its page no longer shows. So is
    "awaiting review" once a moderator has decided (that decision is the news)."""
    return (
        Notification.objects.filter(recipient=user, emailed_at__isnull=True, read_at__isnull=True)
        .exclude(
            Q(reason__in=Notification.ACTIVITY_REASONS)
            & ~Q(comment__status=Comment.Status.PUBLISHED)
        )
        .exclude(Q(reason=Notification.Reason.HELD) & ~Q(comment__status=Comment.Status.PENDING))
        .select_related(
            *("comment__essay", "comment__paragraph", "comment__author", "comment__root"),
            *("comment__parent__essay", "comment__parent__author"),
        )
        .order_by("comment__essay_id", "created")
    )


def quote_notifications(notifications, viewer) -> None:
    """Give each notification the texts a reader may see, as plain text (no Markdown):
    `excerpt`, its comment's; `replied_to`, the comment it answers (for a reply, the
    reader's own). Each is "" where the reader may not read it now."""
    for notification in notifications:
        comment = notification.comment
        if comment is None:  # news about the reader's account
            notification.excerpt = notification.replied_to = ""
            continue
        notification.excerpt = plain_excerpt_for(comment, viewer, moderator=False)
        parent = comment.parent if comment.parent_id else None
        notification.replied_to = (
            plain_excerpt_for(parent, viewer, moderator=False) if parent is not None else ""
        )


def email_subject(notifications, *, digest: bool) -> str:
    """One line that says what the email brings: the one thing, several of one kind, or
    several kinds (the latest news about the reader's own comments first)."""
    count = len(notifications)
    if digest:
        return _("Your daily digest: %(count)s new") % {"count": count}
    if count == 1:
        return notifications[0].headline_in_place
    reasons = {n.reason for n in notifications}
    one_essay = len({n.comment.essay_id for n in notifications if n.comment_id}) == 1
    if reasons == {Reason.ESSAY} and one_essay:
        return _("%(count)s new comments on “%(essay)s”") % {
            "count": count,
            "essay": notifications[0].comment.essay.title,
        }
    if len(reasons) == 1 or reasons <= set(Notification.ACCOUNT_REASONS):
        return str(Notification.SUBJECTS_OF_SEVERAL[reasons.pop()]) % {"count": count}
    if reasons <= set(Notification.ACTIVITY_REASONS):
        return _("%(count)s new comments for you") % {"count": count}
    # The latest news of the reader's own comments: "approved" after "awaiting review".
    latest = max((n for n in notifications if not n.is_activity), key=lambda n: (n.created, n.pk))
    return _("%(headline)s, and %(more)s more") % {
        "headline": latest.headline_in_place,
        "more": count - 1,
    }


def build_email(user, notifications, *, digest: bool) -> EmailMultiAlternatives:
    link = unsubscribe_token_for(user, notifications)
    unsubscribe_url = settings.SITE_URL + reverse(
        "subscriptions:unsubscribe", kwargs={"token": link.token}
    )
    groups: dict[int, dict] = {}
    quote_notifications(notifications, user)
    account_news = []
    for notification in notifications:
        comment = notification.comment
        if comment is None:
            account_news.append(notification)
            continue
        readable = can_read_text(comment, user, moderator=False)
        notification.excerpt_html = comment.body_html if readable else ""
        essay_group = groups.setdefault(comment.essay_id, {"essay": comment.essay, "threads": {}})
        essay_group["threads"].setdefault(comment.thread_root_id, []).append(notification)
    context = {
        "user": user,
        "groups": list(groups.values()),
        "account_news": account_news,
        "guidelines_url": settings.SITE_URL + reverse("discussion:guidelines"),
        "count": len(notifications),
        "site_url": settings.SITE_URL,
        "unsubscribe_url": unsubscribe_url,
        "settings_url": settings.SITE_URL + reverse("subscriptions:list"),
        "digest": digest,
    }
    subject = email_subject(notifications, digest=digest)
    # A header is one line: whatever a name holds, the subject cannot carry a line break.
    subject = " ".join(f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}".split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("subscriptions/email.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("subscriptions/email.html", context), "text/html")
    return message


def send_pending_email(user_id: int, *, digest: bool = False) -> int:
    """Send what a reader has not yet been told, in one email; returns how many it holds.

    Each notification goes out in one email at most, however many workers run and whatever
    fails: the notifications are claimed (marked emailed) in a transaction that holds the
    reader's settings row, so a second email task for the same reader waits and then finds
    nothing; the email is sent only once the claim is committed. Raises if sending fails,
    after giving the notifications back, for the retry. (A worker killed between the claim
    and the send loses that one email; the notifications stay on the site. A second email
    with the same news would be worse.)"""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    settings_for(user)
    wanted = NotificationSettings.Email.DAILY if digest else NotificationSettings.Email.IMMEDIATELY
    with transaction.atomic():
        preferences = NotificationSettings.objects.select_for_update().get(user=user)
        preferences.email_due_at = None
        preferences.save(update_fields=["email_due_at"])
        if preferences.email != wanted or not has_verified_email(user):
            return 0
        notifications = list(pending_notifications(user))
        if not notifications:
            return 0
        claimed_at = timezone.now()
        claimed = Notification.objects.filter(pk__in=[n.pk for n in notifications])
        claimed.update(emailed_at=claimed_at)
    try:
        build_email(user, notifications, digest=digest).send()
    except Exception:
        claimed.filter(emailed_at=claimed_at).update(emailed_at=None)
        raise
    return len(notifications)


def send_digests() -> int:
    """One digest per reader on the daily setting with something new; safe to run twice."""
    sent = 0
    daily = NotificationSettings.objects.filter(email=NotificationSettings.Email.DAILY)
    users = (
        Notification.objects.filter(
            recipient__notification_settings__in=daily,
            emailed_at__isnull=True,
            read_at__isnull=True,
        )
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for user_id in list(users):
        try:
            sent += bool(send_pending_email(user_id, digest=True))
        except Exception:
            logger.exception(
                "Digest for user %s failed; it stays pending for the next run.", user_id
            )
    return sent


# Unsubscribing ---------------------------------------------------------------------------------


# The token is signed, not stored: nothing is written per email, and nobody can make one for
# another reader or another scope. It never expires: a link in an email must still stop the
# email years later (an expired link is what drives readers to the spam button), and all it
# can do is stop email, which its reader can undo on their settings page. Changing the
# SECRET_KEY voids every link in every email sent: move the old key to SECRET_KEY_FALLBACKS.
UNSUBSCRIBE_SALT = "forum.subscriptions.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeLink:
    """Whom an unsubscribe link is for, and the one essay or thread its email was about."""

    user: AbstractBaseUser
    essay: Essay | None = None
    thread: Comment | None = None

    @property
    def token(self) -> str:
        """The signed [user, essay, thread] ids, in URL-safe characters and ":"."""
        essay_id = self.essay.pk if self.essay else None
        thread_id = self.thread.pk if self.thread else None
        payload = [self.user.pk, essay_id, thread_id]
        return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(payload)


def unsubscribe_token_for(user, notifications) -> UnsubscribeLink:
    """The narrowest scope the email covers: its one thread, its one essay, or everything."""
    about_comments = [n for n in notifications if n.comment_id]
    if len(about_comments) < len(notifications):  # news about the account: all email
        return UnsubscribeLink(user=user)
    essays = {n.comment.essay for n in about_comments}
    threads = {n.comment.root or n.comment for n in about_comments}
    return UnsubscribeLink(
        user=user,
        essay=essays.pop() if len(essays) == 1 else None,
        thread=threads.pop() if len(threads) == 1 and len(essays) <= 1 else None,
    )


def access_unsubscribe_link(token: str) -> UnsubscribeLink:
    """The link a token names, or 404 when it is not one we signed: tampered, truncated,
    made for another purpose, or for a reader who is gone. An essay or thread deleted since
    narrows nothing any more: the link still stops all email."""
    try:
        payload = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):  # ValueError: signed, but not JSON we wrote
        raise Http404 from None
    match payload:
        case [int(), int() | None, int() | None]:
            user_id, essay_id, thread_id = payload
        case _:
            raise Http404
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404
    essay = Essay.objects.filter(pk=essay_id).first() if essay_id else None
    thread = None
    if thread_id:
        thread = Comment.objects.select_related("essay").filter(pk=thread_id, parent=None).first()
    return UnsubscribeLink(user=user, essay=essay, thread=thread)


@transaction.atomic
def unsubscribe(*, link: UnsubscribeLink, scope: str) -> str:
    """Stop email from one link: "thread" or "essay" mutes that target, "all" stops email."""
    user = link.user
    if scope == "thread" and link.thread:
        subscription_set(user=user, essay=link.thread.essay, thread=link.thread, level=Level.MUTE)
        return "thread"
    if scope == "essay" and link.essay:
        subscription_set(user=user, essay=link.essay, level=Level.MUTE)
        return "essay"
    preferences = settings_for(user)
    preferences.email = NotificationSettings.Email.NEVER
    preferences.save(update_fields=["email"])
    return "all"


def notifications_mark_read(*, user, notification: Notification | None = None) -> int:
    notifications = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification is not None:
        notifications = notifications.filter(pk=notification.pk)
    marked = notifications.update(read_at=timezone.now())
    # Once marked: a page made meanwhile must not keep the old count.
    reader_state_forget(user.pk)
    return marked
