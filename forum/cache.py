"""The shared cache, failing soft: when Redis cannot be reached, pages still render and
comments are still taken.

Every operation that meets a connection error is answered from this process's memory
instead, for as long as Redis is away: rate limits and lockouts then count per process (as
they would without Redis) rather than not at all, and nothing a reader does fails because
the cache is down. Redis is tried again every RETRY_INTERVAL, so the site is back on the
shared cache a moment after Redis answers again.
"""

import hashlib
import logging
import os
import threading
import time
from contextlib import contextmanager, suppress
from contextvars import ContextVar

import redis
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.connection import parse_url
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
        self._timeouts = {
            name: value
            for name, value in params.get("OPTIONS", {}).items()
            if name in ("socket_timeout", "socket_connect_timeout")
        }
        self.near = NearCache(self)
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

    def clear(self):
        """Every entry gone, also those kept near (NearCache), in every process."""
        result = self.attempt("clear")
        self.near.announce([EVERY_GROUP])
        return result


def fail_soft(operation: str):
    def method(self, *args, **kwargs):
        return self.attempt(operation, *args, **kwargs)

    method.__name__ = operation
    return method


for operation in OPERATIONS:
    if operation not in vars(FailSoftRedisCache):  # its own (clear) calls attempt itself
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


# Entries kept near: in this process's memory, trusted only while Redis would tell us of a
# change.
#
# A cached reading page costs one round trip to Redis (its essay's state and where the page
# is): a third of what serving it costs, for an answer that changes only when the essay's
# discussion does. So a process keeps what it was told, for a group of entries (an essay's),
# and every write that changes them announces the group on a Redis channel to which each
# process listens on a connection of its own. Before using what it keeps, a process reads
# what was announced since (a read of its own socket, no round trip) and forgets those
# groups. It keeps nothing while it has no live subscription (Redis away, a connection lost:
# announcements missed are never known), nothing it learned from this process's stand-in
# memory, and nothing for longer than NEAR_SECONDS, which bounds what an announcement lost
# some other way (a network cut that leaves the socket open) could leave stale.
NEAR_SECONDS = 5
# More announcements than this waiting at once: some may still be in Redis's own buffers,
# not yet in the socket. Everything kept is forgotten and the subscription made afresh.
MOST_ANNOUNCEMENTS_AT_ONCE = 200
EVERY_GROUP = "*"


class Overheard(Exception):
    """More was announced than one read may trust to be all of it."""


class Listener:
    """This process's subscription to the announcements of changed groups."""

    def __init__(self, url: str, channel: str, **timeouts):
        # A connection of its own, outside any pool, speaking RESP2 (messages as plain
        # arrays); it is never handed to a command and never reconnects by itself (a new
        # connection would have missed what was announced meanwhile).
        options = parse_url(url)
        connection_class = options.pop("connection_class", redis.Connection)
        self.connection = connection_class(**options, **timeouts, protocol=2)
        self.connection.connect()
        self.connection.send_command("SUBSCRIBE", channel)
        kind, _, _ = self.connection.read_response()
        if kind != b"subscribe":
            raise redis.exceptions.ResponseError(f"SUBSCRIBE answered {kind!r}")

    def announced(self) -> list[str]:
        """The groups announced since the last call (EVERY_GROUP among them: all)."""
        groups = []
        while self.connection.can_read(timeout=0):
            kind, _, group = self.connection.read_response()
            if kind == b"message":
                groups.append(group.decode())
            if len(groups) > MOST_ANNOUNCEMENTS_AT_ONCE:
                raise Overheard
        return groups

    def close(self) -> None:
        with suppress(Exception):
            self.connection.disconnect()


