"""What moderation answers when the discussion asks (the contract is
`forum.discussion.policy.DiscussionPolicy`).

The discussion finds `ModerationPolicy` through settings.DISCUSSION_POLICY, so that it
never imports moderation: the dependency stays one way (moderation uses discussion).
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, Func, OuterRef, Q, Subquery, Value
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from forum.discussion.models import Comment
from forum.discussion.policy import PostingLimit

from . import rules
from .models import Decision, ManualLevel, Restriction, TrustLevel, WordRule

# Who can moderate (the ids of `moderators()`), kept in the cache so that a post or a page asks
# no question of it: the receivers below forget it when a group, a permission or an account
# changes. Another process with its own cache (local memory, in development) sees such a change
# within this many seconds. Services that act ask the database (`is_moderator(fresh=True)`).
MODERATOR_IDS_KEY = "moderation:moderator-ids"
MODERATOR_IDS_SECONDS = 60


def is_moderator(user, *, fresh: bool = False) -> bool:
    """Whether `user` may moderate now: the permission, and no active restriction (a
    restricted moderator cannot moderate, not even to lift their own suspension).

    Who holds the permission comes from the cache (MODERATOR_IDS_KEY), and the answer is
    kept on the user object for the rest of a request's reads; services that act ask
    `fresh`, of the database."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    cached = None if fresh else getattr(user, "_is_moderator", None)
    if cached is None:
        if fresh:
            holds_office = moderators().filter(pk=user.pk).exists()
        else:
            holds_office = user.pk in moderating_ids()
        cached = holds_office and not user.restrictions.active().exists()
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


def moderating_ids() -> frozenset[int]:
    """The ids of `moderators()`, from the cache (see MODERATOR_IDS_KEY)."""
    ids = cache.get(MODERATOR_IDS_KEY)
    if ids is None:
        ids = sorted(moderators().values_list("pk", flat=True))
        cache.set(MODERATOR_IDS_KEY, ids, MODERATOR_IDS_SECONDS)
    return frozenset(ids)


def moderators_exist() -> bool:
    """Whether anyone could review a held comment (from the cache; see MODERATOR_IDS_KEY).

    A restriction does not count: a suspended moderator is one again when it ends."""
    return bool(moderating_ids())


def forget_moderators(**kwargs) -> None:
    """Forget who moderates: now, and again once the change is committed (a post between
    the two would otherwise remember the answer from before it)."""
    cache.delete(MODERATOR_IDS_KEY)
    transaction.on_commit(lambda: cache.delete(MODERATOR_IDS_KEY))


def on_account_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """post_save of an account: who moderates may have changed when it became (or stopped
    being) active or the site owner. A new account joins no group before it is saved, and a
    login saves only last_login: neither changes anything."""
    if created and not instance.is_superuser:
        return
    if update_fields is not None and not {"is_active", "is_superuser"} & set(update_fields):
        return
    forget_moderators()


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


def posting_refused(user_id, *, now) -> Exists:
    """True where the member whose id is `user_id` (an expression) is suspended at `now`."""
    return Exists(
        Restriction.objects.active(now=now).filter(
            user_id=user_id, kind=Restriction.Kind.SUSPENSION
        )
    )


# The blocked and the watched words, kept in the cache so that a post asks no question of
# them: the receivers below forget them when a rule is saved or deleted. Another process
# with its own cache (local memory, in development) sees a change within this many seconds.
WORD_LISTS_KEY = "moderation:word-lists"
WORD_LISTS_SECONDS = 60


def word_list(kind: str) -> list[str]:
    """The words and phrases of one list (a WordRule.Kind), as moderators wrote them, in
    alphabetical order."""
    lists = cache.get(WORD_LISTS_KEY)
    if lists is None:
        lists = {kind: [] for kind in WordRule.Kind.values}
        for word, rule_kind in WordRule.objects.order_by("word").values_list("word", "kind"):
            lists[rule_kind].append(word)
        cache.set(WORD_LISTS_KEY, lists, WORD_LISTS_SECONDS)
    return lists[kind]


def forget_word_lists(**kwargs) -> None:
    """Receiver of WordRule's post_save and post_delete: now, and again once the change is
    committed (a post between the two would otherwise remember the lists from before it)."""
    cache.delete(WORD_LISTS_KEY)
    transaction.on_commit(lambda: cache.delete(WORD_LISTS_KEY))


def blocked_words(body: str) -> list[str]:
    """The blocked list's entries, as moderators wrote them, that a reader would see in the
    comment with Markdown source `body`: in its text or in where its links go."""
    from forum.discussion.markup import link_targets, render_comment, visible_text

    words = word_list(WordRule.Kind.BLOCKED)
    html = render_comment(body)
    return rules.words_in("\n".join([visible_text(html), *link_targets(html)]), words)


# The trust ladder -------------------------------------------------------------------------


