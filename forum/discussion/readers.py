"""What a signed-in reader's pages show of them, kept in the cache.

A signed-in reader's essay page is the page every signed-in reader shares (member_pages.py)
with a few places made theirs. Which places, and how, depends on a handful of facts about
the reader: whether they moderate or edit (their pages are made for them alone), may post,
have confirmed their address, have anything awaiting review, and what the apps above the
discussion keep of them (what they follow, their unread notifications). Asking the database
for each of these on every page would cost more than the rest of the page, so they are kept
together in the cache, one entry per reader.

Whatever changes one of them forgets the reader's entry (`reader_state_forget`): posting,
editing or deleting a comment, a moderator's decision on it, a restriction, following,
a notification made or read, an address confirmed. READER_SECONDS bounds how long a change
made some other way (a permission given in the admin) goes unseen; every action is checked
afresh by its service whatever a page showed.

The apps above the discussion add their own facts through `register_reader_fact(name, load,
prime)`: `load(user)` reads the fact (it is kept in the cache with the rest), and
`prime(request, value)` hands it to that app's own code for the request being served, so
that its templates ask the database nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction

from essays.services import check_can_publish
from forum.refusals import Refused

from .models import Comment
from .policy import policy

READER_SECONDS = 60
# The fact that holds the reader's unread notifications, which the site's navigation shows
# (an app above provides it; without it, none).
UNREAD_NOTIFICATIONS = "unread_notifications"


@dataclass(frozen=True)
class ReaderFact:
    load: Callable
    prime: Callable


_facts: dict[str, ReaderFact] = {}


def register_reader_fact(name: str, *, load: Callable, prime: Callable) -> None:
    """Keep `load(user)` among the reader's facts; `prime(request, value)` before a page
    that uses the kept facts is made (once; registering again replaces it)."""
    _facts[name] = ReaderFact(load=load, prime=prime)


@dataclass(frozen=True)
class ReaderState:
    user_id: int
    # Moderates or may publish revisions: their pages carry controls made for them alone.
    privileged: bool
    posting_refusal: str | None
    verified_email: bool
    # The essays on which something of theirs awaits review (shown to them alone).
    essays_awaiting_review: frozenset[int]
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def shares_pages(self) -> bool:
        """Whether their pages are the ones signed-in readers share (member_pages.py), made
        theirs in a few places: not when they carry controls of their own (moderators,
        editors) or the form says they may not post."""
        return not self.privileged and self.posting_refusal is None and self.verified_email

    def prime(self, request) -> None:
        for name, fact in _facts.items():
            if name in self.facts:
                fact.prime(request, self.facts[name])


def reader_key(user_id) -> str:
    return f"reader:{user_id}"


MISSING = object()


def reader_state(user, *, kept=MISSING) -> ReaderState:
    """The facts about signed-in `user` that their pages need, from the cache if kept
    (`kept`: what the cache holds under reader_key, if the caller has asked it already)."""
    key = reader_key(user.pk)
    state = cache.get(key) if kept is MISSING else kept
    if (
        isinstance(state, ReaderState)
        and state.user_id == user.pk
        and _facts.keys() <= state.facts.keys()
    ):
        return state
    state = _load(user)
    cache.set(key, state, READER_SECONDS)
    return state


def _load(user) -> ReaderState:
    from .services import has_verified_email

    return ReaderState(
        user_id=user.pk,
        privileged=policy().is_moderator(user) or _may_publish(user),
        posting_refusal=policy().posting_refusal(user),
        verified_email=has_verified_email(user),
        essays_awaiting_review=frozenset(
            Comment.objects.filter(author=user, status=Comment.Status.PENDING)
            .order_by()
            .values_list("essay_id", flat=True)
            .distinct()
        ),
        facts={name: fact.load(user) for name, fact in _facts.items()},
    )


def _may_publish(user) -> bool:
    try:
        check_can_publish(user)
    except Refused:
        return False
    return True


def reader_state_forget(*user_ids) -> None:
    """Forget these readers' kept facts: now, and again when the transaction commits (a
    page made meanwhile may have read them before the change)."""
    keys = [reader_key(user_id) for user_id in user_ids if user_id]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
