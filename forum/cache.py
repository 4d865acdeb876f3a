"""The shared cache, failing soft: when Redis cannot be reached, pages still render and
comments are still taken.

Every operation that meets a connection error is answered from this process's memory
instead, for as long as Redis is away: rate limits and lockouts then count per process (as
they would without Redis) rather than not at all, and nothing a reader does fails because
the cache is down. Redis is tried again every RETRY_INTERVAL, so the site is back on the
shared cache a moment after Redis answers again.
"""

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


# SET a number unless the key holds a greater one (Django stores an int as its digits).
RAISE_TO = """
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then
    return 0
end
if tonumber(ARGV[2]) > 0 then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
    redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""


def raise_in(backend, key: str, value: int, timeout: float) -> None:
    """raise_to asked, then set: atomic enough in a cache of this process's own (no one
    writes in between but its own threads, and a version only grows). `backend`: a Django
    cache, or Django's Redis client (whose get needs its default)."""
    current = backend.get(key, None)
    if not isinstance(current, int) or current < value:
        backend.set(key, value, timeout)


def raise_to(key: str, value: int, timeout: float) -> None:
    """Store the number `value` under `key` in the cache unless it holds a greater one."""
    shared = getattr(cache, "raise_to", None)  # FailSoftRedisCache's
    if shared is not None:
        shared(key, value, timeout)
    else:
        raise_in(cache, key, value, timeout)


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
        self._raise = None

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
        try:
            value = self._incr_existing(keys=[key], args=[delta], client=client)
        except redis.exceptions.NoPermissionError:
            return super().incr(key, delta)  # a Redis user not allowed scripts: Django's
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def raise_to(self, key, value: int, timeout: int | None) -> None:
        client = self.get_client(key, write=True)
        if self._raise is None:
            self._raise = client.register_script(RAISE_TO)
        try:
            self._raise(keys=[key], args=[value, timeout or 0], client=client)
        except redis.exceptions.NoPermissionError:
            # A Redis user not allowed scripts: asked, then set (a render racing a write
            # may then put an older version back, until the next change or STATE_SECONDS).
            raise_in(self, key, value, timeout)


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
        return self.attempt_with(
            lambda: getattr(super(FailSoftRedisCache, self), operation)(*args, **kwargs),
            lambda: getattr(self.fallback, operation)(*args, **kwargs),
        )

    def attempt_with(self, in_redis, in_memory):
        """in_redis(), or in_memory() while Redis is away."""
        now = time.monotonic()
        if self.failing_since and now - self.last_attempt < RETRY_INTERVAL:
            # Redis was away a moment ago: don't make every request wait for a timeout.
            return in_memory()
        self.last_attempt = now
        try:
            result = in_redis()
        except UNREACHABLE as error:
            self.failing_since = self.failing_since or now
            if now - self.last_warning > WARNING_INTERVAL:
                self.last_warning = now
                logger.warning("Redis unreachable (%s); using this process's memory.", error)
            return in_memory()
        self.failing_since = None
        return result

    def clear(self):
        """Every entry gone, also those kept near (NearCache), in every process."""
        result = self.attempt("clear")
        self.near.announce([EVERY_GROUP])
        return result

    def raise_to(self, key: str, value: int, timeout: float) -> None:
        """Store the number `value` under `key` unless it holds a greater one, at once for
        every process (one script in Redis)."""
        redis_key = self.make_and_validate_key(key)
        self.attempt_with(
            lambda: self._cache.raise_to(redis_key, value, self.get_backend_timeout(timeout)),
            lambda: raise_in(self.fallback, key, value, timeout),
        )


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
# Entries kept at most (each a few hundred bytes): past this, all are forgotten at once.
MOST_KEPT = 10_000
# A Redis that refuses to let us listen (a user without the channel's permission) is asked
# again this often, not at every request.
REFUSED_RETRY_INTERVAL = 60  # seconds
EVERY_GROUP = "*"


class Overheard(Exception):
    """More was announced than one read may trust to be all of it."""


def near_channel(backend: "FailSoftRedisCache") -> str:
    """The channel of a Redis database's announcements. A channel is seen by every database
    of a server, so the database's number names it, with the key prefix; not the server's
    address (every process must hear the same channel however its URL names the server) nor
    anything secret."""
    database = parse_url(backend._servers[0]).get("db", 0)
    return f"{backend.key_prefix}:near:{database}"


