"""What the reading page knows of an essay without asking the database: its
discussion_version, kept in the shared cache under its slug.

A write that changes what readers see bumps the version in the database
(EssayQuerySet.discussion_changed) and forgets the cached state at once and again after its
transaction commits (a reader may have cached the old state in between). A state is
remembered only for STATE_SECONDS, which bounds what a lost invalidation (a Redis outage,
when each process falls back to its own memory) could leave stale.

Each forgetting is also announced to every web process (forum/cache.py's NearCache): a
process that keeps an essay's state and reading page in its own memory, so as not to ask
Redis for them on every request, forgets them when it hears of the change.
"""

from django.core.cache import cache
from django.db import transaction

from forum.cache import announce_changed

STATE_SECONDS = 60


def state_key(slug: str) -> str:
    return f"essay-state:{slug}"


def essay_state_remember(slug: str, version: int) -> None:
    """Remember `version` as the essay's state, unless a writer has moved on meanwhile.

    The version is checked after it is stored, not before: a writer who commits after the
    check forgets the state after it was stored, and one who committed before is seen."""
    from .models import Essay  # models imports this module

    cache.set(state_key(slug), version, STATE_SECONDS)
    if not Essay.objects.filter(slug=slug, discussion_version=version).exists():
        # Another process may have read the state meanwhile, after its writer announced
        # the change: it hears of it again.
        _forget_everywhere([state_key(slug)], [slug])


def essay_state(slug: str, *, known: int | None = None) -> int | None:
    """The published essay's discussion_version: from the cache (`known`, when the caller
    fetched it along with something else), else from the database, then remembered. None
    when no published essay has this slug."""
    if known is not None:
        return known
    from .models import Essay

    version = (
        Essay.objects.published()
        .filter(slug=slug)
        .values_list("discussion_version", flat=True)
        .first()
    )
    if version is not None:
        essay_state_remember(slug, version)
    return version


def essay_states_forget(slugs: list[str]) -> None:
    keys = [state_key(slug) for slug in slugs]
    if not keys:
        return
    _forget_everywhere(keys, slugs)
    transaction.on_commit(lambda: _forget_everywhere(keys, slugs))


def _forget_everywhere(keys: list[str], slugs: list[str]) -> None:
    cache.delete_many(keys)
    announce_changed(slugs)
