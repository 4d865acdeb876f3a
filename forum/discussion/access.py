"""Who may see which comment: the one access rule every page, partial, email,
notification, export and profile asks, whatever the HTTP method.

- A published comment's text is for everyone.
- A comment awaiting review is shown to its author and to moderators.
- A hidden (after reports), removed or deleted comment's text is for moderators only;
  readers see a placeholder where it keeps replies in place.
- Nothing on an essay that is not published is shown outside moderation.

"Moderator" is what the moderation policy says (the permission, and no active suspension).
"""

from django.http import Http404
from django.shortcuts import get_object_or_404

from essays.models import Essay

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


def access_comment(*, viewer, comment_id: int) -> Comment:
    """A comment on a published essay (any state: its page shows a placeholder where the
    viewer may not read it); 404 otherwise."""
    return get_object_or_404(
        # The essay's Markdown source (tens of kilobytes) is never shown with a comment.
        Comment.objects.select_related("essay", "paragraph", "author").defer("essay__source"),
        pk=comment_id,
        essay__in=Essay.objects.published(),
    )


def access_comment_for_reply(*, viewer, comment_id: int) -> Comment:
    """The comment a reader replies to: published, on a published essay; 404 otherwise,
    for every method (a refused reply must not show a text its page would not)."""
    comment = access_comment(viewer=viewer, comment_id=comment_id)
    if comment.status != Comment.Status.PUBLISHED:
        raise Http404("No comment to reply to.")
    return comment