class Listener:
    """This process's subscription to the announcements of changed groups."""

    def __init__(self, url: str, channel: str, publisher, **timeouts):
        # A connection of its own, outside any pool, speaking RESP2 (messages as plain
        # arrays); it is never handed to a command and never reconnects by itself (a new
        # connection would have missed what was announced meanwhile). The URL's own
        # options win, as they do for the cache's connections (but the pool's own).
        options = {**timeouts, **parse_url(url), "protocol": 2}
        for pool_option in ("max_connections", "timeout", "connection_pool_class"):
            options.pop(pool_option, None)
        connection_class = options.pop("connection_class", redis.Connection)
        self.connection = connection_class(**options)
        self.connection.connect()
        try:
            self.connection.send_command("SUBSCRIBE", channel)
            kind, _, _ = self.connection.read_response()
            if kind != b"subscribe":
                raise redis.exceptions.ResponseError(f"SUBSCRIBE answered {kind!r}")
            # Whoever may not announce (a Redis user refused PUBLISH) must keep nothing:
            # every process has the same user, so no change would ever be heard.
            publisher.publish(channel, "")
        except BaseException:
            self.close()
            raise

    def announced(self) -> list[str]:
        """The groups announced since the last call (EVERY_GROUP among them: all)."""
        groups = []
        while self.connection.can_read(timeout=0):
            kind, _, group = self.connection.read_response()
            if kind == b"message" and group:  # (empty: another process's first publish)
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
        self.channel = near_channel(backend)
        # Reads from replicas (servers after the first) may lag behind an announcement: a
        # process would keep what it heard had changed. Nothing is kept near then.
        self.replicas = len(backend._servers) > 1
        self.process = os.getpid()
        self.listener: Listener | None = None
        self.next_attempt = 0.0
        self.last_warning = -WARNING_INTERVAL
        # The listener's socket is read by one thread at a time (a threaded server), and
        # what a thread learned is not kept if another heard of a change meanwhile.
        self.lock = threading.Lock()
        self.heard = 0  # announcements heard, and forgettings, so far
        # group -> {key: (when learned, value)}
        self.kept: dict[str, dict[str, tuple[float, object]]] = {}
        self.entries = 0
        self.swept_at = 0.0

    def get_many(self, group: str, keys: list[str]) -> dict:
        """backend.get_many(keys), from this process's memory when it may be."""
        now = time.monotonic()
        with self.lock:
            listening = self._listening(now)
            if listening:
                kept = self.kept.get(group, {})
                if all(key in kept and now - kept[key][0] < NEAR_SECONDS for key in keys):
                    return {key: kept[key][1] for key in keys}
            heard = self.heard
        from_memory = []
        found = self.backend.attempt_with(
            lambda: RedisCache.get_many(self.backend, keys),
            lambda: from_memory.append(True) or self.backend.fallback.get_many(keys),
        )
        # Kept only if whole and from Redis itself (what is missing, or from this process's
        # stand-in memory, must be asked again), and if nothing was heard meanwhile (it may
        # be of a change made after Redis answered).
        if listening and len(found) == len(keys) and not from_memory:
            with self.lock:
                if self.heard == heard:
                    self._keep(group, found, now)
        return found

    def _keep(self, group: str, found: dict, now: float) -> None:
        if now - self.swept_at > NEAR_SECONDS or self.entries + len(found) > MOST_KEPT:
            self._sweep(now)
        kept = self.kept.setdefault(group, {})
        self.entries += len(found.keys() - kept.keys())
        kept.update((key, (now, value)) for key, value in found.items())

    def _sweep(self, now: float) -> None:
        """Drop what is out of date; everything, if what is not is still too much."""
        self.kept = {
            group: fresh
            for group, entries in self.kept.items()
            if (fresh := {k: e for k, e in entries.items() if now - e[0] < NEAR_SECONDS})
        }
        self.entries = sum(len(entries) for entries in self.kept.values())
        if self.entries > MOST_KEPT // 2:
            self.kept, self.entries = {}, 0
        self.swept_at = now

    def forget(self, groups) -> None:
        """Forget these groups here, at once (what this process changed)."""
        with self.lock:
            self._forget(groups)

    def _forget(self, groups) -> None:
        self.heard += 1
        if EVERY_GROUP in groups:
            self.kept, self.entries = {}, 0
            return
        for group in groups:
            self.entries -= len(self.kept.pop(group, ()))

    def announce(self, groups: list[str]) -> None:
        """Tell every process these groups changed (after changing their entries). Returns
        once Redis has handed the announcement to every listener's socket: a reader's next
        request, whichever process takes it, finds it there. While Redis is away, nothing
        (no listener hears it then, so none keeps anything), and no wait for it."""
        self.forget(groups)
        if groups:
            self.backend.attempt_with(lambda: self._publish(groups), lambda: None)

    def _publish(self, groups: list[str]) -> None:
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
            raise
        except redis.exceptions.RedisError as error:
            # Refused (a Redis user not allowed to publish): then no process keeps anything
            # (see Listener), so nothing goes stale. Said, never a failed write.
            self._warn("Could not announce a change on %s: %s", error)

    def _listening(self, now: float) -> bool:
        """Whether what is kept may be used: this process listens, and has heard every
        announcement made until now (and forgotten what they name)."""
        if self.process != os.getpid():
            # Forked: the parent's socket is not ours to read (nor to close).
            self.process, self.listener, self.kept, self.entries = os.getpid(), None, {}, 0
        if self.listener is None:
            if now < self.next_attempt or self.backend.failing_since or self.replicas:
                return False
            self.next_attempt = now + RETRY_INTERVAL
            try:
                self.listener = Listener(
                    self.backend._servers[0],
                    self.channel,
                    self.backend._cache.get_client(write=True),
                    **self.backend._timeouts,
                )
            except Exception as error:  # noqa: BLE001 - whatever it is, pages are served
                if not isinstance(error, UNREACHABLE):
                    self.next_attempt = now + REFUSED_RETRY_INTERVAL
                self._warn("Not listening on %s: %s", error)
                return False
            self._forget([EVERY_GROUP])  # all learned before the subscription is suspect
        try:
            groups = self.listener.announced()
        except (Overheard, redis.exceptions.RedisError, OSError, ValueError):
            self.listener.close()
            self.listener = None
            self._forget([EVERY_GROUP])
            return False
        if groups:
            self._forget(groups)
        return True

    def _warn(self, message: str, error: Exception) -> None:
        now = time.monotonic()
        if now - self.last_warning > WARNING_INTERVAL:
            self.last_warning = now
            logger.warning(message, self.channel, error)


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
