"""What moderation answers when the discussion asks (the contract is
`forum.discussion.policy.DiscussionPolicy`).

The discussion finds `ModerationPolicy` through settings.DISCUSSION_POLICY, so that it
never imports moderation: the dependency stays one way (moderation uses discussion).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from forum.discussion.models import Comment

from . import rules
from .models import Restriction, WordRule

# Whether anyone can moderate, kept in the cache so that a post asks no question of it: the
# receivers below forget it when a group, a permission or an account changes. Another process
# with its own cache (local memory, in development) sees such a change within this many seconds.
MODERATORS_EXIST_KEY = "moderation:moderators-exist"
MODERATORS_EXIST_SECONDS = 60


def is_moderator(user, *, fresh: bool = False) -> bool:
    """Whether `user` may moderate now: the permission, and no active restriction (a
    restricted moderator cannot moderate, not even to lift their own suspension).

    The answer is kept on the user object for the rest of a request's reads; services
    that act ask `fresh`."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    cached = None if fresh else getattr(user, "_is_moderator", None)
    if cached is None:
        cached = user.has_perm("moderation.moderate") and not user.restrictions.active().exists()
        user._is_moderator = cached
    return cached


def moderators():
    """Every active account that holds the moderation permission: through a group (the
    Moderators group), directly, or as the site owner (a superuser holds every permission).
    `is_moderator` asks the same of one account, and also that no restriction is active."""
    moderate = Permission.objects.filter(content_type__app_label="moderation", codename="moderate")
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__in=moderate)
            | Q(user_permissions__in=moderate)
        )
        .distinct()
    )


def moderator_ids() -> set[int]:
    return set(moderators().values_list("pk", flat=True))


def moderators_exist() -> bool:
    """Whether anyone could review a held comment (from the cache; see MODERATORS_EXIST_KEY).

    A restriction does not count: a suspended moderator is one again when it ends."""
    exist = cache.get(MODERATORS_EXIST_KEY)
    if exist is None:
        exist = moderators().exists()
        cache.set(MODERATORS_EXIST_KEY, exist, MODERATORS_EXIST_SECONDS)
    return exist


def forget_moderators_exist(**kwargs) -> None:
    """Now, and again once the change is committed: a post between the two would otherwise
    remember the answer from before it."""
    cache.delete(MODERATORS_EXIST_KEY)
    transaction.on_commit(lambda: cache.delete(MODERATORS_EXIST_KEY))


def on_account_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """post_save of an account: who moderates may have changed when it became (or stopped
    being) active or the site owner. A new account joins no group before it is saved, and a
    login saves only last_login: neither changes anything."""
    if created and not instance.is_superuser:
        return
    if update_fields is not None and not {"is_active", "is_superuser"} & set(update_fields):
        return
    forget_moderators_exist()


def active_restriction(user, kind) -> Restriction | None:
    if not user.is_authenticated:
        return None
    return user.restrictions.active().filter(kind=kind).order_by("-created").first()


def posting_refusal(user) -> str | None:
    """Why this reader may not post at all right now (a suspension), in their words."""
    suspension = active_restriction(user, Restriction.Kind.SUSPENSION)
    if suspension is None:
        return None
    if suspension.until is None:
        when = _("You are suspended from posting until a moderator lifts it.")
    else:
        when = _("You are suspended from posting until %(until)s.") % {
            "until": formats.date_format(timezone.localtime(suspension.until), "j M Y, H:i T")
        }
    reason = _(" Reason: %(reason)s") % {"reason": suspension.reason} if suspension.reason else ""
    return f"{when}{reason}"


def blocked_words(body: str) -> list[str]:
    """The blocked list's entries, as moderators wrote them, that a reader would see in the
    comment with Markdown source `body`: in its text or in where its links go."""
    from forum.discussion.markup import link_targets, render_comment, visible_text

    words = WordRule.objects.filter(kind=WordRule.Kind.BLOCKED).values_list("word", flat=True)
    html = render_comment(body)
    return rules.words_in("\n".join([visible_text(html), *link_targets(html)]), words)


def hold_reasons(*, author, essay, body: str, editing: Comment | None = None) -> list[str]:
    """Why a new or edited comment must wait for review (empty: publish it now).

    Links and watched words are judged on the comment as readers would see it. While no one
    can moderate (a fresh install, before its owner makes a moderator) nothing waits: it
    would wait for ever, unseen."""
    if not moderators_exist():
        return []
    from forum.discussion.markup import link_targets, render_comment, visible_text

    watched = WordRule.objects.filter(kind=WordRule.Kind.WATCHED).values_list("word", flat=True)
    first_comments_reviewed = settings.MODERATION_FIRST_COMMENTS_REVIEWED
    # Only whether the author has reached the first few counts, not how far past them.
    published = Comment.objects.filter(author=author, status=Comment.Status.PUBLISHED)
    html = render_comment(body)
    links = link_targets(html)
    return rules.hold_reasons(
        text="\n".join([visible_text(html), *links]),
        link_count=len(links),
        author_published_count=(
            published[:first_comments_reviewed].count() if first_comments_reviewed else 0
        ),
        first_comments_reviewed=first_comments_reviewed,
        author_premoderated=active_restriction(author, Restriction.Kind.PREMODERATION) is not None,
        essay_premoderated=essay.premoderated,
        link_limit=settings.MODERATION_LINK_LIMIT,
        watched_words=list(watched),
        editing_held_comment=editing is not None and editing.status == Comment.Status.PENDING,
    )


class ModerationPolicy:
    """This module's answers, as the discussion's `DiscussionPolicy`."""

    is_moderator = staticmethod(is_moderator)
    moderator_ids = staticmethod(moderator_ids)
    posting_refusal = staticmethod(posting_refusal)
    blocked_words = staticmethod(blocked_words)
    hold_reasons = staticmethod(hold_reasons)
