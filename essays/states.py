"""What the reading page knows of an essay without asking the database: its
discussion_version, kept in the shared cache under its slug.

A write that changes what readers see bumps the version in the database
(EssayQuerySet.discussion_changed) and forgets the cached state at once and again after its
transaction commits (a reader may have cached the old state in between). A state is
remembered only for STATE_SECONDS, which bounds what a lost invalidation (a Redis outage,
when each process falls back to its own memory) could leave stale.
"""

from django.core.cache import cache
from django.db import transaction

STATE_SECONDS = 60


def state_key(slug: str) -> str:
    return f"essay-state:{slug}"


def essay_state_remember(slug: str, version: int) -> None:
    cache.set(state_key(slug), version, STATE_SECONDS)


def essay_states_forget(slugs: list[str]) -> None:
    keys = [state_key(slug) for slug in slugs]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
