"""Where the signed-in account is kept in the cache (forum/accounts/backends.py)."""

from django.core.cache import cache
from django.db import transaction

from forum.cache import account_key

CACHED_SECONDS = 5 * 60


def forget_account(user_id) -> None:
    """Now, and again when the transaction commits: a request that read the row before the
    change must not keep its copy in the cache after it."""
    key = account_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
