"""The shared cache, failing soft: when Redis cannot be reached, pages still render and
comments are still taken.

Every operation that meets a connection error is answered from this process's memory
instead, for as long as Redis is away: rate limits and lockouts then count per process (as
they would without Redis) rather than not at all, and nothing a reader does fails because
the cache is down. Redis is tried again every RETRY_INTERVAL, so the site is back on the
shared cache a moment after Redis answers again.
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# While Redis is away, try it again at most this often (each try may wait for a timeout).
RETRY_INTERVAL = 1  # second
# Say so in the log at most this often while Redis is away.
WARNING_INTERVAL = 30  # seconds
# What the site's code and its libraries (sessions: forum/sessions.py) ask of the cache.
OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


# INCRBY a key that exists; nil (None) for one that does not, which INCRBY would create.
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis client, keeping one redis.Redis per connection pool.

    Django makes a new redis.Redis for every cache operation, and redis-py fills a table of
    some 170 response callbacks for each: about a tenth of a millisecond, several times a
    page, more than the round trip itself. A redis.Redis holds no connection of its own (it
    borrows one from its pool for each command) and may be shared between threads, so one
    per pool serves every operation."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}
        self._incr_existing = None

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = self._clients[index] = self._client(connection_pool=pool)
        return client

    def incr(self, key, delta):
        """As Django's, in one round trip rather than two (it asks EXISTS first): a rate
        limit counts every post and every login this way."""
        client = self.get_client(key, write=True)
        if self._incr_existing is None:
            self._incr_existing = client.register_script(INCR_EXISTING)
        value = self._incr_existing(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class FailSoftRedisCache(RedisCache):
    def validate_key(self, key):
        """Any key will do for Redis. (Django's own check, for memcached's sake, runs a
        regular expression over every key of every operation: a tenth of a millisecond on a
        reading page.)"""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self.fallback = LocMemCache("fail-soft-redis", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self.failing_since: float | None = None
        self.last_warning = 0.0
        self.last_attempt = 0.0

    def attempt(self, operation: str, *args, **kwargs):
        now = time.monotonic()
        if self.failing_since and now - self.last_attempt < RETRY_INTERVAL:
            # Redis was away a moment ago: don't make every request wait for a timeout.
            return getattr(self.fallback, operation)(*args, **kwargs)
        self.last_attempt = now
        try:
            result = getattr(super(), operation)(*args, **kwargs)
        except UNREACHABLE as error:
            self.failing_since = self.failing_since or now
            if now - self.last_warning > WARNING_INTERVAL:
                self.last_warning = now
                logger.warning("Redis unreachable (%s); using this process's memory.", error)
            return getattr(self.fallback, operation)(*args, **kwargs)
        self.failing_since = None
        return result


def fail_soft(operation: str):
    def method(self, *args, **kwargs):
        return self.attempt(operation, *args, **kwargs)

    method.__name__ = operation
    return method


for operation in OPERATIONS:
    setattr(FailSoftRedisCache, operation, fail_soft(operation))


# Answers already had. A page that asks the cache for several entries at once (one round
# trip) may know one that code it calls would ask for again: within `answers_known(found)`,
# `get_known(key)` takes it from `found` (None: not in the cache), once.
_known: ContextVar[dict | None] = ContextVar("known cache answers", default=None)


@contextmanager
def answers_known(found: dict):
    token = _known.set(dict(found))
    try:
        yield
    finally:
        _known.reset(token)


def get_known(key: str):
    known = _known.get()
    if known is not None and key in known:
        return known.pop(key)
    return cache.get(key)


def account_key(user_id) -> str:
    """Where the signed-in account is kept (forum/accounts/backends.py). Named here, below
    every app, so that a page may ask for it with its own entries (member_pages.py)."""
    return f"account:{user_id}"
