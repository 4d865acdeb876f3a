"""Moderation's reads: the queues and their cards, authors' records, the audit log and its
filters, the word lists and authors' notices.

Each is one function the views call; none writes. The queue's reads take a constant number
of queries whatever the queue's length (tests/moderation/test_reads.py counts them)."""

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, Window
from django.db.models.functions import RowNumber

from forum.discussion.models import Comment, Guidelines

from .marks import marked_changes
from .models import WORD_LIST_ACTIONS, Decision, Flag, ManualLevel, Restriction, WordRule
from .policy import author_standing, standing_from, standing_removals

# What an author is told about their comments and account (never the private notes).
NOTICE_ACTIONS = [
    Decision.Action.HOLD,
    Decision.Action.HIDE,
    Decision.Action.APPROVE,
    Decision.Action.REMOVE,
    Decision.Action.RESTORE,
    Decision.Action.SUSPEND,
    Decision.Action.LIFT,
    Decision.Action.PREMODERATE,
    Decision.Action.CLEAR_PREMODERATION,
    Decision.Action.UNDO,
]


# Decisions about an author's own conduct: their record. Locking or re-attaching a thread
# names the thread's author too, but says nothing about them; holds are counted apart.
AUTHOR_RECORD_ACTIONS = [
    Decision.Action.HIDE,
    Decision.Action.APPROVE,
    Decision.Action.REMOVE,
    Decision.Action.RESTORE,
    Decision.Action.SUSPEND,
    Decision.Action.LIFT,
    Decision.Action.PREMODERATE,
    Decision.Action.CLEAR_PREMODERATION,
    Decision.Action.LEVEL_SET,
]
# Steps on a whole thread, which name its first comment's author without being about them.
THREAD_ACTIONS = [Decision.Action.LOCK, Decision.Action.UNLOCK, Decision.Action.REATTACH]
QUEUE_PAGE_SIZE = 25
REPLIES_SHOWN = 5


def author_histories(comments) -> dict:
    """Per author: the account's age, counts of their comments (published, held, removed,
    reported), their latest decisions, active restrictions and trust level. Five queries,
    however many authors."""
    authors = {c.author_id: c.author for c in comments if c.author_id}
    reported = Exists(Flag.objects.filter(comment=OuterRef("pk")))
    counts = {
        row["author"]: row
        for row in Comment.objects.filter(author__in=authors)
        .annotate(reported=reported)
        .values("author")
        .annotate(
            total=Count("id"),
            published=Count("id", filter=Q(status=Comment.Status.PUBLISHED)),
            held=Count("id", filter=Q(status=Comment.Status.PENDING)),
            removed=Count("id", filter=Q(status=Comment.Status.REMOVED)),
            reported_count=Count("id", filter=Q(reported=True)),
        )
        .order_by()
    }
    decisions = {}
    latest_first = [F("created").desc(), F("id").desc()]
    for decision in (
        Decision.objects.filter(subject_user__in=authors, action__in=AUTHOR_RECORD_ACTIONS)
        .annotate(rank=Window(RowNumber(), partition_by=F("subject_user"), order_by=latest_first))
        .filter(rank__lte=5)
        .select_related("actor")
        .order_by(*latest_first)
    ):
        decisions.setdefault(decision.subject_user_id, []).append(decision)
    restrictions = {}
    for restriction in Restriction.objects.active().filter(user__in=authors):
        restrictions.setdefault(restriction.user_id, []).append(restriction)
    last_removals = dict(
        standing_removals()
        .filter(subject_user__in=authors)
        .values("subject_user")
        .annotate(last=Max("created"))
        .values_list("subject_user", "last")
        .order_by()
    )
    manual_levels = dict(
        ManualLevel.objects.filter(user__in=authors).values_list("user_id", "level")
    )
    return {
        pk: {
            "joined": author.date_joined,
            "counts": counts.get(pk, {}),
            "decisions": decisions.get(pk, []),
            "restrictions": restrictions.get(pk, []),
            "standing": standing_from(
                joined=author.date_joined,
                published_count=counts.get(pk, {}).get("published", 0),
                last_removal=last_removals.get(pk),
                manual_level=manual_levels.get(pk),
            ),
        }
        for pk, author in authors.items()
    }


