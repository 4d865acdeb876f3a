"""Moderation's reads: the queues, authors' records, the audit log and authors' notices.

Each is one function the views call; none writes."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from forum.discussion.models import Comment

from .models import Decision, Restriction

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


def author_histories(comments) -> dict:
    """Per author: comment counts by status, earlier decisions and current restrictions."""
    author_ids = {c.author_id for c in comments if c.author_id}
    counts = {
        row["author"]: row
        for row in Comment.objects.filter(author__in=author_ids)
        .values("author")
        .annotate(
            total=Count("id"),
            removed=Count("id", filter=Q(status=Comment.Status.REMOVED)),
            pending=Count("id", filter=Q(status=Comment.Status.PENDING)),
        )
    }
    decisions = {}
    for decision in (
        Decision.objects.filter(Q(subject_user__in=author_ids))
        .exclude(action=Decision.Action.HOLD)
        .select_related("actor")
        .order_by("-created")[:200]
    ):
        decisions.setdefault(decision.subject_user_id, []).append(decision)
    restrictions = {}
    for restriction in Restriction.objects.active().filter(user__in=author_ids):
        restrictions.setdefault(restriction.user_id, []).append(restriction)
    return {
        author: {
            "counts": counts.get(author, {}),
            "decisions": decisions.get(author, [])[:5],
            "restrictions": restrictions.get(author, []),
        }
        for author in author_ids
    }


def queue_comments(queue: str):
    """The comments of a moderation queue: "reported" (open reports) or "pending"."""
    comments = Comment.objects.select_related(
        "essay", "paragraph", "author", "parent", "parent__author"
    ).prefetch_related("flags__reporter")
    if queue == "reported":
        return (
            comments.filter(
                # One filter(): both conditions on the same report (no report, no match).
                flags__isnull=False,
                flags__resolved_at__isnull=True,
                status__in=[Comment.Status.PUBLISHED, Comment.Status.HIDDEN],
            )
            .distinct()
            .order_by("id")
        )
    return comments.filter(status=Comment.Status.PENDING).order_by("id")


def queue_counts() -> dict[str, int]:
    return {
        "reported": queue_comments("reported").count(),
        "pending": queue_comments("pending").count(),
    }


def recent_decisions(limit: int = 50):
    return Decision.objects.select_related(
        "actor", "comment", "essay", "subject_user", "undone_by", "undoes"
    )[:limit]


def log_decisions(*, moderator=None, author: str = "", essay=None):
    """The audit log, newest first, filtered by who decided, about whom, and on which essay."""
    decisions = Decision.objects.select_related(
        "actor", "comment", "essay", "subject_user", "undone_by", "undoes"
    )
    if moderator:
        decisions = decisions.filter(actor=moderator)
    if author:
        decisions = decisions.filter(
            Q(subject_user__email__iexact=author) | Q(subject_user__display_name__icontains=author)
        )
    if essay:
        decisions = decisions.filter(essay=essay)
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


def comment_record(comment: Comment) -> dict:
    """Everything the moderation page of one comment shows about it."""
    root = comment if comment.root_id is None else Comment.objects.get(pk=comment.root_id)
    return {
        "comment": comment,
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
        "decisions": Decision.objects.filter(subject_user=author).select_related(
            "actor", "comment", "undone_by", "undoes"
        )[:50],
        "restrictions": author.restrictions.select_related("created_by"),
        "active": author.restrictions.active(),
        # Holds the permission (the site owner does), whatever restriction is in force.
        "is_moderator_account": author.is_active and author.has_perm("moderation.moderate"),
    }


def moderators_in_the_log():
    """The members who have made a decision: the log's filter offers them."""
    return get_user_model().objects.filter(moderation_decisions__isnull=False).distinct()