def ladder() -> list[rules.Rung]:
    """The rungs, from the settings. The first rung keeps the site's first rule: an account
    with fewer than MODERATION_FIRST_COMMENTS_REVIEWED published comments waits for review,
    so it cannot climb before that many were published."""
    first_reviewed = settings.MODERATION_FIRST_COMMENTS_REVIEWED
    return [
        rules.Rung(
            level=rules.NEW,
            after_comments=0,
            after_days=0,
            links=min(settings.MODERATION_NEW_LINK_LIMIT, settings.MODERATION_LINK_LIMIT),
            comments_per_hour=settings.MODERATION_NEW_COMMENTS_PER_HOUR or None,
            stranger_replies_per_hour=settings.MODERATION_NEW_STRANGER_REPLIES_PER_HOUR or None,
            first_comments_reviewed=first_reviewed,
        ),
        rules.Rung(
            level=rules.MEMBER,
            after_comments=max(settings.MODERATION_MEMBER_AFTER_COMMENTS, first_reviewed),
            after_days=settings.MODERATION_MEMBER_AFTER_DAYS,
            links=settings.MODERATION_LINK_LIMIT,
        ),
        rules.Rung(
            level=rules.TRUSTED,
            after_comments=max(settings.MODERATION_TRUSTED_AFTER_COMMENTS, first_reviewed),
            after_days=settings.MODERATION_TRUSTED_AFTER_DAYS,
            links=max(settings.MODERATION_TRUSTED_LINK_LIMIT, settings.MODERATION_LINK_LIMIT),
        ),
    ]


# The value of the level form that gives an account back to the ladder.
AUTOMATIC_LEVEL = "auto"


@dataclass(frozen=True)
class Standing:
    """Where an account stands on the ladder now, and what it is allowed there."""

    level: int
    manual: bool  # set by a moderator, not climbed
    rung: rules.Rung
    published_count: int  # counted only as far as the ladder looks
    last_removal: datetime | None
    answered: bool | None = None  # see author_standing's `answered_by`
    premoderated: bool | None = None  # under a pre-moderation restriction (author_standing)

    @property
    def label(self) -> str:
        return TrustLevel(self.level).label

    @property
    def options(self) -> list[tuple[str, str, bool]]:
        """The level form's choices (value, label, whether chosen now): the ladder, or a
        level held by hand."""
        return [
            (AUTOMATIC_LEVEL, _("Automatic (the ladder decides)"), not self.manual),
            *(
                (str(value), label, self.manual and self.level == value)
                for value, label in TrustLevel.choices
            ),
        ]

    def removed_within(self, days: int) -> bool:
        return self.last_removal is not None and (
            timezone.now() - self.last_removal < timedelta(days=days)
        )


def standing_removals():
    """Removals that still count against their author: not undone, and the comment still
    removed (a restored comment no longer does)."""
    return Decision.objects.filter(
        action=Decision.Action.REMOVE,
        undone_by__isnull=True,
        comment__status=Comment.Status.REMOVED,
    )


def standing_from(
    *, joined: datetime, published_count: int, last_removal, manual_level: int | None
) -> Standing:
    """The standing these facts give (no query: reads gather the facts for many authors)."""
    rungs = ladder()
    since = last_removal or joined
    if manual_level is None:
        days = (timezone.now() - since).total_seconds() / 86400
        level = rules.trust_level(
            published_count=published_count, days_without_removal=days, ladder=rungs
        )
    else:
        level = manual_level
    rung = next(rung for rung in rungs if rung.level == level)
    return Standing(level, manual_level is not None, rung, published_count, last_removal)


def _counted(queryset, *, up_to: int):
    """A subquery: how many rows `queryset` has, counted no further than `up_to` (however
    many there are, the database reads at most that many). `queryset` sits two levels
    down: it names the outer query's row as OuterRef(OuterRef(...))."""
    first = queryset.order_by().values("pk")[:up_to]
    return Subquery(
        queryset.model.objects.filter(pk__in=first)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )


def author_standing(author, *, answered_by: int | None = None) -> Standing:
    """Where `author` stands now, in one query however long their history: their published
    comments counted only as far as the highest rung asks, their latest standing removal and
    a level set by hand. With `answered_by` (a member's id), the same query says whether
    that member ever replied to the author (`Standing.answered`). It also says whether a
    pre-moderation restriction holds the author's comments (`Standing.premoderated`)."""
    enough = max(rung.after_comments for rung in ladder())
    facts = {
        "published_count": _counted(
            Comment.objects.filter(
                author=OuterRef(OuterRef("pk")), status=Comment.Status.PUBLISHED
            ),
            up_to=enough,
        )
        if enough
        else Value(0),
        "latest_removal": Subquery(
            standing_removals()
            .filter(subject_user=OuterRef("pk"))
            .order_by("-created")
            .values("created")[:1]
        ),
        "level_set_by_hand": Subquery(
            ManualLevel.objects.filter(user=OuterRef("pk")).values("level")
        ),
        "premoderated": Exists(
            Restriction.objects.active().filter(
                user=OuterRef("pk"), kind=Restriction.Kind.PREMODERATION
            )
        ),
    }
    if answered_by is not None:
        facts["answered"] = Exists(
            Comment.objects.filter(author_id=answered_by, parent__author=OuterRef("pk"))
        )
    row = get_user_model().objects.filter(pk=author.pk).values(**facts).get()
    standing = standing_from(
        joined=author.date_joined,
        published_count=row["published_count"],
        last_removal=row["latest_removal"],
        manual_level=row["level_set_by_hand"],
    )
    return replace(standing, answered=row.get("answered"), premoderated=row["premoderated"])