def queue_comments(queue: str):
    """The comments of a moderation queue: "reported" (open reports), "pending", or "all"
    of both, oldest first, with what their cards show fetched alongside (a constant number
    of queries)."""
    comments = Comment.objects.select_related(
        "essay", "paragraph", "author", "parent", "parent__author"
    ).prefetch_related(
        Prefetch(
            "flags", queryset=Flag.objects.open().select_related("reporter"), to_attr="open_flags"
        ),
        Prefetch(
            "decisions",
            queryset=Decision.objects.filter(action=Decision.Action.HOLD).order_by("-id"),
            to_attr="holds",
        ),
        Prefetch(
            "replies",
            queryset=Comment.objects.select_related("author").order_by("id")[:REPLIES_SHOWN],
            to_attr="first_replies",
        ),
    )
    # One Q: both conditions on the same report (no report, no match).
    reported = Q(
        flags__isnull=False,
        flags__resolved_at__isnull=True,
        status__in=[Comment.Status.PUBLISHED, Comment.Status.HIDDEN],
    )
    pending = Q(status=Comment.Status.PENDING)
    if queue == "reported":
        return comments.filter(reported).distinct().order_by("id")
    if queue == "all":
        return comments.filter(reported | pending).distinct().order_by("id")
    return comments.filter(pending).order_by("id")


def hold_explanation(comment) -> dict | None:
    """Why a held comment waits, from the rules' latest hold: the reasons (as the rules
    wrote them, to translate where shown), the watched words and the links counted. A hold
    logged before the facts were kept gives its reasons only."""
    holds = getattr(comment, "holds", None)
    if holds is None:
        holds = list(comment.decisions.filter(action=Decision.Action.HOLD).order_by("-id")[:1])
    if not holds:
        return None
    hold = holds[0]
    facts = hold.facts or {"reasons": [r for r in hold.reason.split("; ") if r]}
    return {
        "reasons": facts.get("reasons", []),
        "watched_words": facts.get("watched_words", []),
        "link_count": facts.get("link_count"),
        "created": hold.created,
    }


def report_groups(flags) -> list[dict]:
    """Open reports grouped by reason, the most frequent first, each with its notes."""
    groups = {}
    for flag in flags:
        group = groups.setdefault(
            flag.reason, {"label": flag.get_reason_display(), "count": 0, "notes": []}
        )
        group["count"] += 1
        if flag.note:
            group["notes"].append(flag)
    return sorted(groups.values(), key=lambda group: -group["count"])


def with_cards(comments) -> list:
    """The comments, each carrying what its queue card shows: why it is held, its reports
    grouped, and its author's record."""
    comments = list(comments)
    histories = author_histories(comments)
    for comment in comments:
        comment.history = histories.get(comment.author_id)
        comment.hold = (
            hold_explanation(comment) if comment.status == Comment.Status.PENDING else None
        )
        comment.report_groups = report_groups(comment.open_flags)
    return comments


def queue_page(queue: str, page_number):
    """One page of a queue, its comments ready for their cards."""
    page = Paginator(queue_comments(queue), QUEUE_PAGE_SIZE).get_page(page_number)
    page.object_list = with_cards(page.object_list)
    return page


def queue_card(pk: int):
    """One comment as a queue card shows it (after an undo brings it back), from whichever
    queue holds it; None when it is in neither."""
    for queue in ("reported", "pending"):
        found = with_cards(queue_comments(queue).filter(pk=pk))
        if found:
            return found[0]
    return None


def decisions_by_ids(ids) -> list:
    """The decisions of `ids` (a moderator's latest, from their session), newest first."""
    return list(
        Decision.objects.filter(pk__in=ids).select_related(
            "comment", "comment__author", "undone_by"
        )
    )


def queue_counts() -> dict[str, int]:
    return {queue: queue_comments(queue).count() for queue in ("reported", "pending", "all")}


def recent_decisions(limit: int = 50):
    return Decision.objects.select_related(
        "actor", "comment", "essay", "subject_user", "undone_by", "undoes"
    )[:limit]


SITE_RULES = "site"


