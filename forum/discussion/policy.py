"""The contract between the discussion and whoever moderates it.

The discussion asks these questions when a comment is written or shown; it never imports
moderation (which sits above it). `settings.DISCUSSION_POLICY` names the class that answers
them: moderation's `ModerationPolicy` on this site. Without one, `PermissivePolicy` lets
everyone post and publishes everything at once, so the discussion runs, and is tested,
on its own.
"""

from dataclasses import dataclass
from functools import cache
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.db.models import Expression, Value
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PostingLimit:
    """A rate limit the discussion applies to one post: `limits` as in forum/ratelimits.py,
    counted per author under `scope`; past them, `message` (which may name the wait with
    %(seconds)s) refuses the post."""

    scope: str
    limits: list[tuple[int, int]]
    message: str


@runtime_checkable
class DiscussionPolicy(Protocol):
    def is_moderator(self, user, *, fresh: bool = False) -> bool:
        """May `user` moderate now (and so read every comment)? `fresh`: ask the database,
        not what an earlier question this request cached."""

    def moderator_ids(self) -> set[int]:
        """The members shown with a moderator's badge."""

    def posting_refusal(self, user) -> str | None:
        """Why `user` may not post at all right now, in their words; None if they may."""

    def posting_refused(self, user_id, *, now) -> Expression:
        """A boolean expression, true where the member whose id is `user_id` (an expression,
        such as OuterRef("pk") in a query of users) may not post at `now` (a datetime):
        posting_refusal asked inside the query that locks the author as they post."""

    def blocked_words(self, body: str) -> list[str]:
        """The words of a comment (Markdown source `body`) that the site refuses to publish."""

    def hold_reasons(self, *, author, essay, body: str, editing=None) -> list[str]:
        """Why a new (or, with `editing`, an edited) comment waits for review; empty:
        publish it now. `editing` is the comment as it stands before the edit."""

    def posting_limits(self, *, author, parent=None) -> list[PostingLimit]:
        """The rate limits of `author`'s standing on a post (a reply to `parent`), beyond
        the site's COMMENT_RATE_LIMITS that apply to everyone."""


class PermissivePolicy:
    """No moderation: the site owner (superuser) is the only moderator, nobody is refused,
    nothing is held."""

    @staticmethod
    def is_moderator(user, *, fresh: bool = False) -> bool:
        return bool(user and user.is_authenticated and user.is_active and user.is_superuser)

    @staticmethod
    def moderator_ids() -> set[int]:
        return set()

    @staticmethod
    def posting_refusal(user) -> str | None:
        return None

    @staticmethod
    def posting_refused(user_id, *, now) -> Expression:
        return Value(False)

    @staticmethod
    def blocked_words(body: str) -> list[str]:
        return []

    @staticmethod
    def hold_reasons(*, author, essay, body: str, editing=None) -> list[str]:
        return []

    @staticmethod
    def posting_limits(*, author, parent=None) -> list[PostingLimit]:
        return []


DEFAULT_POLICY = "forum.discussion.policy.PermissivePolicy"


@cache
def policy() -> DiscussionPolicy:
    """The configured policy, loaded once (again only when the setting changes, in tests)."""
    return import_string(getattr(settings, "DISCUSSION_POLICY", DEFAULT_POLICY))


def forget_policy(*, setting, **kwargs) -> None:
    """Receiver of `setting_changed` (connected in DiscussionConfig.ready): tests that
    change DISCUSSION_POLICY get the new policy."""
    if setting == "DISCUSSION_POLICY":
        policy.cache_clear()