class NearCache:
    """Groups of the shared cache's entries kept in this process (see NEAR_SECONDS)."""

    def __init__(self, backend: "FailSoftRedisCache"):
        self.backend = backend
        # One channel per Redis database and key prefix (a channel is seen by every database
        # of a server); named by a digest, so no password in a URL is ever shown by Redis.
        server = hashlib.sha256(backend._servers[0].encode()).hexdigest()[:16]
        self.channel = f"{backend.key_prefix}:near:{server}"
        self.process = os.getpid()
        self.listener: Listener | None = None
        self.last_attempt = -RETRY_INTERVAL
        self.last_warning = -WARNING_INTERVAL
        # The listener's socket is read by one thread at a time (a threaded server).
        self.lock = threading.Lock()
        # group -> {key: (when learned, value)}
        self.kept: dict[str, dict[str, tuple[float, object]]] = {}

    def get_many(self, group: str, keys: list[str]) -> dict:
        """backend.get_many(keys), from this process's memory when it may be."""
        now = time.monotonic()
        with self.lock:
            if not self._listening(now):
                return self.backend.get_many(keys)
            kept = self.kept.get(group, {})
            try:
                if all(now - kept[key][0] < NEAR_SECONDS for key in keys):
                    return {key: kept[key][1] for key in keys}
            except KeyError:
                pass
        found = self.backend.get_many(keys)
        # Kept only if whole and from Redis itself: what is missing, or from this process's
        # stand-in memory, must be asked again.
        if len(found) == len(keys) and self.backend.failing_since is None:
            with self.lock:
                kept = {
                    key: entry
                    for key, entry in self.kept.get(group, {}).items()
                    if now - entry[0] < NEAR_SECONDS
                }
                kept.update((key, (now, value)) for key, value in found.items())
                self.kept[group] = kept
        return found

    def forget(self, groups) -> None:
        """Forget these groups here, at once (what this process changed)."""
        with self.lock:
            self._forget(groups)

    def _forget(self, groups) -> None:
        if EVERY_GROUP in groups:
            self.kept.clear()
        for group in groups:
            self.kept.pop(group, None)

    def announce(self, groups: list[str]) -> None:
        """Tell every process these groups changed (after changing their entries). Returns
        once Redis has handed the announcement to every listener's socket: a reader's next
        request, whichever process takes it, finds it there."""
        self.forget(groups)
        if not groups:
            return
        try:
            client = self.backend._cache.get_client(write=True)
            with client.pipeline(transaction=False) as pipe:
                for group in groups:
                    pipe.publish(self.channel, group)
                pipe.execute()
            # Redis writes a command's messages to the listeners' sockets before it reads
            # the next command: once this is answered, they are there.
            client.ping()
        except UNREACHABLE:
            pass  # no listener hears Redis now, so none keeps anything: nothing to tell
        except redis.exceptions.RedisError as error:
            # Redis refuses (a user not allowed to publish): what others keep goes stale
            # for NEAR_SECONDS at most. Said, never a failed write.
            logger.error("Could not announce a change on %s: %s", self.channel, error)

    def _listening(self, now: float) -> bool:
        """Whether what is kept may be used: this process listens, and has heard every
        announcement made until now (and forgotten what they name)."""
        if self.process != os.getpid():
            # Forked: the parent's socket is not ours to read (nor to close).
            self.process, self.listener, self.kept = os.getpid(), None, {}
        if self.listener is None:
            if now - self.last_attempt < RETRY_INTERVAL or self.backend.failing_since:
                return False
            self.last_attempt = now
            try:
                self.listener = Listener(
                    self.backend._servers[0], self.channel, **self.backend._timeouts
                )
            except (redis.exceptions.RedisError, OSError, ValueError) as error:
                if now - self.last_warning > WARNING_INTERVAL:
                    self.last_warning = now
                    logger.warning("Not listening on %s: %s", self.channel, error)
                return False
            self.kept.clear()  # all learned before the subscription is suspect
        try:
            groups = self.listener.announced()
        except (Overheard, redis.exceptions.RedisError, OSError, ValueError):
            self.listener.close()
            self.listener, self.kept = None, {}
            return False
        self._forget(groups)
        return True


def get_many_near(group: str, keys: list[str]) -> dict:
    """cache.get_many(keys): entries that change only when `group` is announced changed
    (announce_changed), which this process may keep (NearCache)."""
    near = getattr(cache, "near", None)
    return near.get_many(group, keys) if near is not None else cache.get_many(keys)


def forget_near(groups) -> None:
    """What this process keeps of these groups, forgotten (it changed them itself)."""
    near = getattr(cache, "near", None)
    if near is not None:
        near.forget(groups)


def announce_changed(groups: list[str]) -> None:
    """Every process forgets what it keeps of these groups."""
    near = getattr(cache, "near", None)
    if near is not None:
        near.announce(groups)
