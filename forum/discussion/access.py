"""Who may see which comment: the one access rule every page, partial, email,
notification, export and profile asks, whatever the HTTP method.

- A published comment's text is for everyone.
- A comment awaiting review is shown to its author and to moderators.
- A hidden (after reports), removed or deleted comment's text is for moderators only;
  readers see a placeholder where it keeps replies in place.
- Nothing on an essay that is not published is shown outside moderation.

"Moderator" is what the moderation policy says (the permission, and no active suspension).
"""

from datetime import UTC, datetime

from django.http import Http404
from django.utils import timezone

from essays.models import Essay, Paragraph
from forum.compiled import CompiledObjects

from .markup import visible_text
from .models import Comment
from .policy import policy


def viewer_is_moderator(viewer) -> bool:
    return viewer is not None and policy().is_moderator(viewer)


def can_read_text(comment: Comment, viewer, *, moderator: bool | None = None) -> bool:
    """Whether `viewer` may read this comment's text (and its quote) in its current state."""
    if moderator is None:
        moderator = viewer_is_moderator(viewer)
    if moderator:
        return True
    if not comment.essay.is_published:
        return False
    if comment.status == Comment.Status.PUBLISHED:
        return True
    return (
        comment.status == Comment.Status.PENDING
        and viewer is not None
        and viewer.is_authenticated
        and comment.author_id == viewer.pk
    )


def excerpt_for(comment: Comment, viewer, *, moderator: bool | None = None) -> str:
    """The comment's Markdown source for an excerpt, or "" when `viewer` may not read it."""
    return comment.body if can_read_text(comment, viewer, moderator=moderator) else ""


def plain_excerpt_for(comment: Comment, viewer, *, moderator: bool | None = None) -> str:
    """The comment's text as a reader sees it, without markup (no `[link](…)` or `*`), on
    one line; "" when `viewer` may not read it. For quoting it in a line of a list or an
    email's text."""
    if not can_read_text(comment, viewer, moderator=moderator):
        return ""
    return " ".join(visible_text(comment.body_html).split())


def _comment_on_published_essay(shape, *, comment_id, now):
    return Comment.objects.filter(pk=comment_id, essay__in=Essay.objects.published(now=now))


# Asked by every page of a comment, and by every reply posted: made once (forum/compiled.py).
# The essay's Markdown source (tens of kilobytes) is never shown with a comment.
COMMENT_ON_PUBLISHED_ESSAY = CompiledObjects(
    _comment_on_published_essay,
    model=Comment,
    related=("essay", "paragraph", "author"),
    deferred={"essay": {"source"}},
    comment_id=-7_340_021,
    now=datetime(1901, 2, 3, 4, 5, 6, 9, tzinfo=UTC),
)


def access_comment(*, viewer, comment_id: int) -> Comment:
    """A comment on a published essay (any state: its page shows a placeholder where the
    viewer may not read it); 404 otherwise."""
    comment = COMMENT_ON_PUBLISHED_ESSAY.get(comment_id=comment_id, now=timezone.now())
    if comment is None:
        raise Http404("No such comment.")
    return comment


def access_comment_for_reply(*, viewer, comment_id: int) -> Comment:
    """The comment a reader replies to: published, on a published essay; 404 otherwise,
    for every method (a refused reply must not show a text its page would not)."""
    comment = access_comment(viewer=viewer, comment_id=comment_id)
    if comment.status != Comment.Status.PUBLISHED:
        raise Http404("No comment to reply to.")
    return comment


def _paragraph_to_discuss(shape, *, slug, key, now):
    return (
        Paragraph.objects.live()
        .commentable()
        .filter(essay__in=Essay.objects.published(now=now), essay__slug=slug, key=key)
    )


# Every new comment on a paragraph comes through here, with its essay (made once).
PARAGRAPH_TO_DISCUSS = CompiledObjects(
    _paragraph_to_discuss,
    model=Paragraph,
    related=("essay",),
    deferred={"essay": {"source"}},
    slug="stand-in-slug-7340023",
    key="stand-in-key-7340024",
    now=datetime(1901, 2, 3, 4, 5, 6, 10, tzinfo=UTC),
)


def discussable_paragraph(*, slug: str, key: str) -> Paragraph:
    """A live paragraph that takes comments, with its essay, on a published essay; 404
    otherwise."""
    paragraph = PARAGRAPH_TO_DISCUSS.get(slug=slug, key=key, now=timezone.now())
    if paragraph is None:
        raise Http404("No such paragraph to discuss.")
    return paragraph
