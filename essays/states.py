"""What the reading page knows of an essay without asking the database: its
discussion_version, kept in the shared cache under its slug.

A write that changes what readers see bumps the version in the database
(EssayQuerySet.discussion_changed), forgets the cached state at once, and after its
transaction commits stores the version it made and tells every process. A state only ever
grows in the cache (forum/cache.py's raise_to): a page rendered from before the write, and
finished after it, cannot put its older version back. A state is remembered only for
STATE_SECONDS, which bounds what a lost invalidation (a Redis outage, when each process
falls back to its own memory) could leave stale.

Each change is also announced to every web process (forum/cache.py's NearCache): a process
that keeps an essay's state and reading page in its own memory, so as not to ask Redis for
them on every request, forgets them when it hears of the change.
"""

from django.core.cache import cache
from django.db import transaction

from forum.cache import announce_changed, forget_near, raise_to

STATE_SECONDS = 60


def state_key(slug: str) -> str:
    return f"essay-state:{slug}"


def essay_state_remember(slug: str, version: int) -> None:
    """Remember `version` as the essay's state, unless a writer has moved on meanwhile.

    The version is checked after it is stored, not before: a writer who commits after the
    check stores its own version after this one, and one who committed before is seen."""
    from .models import Essay  # models imports this module

    raise_to(state_key(slug), version, STATE_SECONDS)
    if not Essay.objects.filter(slug=slug, discussion_version=version).exists():
        # Another process may have read the state meanwhile, after its writer announced
        # the change: it hears of it again.
        _forget_everywhere([slug])


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


def essay_states_changed(versions: dict[str, int]) -> None:
    """These essays' discussion changed, to these versions, in the current transaction."""
    slugs = list(versions)
    if not slugs:
        return
    # Forgotten at once by this process and in the shared cache: what this transaction
    # reads later sees its own change (a test's too, which never commits). Every process
    # is told once it commits: until then the old state is the truth elsewhere, and the
    # essay's row, locked until the commit, is not held while they are told.
    cache.delete_many([state_key(slug) for slug in slugs])
    forget_near(slugs)
    transaction.on_commit(lambda: _store_everywhere(versions))


def _forget_everywhere(slugs: list[str]) -> None:
    cache.delete_many([state_key(slug) for slug in slugs])
    announce_changed(slugs)


def _store_everywhere(versions: dict[str, int]) -> None:
    for slug, version in versions.items():
        raise_to(state_key(slug), version, STATE_SECONDS)
    announce_changed(list(versions))
