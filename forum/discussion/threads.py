"""Reads for the discussion pages: each loads what a page shows in a constant number of queries.

A thread is loaded in one query and its tree is built here, in Python: no recursive SQL,
no ordering column to renumber when a reply arrives.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q

from essays.models import Essay, Paragraph

from .models import Comment

THREAD_ORDERS = {"oldest": ("id",), "newest": ("-id",)}


@dataclass
class ThreadNode:
    comment: Comment
    replies: list["ThreadNode"] = field(default_factory=list)


def build_thread(comments: list[Comment]) -> list[ThreadNode]:
    """Arrange comments (already in display order) into trees, parents before replies.

    A placeholder (deleted or removed) is kept only while it has a visible reply below it.
    A reply whose parent is not in the list is dropped with it: it stays reachable by
    neither the thread nor the page, as its parent is.
    """
    nodes = {comment.pk: ThreadNode(comment) for comment in comments}
    roots = []
    for comment in comments:
        node = nodes[comment.pk]
        if comment.parent_id is None:
            roots.append(node)
        elif comment.parent_id in nodes:
            nodes[comment.parent_id].replies.append(node)
    return _prune_empty_placeholders(roots)


def _prune_empty_placeholders(nodes: list[ThreadNode]) -> list[ThreadNode]:
    kept = []
    for node in nodes:
        node.replies = _prune_empty_placeholders(node.replies)
        if node.replies or not node.comment.is_placeholder:
            kept.append(node)
    return kept


def thread_for(*, essay: Essay, paragraph: Paragraph | None = None, order: str = "oldest"):
    """The whole thread of a paragraph (or of the essay as a whole when paragraph is None)."""
    comments = Comment.objects.shown_in_threads().select_related("author")
    if paragraph is None:
        comments = comments.on_whole_essay(essay)
    else:
        comments = comments.on_paragraph(paragraph)
    return build_thread(list(comments.order_by(*THREAD_ORDERS[order])))


def comment_counts_by_paragraph(essay: Essay) -> dict[int, int]:
    """Published comments per paragraph id, for the margin of the reading page."""
    rows = (
        Comment.objects.published()
        .filter(essay=essay, paragraph__isnull=False)
        .values("paragraph_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["paragraph_id"]: row["count"] for row in rows}


def essays_with_comment_counts():
    return Essay.objects.published().annotate(
        comment_count=Count("comments", filter=Q(comments__status=Comment.Status.PUBLISHED))
    )