# A post asks posting_limits, then hold_reasons: the first leaves the standing it read on
# the author object for the second to take (and not keep: the next post reads afresh), or
# that no one moderates.
STANDING_FOR_THIS_POST = "_standing_for_this_post"
NO_ONE_MODERATES = object()


def posting_limits(*, author, parent: Comment | None = None) -> list[PostingLimit]:
    """The limits of the author's trust level on this post: comments an hour and, for a
    reply to a member who never replied to them, replies an hour to such strangers. Like
    holds, none while no one can moderate."""
    if not moderators_exist():
        setattr(author, STANDING_FOR_THIS_POST, NO_ONE_MODERATES)
        return []
    # A reply to another member: does that member ever answer this author (asked in the
    # same read as the standing)?
    other = parent.author_id if parent is not None and parent.author_id != author.pk else None
    standing = author_standing(author, answered_by=other)
    setattr(author, STANDING_FOR_THIS_POST, standing)
    rung = standing.rung
    limits = []
    if rung.comments_per_hour:
        limits.append(
            PostingLimit(
                scope="level-comments",
                limits=[(rung.comments_per_hour, 3600)],
                message=_(
                    "At your account’s trust level (%(level)s) the site allows %(limit)s "
                    "comments an hour. Try again in %(seconds)s seconds; your text is kept here."
                )
                % {
                    "level": standing.label,
                    "limit": rung.comments_per_hour,
                    "seconds": "%(seconds)s",
                },
            )
        )
    if other is not None and not standing.answered and rung.stranger_replies_per_hour:
        limits.append(
            PostingLimit(
                scope="level-stranger-replies",
                limits=[(rung.stranger_replies_per_hour, 3600)],
                message=_(
                    "At your account’s trust level (%(level)s) the site allows %(limit)s "
                    "replies an hour to members who have not replied to you. Try again in "
                    "%(seconds)s seconds, or reply where you are already in conversation; "
                    "your text is kept here."
                )
                % {
                    "level": standing.label,
                    "limit": rung.stranger_replies_per_hour,
                    "seconds": "%(seconds)s",
                },
            )
        )
    return limits


# Holding for review -----------------------------------------------------------------------


def _seen(html: str) -> tuple[str, list[str]]:
    """What a reader sees of a comment's HTML, and the links they can follow."""
    from forum.discussion.markup import link_targets, visible_text

    links = link_targets(html)
    return "\n".join([visible_text(html), *links]), links


def hold_reasons(*, author, essay, body: str, editing: Comment | None = None) -> list[str]:
    """Why a new or edited comment must wait for review (empty: publish it now).

    `editing` is the comment as it stands before the edit. Links and watched words are
    judged on the comment as readers would see it. While no one can moderate (a fresh
    install, before its owner makes a moderator) nothing waits: it would wait for ever,
    unseen."""
    # (The author may be the request's lazy user: getattr and delattr reach the account.)
    standing = getattr(author, STANDING_FOR_THIS_POST, None)
    if standing is not None:
        delattr(author, STANDING_FOR_THIS_POST)
    if standing is NO_ONE_MODERATES or (standing is None and not moderators_exist()):
        return []
    from forum.discussion.markup import render_comment

    watched = word_list(WordRule.Kind.WATCHED)
    if standing is None:
        standing = author_standing(author)
    text, links = _seen(render_comment(body))
    premoderated = standing.premoderated
    if editing is not None and editing.status == Comment.Status.PUBLISHED:
        text_before, links_before = _seen(editing.body_html)
        return rules.edit_hold_reasons(
            text=text,
            text_before=text_before,
            link_count=len(links),
            link_count_before=len(links_before),
            author_premoderated=premoderated,
            author_recently_removed=standing.removed_within(
                settings.MODERATION_RECENT_REMOVAL_DAYS
            ),
            essay_premoderated=essay.premoderated,
            link_limit=standing.rung.links,
            watched_words=watched,
        )
    return rules.hold_reasons(
        text=text,
        link_count=len(links),
        author_published_count=standing.published_count,
        first_comments_reviewed=standing.rung.first_comments_reviewed,
        author_premoderated=premoderated,
        essay_premoderated=essay.premoderated,
        link_limit=standing.rung.links,
        link_limit_is_new_accounts=standing.rung.links < settings.MODERATION_LINK_LIMIT,
        watched_words=watched,
        editing_held_comment=editing is not None and editing.status == Comment.Status.PENDING,
    )


class ModerationPolicy:
    """This module's answers, as the discussion's `DiscussionPolicy`."""

    is_moderator = staticmethod(is_moderator)
    moderator_ids = staticmethod(moderator_ids)
    posting_refusal = staticmethod(posting_refusal)
    posting_refused = staticmethod(posting_refused)
    blocked_words = staticmethod(blocked_words)
    hold_reasons = staticmethod(hold_reasons)
    posting_limits = staticmethod(posting_limits)