def log_decisions(
    *, actor: str = "", action: str = "", author: str = "", essay=None, since=None, until=None
):
    """The audit log, newest first, filtered by who decided (a moderator's id, or
    `SITE_RULES` for the site's automatic rules), what was done, about whom, on which essay,
    and between which dates (both included)."""
    decisions = Decision.objects.select_related(
        "actor", "comment", "essay", "subject_user", "undone_by", "undoes"
    )
    if actor == SITE_RULES:
        decisions = decisions.filter(actor__isnull=True)
    elif actor:
        decisions = decisions.filter(actor_id=actor)
    if action:
        decisions = decisions.filter(action=action)
    if author:
        decisions = decisions.filter(
            Q(subject_user__email__iexact=author) | Q(subject_user__display_name__icontains=author)
        )
    if essay:
        decisions = decisions.filter(essay=essay)
    if since:
        decisions = decisions.filter(created__date__gte=since)
    if until:
        decisions = decisions.filter(created__date__lte=until)
    return decisions


def notices_for(user):
    """Moderation outcomes for a member's own comments and account, newest first."""
    return (
        Decision.objects.filter(
            Q(comment__author=user) | Q(subject_user=user, comment__isnull=True)
        )
        .filter(action__in=NOTICE_ACTIONS)
        .select_related("comment", "comment__essay", "comment__paragraph", "undoes")
    )


def point_to_guidelines(decisions) -> None:
    """Give each removal among `decisions` the section of the community guidelines its
    public reason points to (`guidelines_section`, "" when none): one query, for all."""
    guidelines = Guidelines.current()
    for decision in decisions:
        code = decision.reason_code if decision.action == Decision.Action.REMOVE else ""
        has_section = bool(code and guidelines and guidelines.has_section(code))
        decision.guidelines_section = code if has_section else ""


def comment_versions(comment: Comment) -> list[dict]:
    """The earlier versions of an edited comment, oldest first, then the current one; each
    after the first with its changes from the one before marked."""
    texts = [(r.body, r.written_at) for r in comment.revisions.order_by("replaced_at", "id")]
    if not texts:
        return []
    texts.append((comment.body, comment.edited_at))
    versions = []
    for number, (body, written_at) in enumerate(texts, start=1):
        changes = marked_changes(texts[number - 2][0], body) if number > 1 else None
        versions.append(
            {
                "number": number,
                "body": body,
                "written_at": written_at,
                "changes": changes,
                "current": number == len(texts),
            }
        )
    return versions


def comment_record(comment: Comment) -> dict:
    """Everything the moderation page of one comment shows about it."""
    root = comment if comment.root_id is None else Comment.objects.get(pk=comment.root_id)
    comment.hold = hold_explanation(comment) if comment.status == Comment.Status.PENDING else None
    return {
        "comment": comment,
        "versions": comment_versions(comment),
        "replies": comment.replies.select_related("author").order_by("id")[:REPLIES_SHOWN],
        "root": root,
        "paragraphs": comment.essay.paragraphs.live().commentable().order_by("position"),
        "flags": comment.flags.select_related("reporter"),
        "decisions": comment.decisions.select_related("actor", "undone_by", "undoes"),
        "history": author_histories([comment]).get(comment.author_id),
    }


def author_record(author) -> dict:
    """Everything the moderation page of one member shows: their comments, decisions about
    them and restrictions."""
    return {
        "author": author,
        "comments": author.comments.select_related("essay").order_by("-id")[:30],
        "decisions": Decision.objects.filter(subject_user=author)
        .exclude(action__in=THREAD_ACTIONS)
        .exclude(undoes__action__in=THREAD_ACTIONS)
        .select_related("actor", "comment", "undone_by", "undoes")[:50],
        "restrictions": author.restrictions.select_related("created_by"),
        "active": author.restrictions.active(),
        "standing": author_standing(author),
        # Holds the permission (the site owner does), whatever restriction is in force.
        "is_moderator_account": author.is_active and author.has_perm("moderation.moderate"),
    }


def word_rules():
    """The watched and blocked lists, each alphabetical."""
    rules = list(WordRule.objects.order_by("word"))
    return {
        "watched": [r for r in rules if r.kind == WordRule.Kind.WATCHED],
        "blocked": [r for r in rules if r.kind == WordRule.Kind.BLOCKED],
    }


def word_list_changes(limit: int = 30):
    """The latest changes to the word lists, newest first."""
    return Decision.objects.filter(action__in=WORD_LIST_ACTIONS).select_related(
        "actor", "undone_by"
    )[:limit]


def moderators_in_the_log():
    """The members who have made a decision: the log's filter offers them."""
    return get_user_model().objects.filter(moderation_decisions__isnull=False).distinct()
