"""Entries kept near (forum/cache.py's NearCache): a web process keeps an essay's state and
reading page in its own memory, and forgets them when any process announces the essay
changed. Two backends stand for two web processes: each has its own memory and its own
subscription, as two gunicorn workers would.

Needs Redis: CI runs this with REDIS_URL set (the suite's second run)."""

import os
import secrets
import time

import pytest
import redis

from forum import cache as near_module
from forum.cache import EVERY_GROUP, FailSoftRedisCache

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="CI runs this with REDIS_URL set"
)


def web_process(prefix: str) -> FailSoftRedisCache:
    return FailSoftRedisCache(
        os.environ["REDIS_URL"],
        {"KEY_PREFIX": prefix, "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}},
    )


@pytest.fixture
def processes():
    """Two web processes sharing one Redis, under a prefix of this test's own."""
    prefix = f"near-test-{secrets.token_hex(4)}"
    first, second = web_process(prefix), web_process(prefix)
    yield first, second
    for backend in (first, second):
        if backend.near.listener:
            backend.near.listener.close()
    first.delete_many(["state", "page", "other-page"])


def behind_their_back(backend: FailSoftRedisCache, **values) -> None:
    """Changes entries in Redis without announcing it, as no writer of ours does: whoever
    still answers the old value answers from its own memory."""
    backend.set_many(values)


def test_a_process_keeps_what_it_was_told_until_a_change_is_announced(processes):
    reader, writer = processes
    writer.set_many({"state": 1, "page": (1, "a")})
    assert reader.near.get_many("essay", ["state", "page"]) == {"state": 1, "page": (1, "a")}
    behind_their_back(writer, state=2)
    # Kept: not asked of Redis again.
    assert reader.near.get_many("essay", ["state", "page"]) == {"state": 1, "page": (1, "a")}
    writer.near.announce(["essay"])
    assert reader.near.get_many("essay", ["state", "page"]) == {"state": 2, "page": (1, "a")}


def test_an_announcement_names_the_groups_it_forgets(processes):
    reader, writer = processes
    writer.set_many({"state": 1, "other-page": "x"})
    reader.near.get_many("essay", ["state"])
    reader.near.get_many("another essay", ["other-page"])
    behind_their_back(writer, state=2, **{"other-page": "y"})
    writer.near.announce(["essay"])
    assert reader.near.get_many("essay", ["state"]) == {"state": 2}
    assert reader.near.get_many("another essay", ["other-page"]) == {"other-page": "x"}
    writer.near.announce([EVERY_GROUP])
    assert reader.near.get_many("another essay", ["other-page"]) == {"other-page": "y"}


def test_the_writer_forgets_at_once_too(processes):
    reader, _ = processes
    reader.set("state", 1)
    reader.near.get_many("essay", ["state"])
    behind_their_back(reader, state=2)
    reader.near.announce(["essay"])
    assert reader.near.get_many("essay", ["state"]) == {"state": 2}


def test_what_is_missing_is_asked_again(processes):
    reader, writer = processes
    assert reader.near.get_many("essay", ["state", "page"]) == {}
    writer.set_many({"state": 1, "page": (1, "a")})
    assert reader.near.get_many("essay", ["state", "page"]) == {"state": 1, "page": (1, "a")}


def test_several_pages_of_one_essay_are_kept_side_by_side(processes):
    reader, writer = processes
    writer.set_many({"state": 1, "page": "essay page", "other-page": "paragraph page"})
    reader.near.get_many("essay", ["state", "page"])
    reader.near.get_many("essay", ["state", "other-page"])
    behind_their_back(writer, page="changed", **{"other-page": "changed"})
    assert reader.near.get_many("essay", ["state", "page"])["page"] == "essay page"
    assert reader.near.get_many("essay", ["state", "other-page"])["other-page"] == "paragraph page"


def test_nothing_is_kept_longer_than_near_seconds(processes, monkeypatch):
    reader, writer = processes
    writer.set("state", 1)
    reader.near.get_many("essay", ["state"])
    behind_their_back(writer, state=2)
    monkeypatch.setattr(near_module, "NEAR_SECONDS", 0)
    assert reader.near.get_many("essay", ["state"]) == {"state": 2}


def test_a_lost_subscription_forgets_everything_and_keeps_nothing_until_renewed(processes):
    reader, writer = processes
    writer.set("state", 1)
    reader.near.get_many("essay", ["state"])
    # Redis drops the listener's connection (a restart, a network cut): whatever was
    # announced meanwhile is unknown.
    host, port = reader.near.listener.connection._sock.getsockname()[:2]
    address = f"{host}:{port}"
    redis.Redis.from_url(os.environ["REDIS_URL"]).client_kill(address)
    behind_their_back(writer, state=2)
    assert reader.near.get_many("essay", ["state"]) == {"state": 2}
    assert reader.near.listener is None
    behind_their_back(writer, state=3)
    assert reader.near.get_many("essay", ["state"]) == {"state": 3}, "kept while not listening"
    # A moment later it listens again, and keeps again.
    reader.near.next_attempt = 0
    assert reader.near.get_many("essay", ["state"]) == {"state": 3}
    assert reader.near.listener is not None
    behind_their_back(writer, state=4)
    assert reader.near.get_many("essay", ["state"]) == {"state": 3}
    writer.near.announce(["essay"])
    assert reader.near.get_many("essay", ["state"]) == {"state": 4}


def test_too_many_announcements_at_once_forget_everything(processes):
    reader, writer = processes
    writer.set_many({"state": 1, "other-page": "x"})
    reader.near.get_many("another essay", ["other-page"])
    behind_their_back(writer, **{"other-page": "y"})
    # None of them names the group kept; so many may not be all there is to hear.
    writer.near.announce([f"essay {n}" for n in range(near_module.MOST_ANNOUNCEMENTS_AT_ONCE + 1)])
    assert reader.near.get_many("another essay", ["other-page"]) == {"other-page": "y"}


def test_clearing_the_cache_forgets_everywhere(processes):
    reader, writer = processes
    writer.set("state", 1)
    reader.near.get_many("essay", ["state"])
    writer.clear()
    assert reader.near.get_many("essay", ["state"]) == {}


def test_nothing_is_kept_from_the_stand_in_memory(processes):
    """With Redis away, each process answers from its own memory: nothing there is an
    answer another process's announcement would correct."""
    reader = web_process("near-test-away")
    reader._servers = ["redis://127.0.0.1:1/0"]  # nothing listens there
    reader.set("state", 1)
    assert reader.failing_since is not None
    assert reader.near.get_many("essay", ["state"]) == {"state": 1}
    assert reader.near.kept == {}


def test_a_reading_page_served_again_asks_redis_nothing(seeded_essay, monkeypatch):
    """The site's own cache, as production has it: a visitor's page, once kept near, is
    served without a round trip; a change announced, it is asked for again."""
    from django.core.cache import cache
    from django.test import Client

    from tests.conftest import add_comment, make_user

    assert isinstance(cache._connections["default"], FailSoftRedisCache)
    commands = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(connection, command, *args, **kwargs):
        commands.append(command)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    url = seeded_essay.get_absolute_url()
    for _ in range(2):  # rendered, then served and kept
        assert Client().get(url).status_code == 200
    commands.clear()
    assert Client().get(url).status_code == 200
    assert commands == []
    add_comment(seeded_essay, author=make_user("near@example.org", "Near"), body="Heard at once.")
    commands.clear()
    page = Client().get(url).content.decode()
    assert "Heard at once." in page
    assert commands, "the page was not asked for again"


def test_a_state_only_grows(processes):
    """raise_to, in Redis: a version is stored unless a greater one is there already."""
    first, second = processes
    first.raise_to("state", 5, 60)
    second.raise_to("state", 4, 60)
    assert first.get("state") == 5
    second.raise_to("state", 6, 60)
    assert first.get("state") == 6
    first.set("state", "not a number")
    first.raise_to("state", 1, 60)
    assert second.get("state") == 1
    assert 0 < redis.Redis.from_url(os.environ["REDIS_URL"]).ttl(first.make_key("state")) <= 60


def test_every_spelling_of_a_database_shares_one_channel_that_shows_no_secret():
    spellings = [
        "redis://127.0.0.1:6379/15",
        "redis://localhost:6379?db=15",
        "redis://:a-secret@127.0.0.1:6379/15?socket_timeout=2",
    ]
    channels = {FailSoftRedisCache(url, {}).near.channel for url in spellings}
    assert len(channels) == 1
    assert "secret" not in channels.pop()
    assert FailSoftRedisCache("redis://127.0.0.1:6379/14", {}).near.channel not in channels


def test_options_in_the_url_are_the_listeners_too(processes):
    """The URL's own options (as Django's connections take them) make no clash with the
    cache's OPTIONS: the process listens, and keeps."""
    _, writer = processes
    url = os.environ["REDIS_URL"]
    reader = FailSoftRedisCache(
        f"{url}{'&' if '?' in url else '?'}socket_timeout=2&protocol=3",
        {"KEY_PREFIX": writer.key_prefix, "OPTIONS": {"socket_timeout": 0.5}},
    )
    writer.set("state", 1)
    assert reader.near.get_many("essay", ["state"]) == {"state": 1}
    assert reader.near.listener is not None and reader.near.kept
    reader.near.listener.close()


def test_what_a_thread_learned_is_not_kept_if_another_heard_of_a_change_meanwhile(processes):
    """Two threads of one process: the first's answer from Redis arrives; before it keeps
    it, the second hears that the essay changed (after Redis answered the first)."""
    reader, writer = processes
    writer.set("state", 1)
    client = reader._cache  # Django's Redis client, which the near cache asks
    fetch = client.get_many

    def fetched_then_a_change_heard(keys):
        found = fetch(keys)
        writer.set("state", 2)
        writer.near.announce(["essay"])
        with reader.near.lock:  # the other thread, before it serves a page, hears it
            assert reader.near._listening(time.monotonic())
        return found

    client.get_many = fetched_then_a_change_heard
    assert reader.near.get_many("essay", ["state"]) == {"state": 1}
    client.get_many = fetch
    assert reader.near.get_many("essay", ["state"]) == {"state": 2}


def test_a_process_keeps_a_bounded_number_of_entries(processes, monkeypatch):
    reader, writer = processes
    monkeypatch.setattr(near_module, "MOST_KEPT", 10)
    writer.set("state", 1)
    for number in range(50):
        reader.near.get_many(f"essay {number}", ["state"])
        assert reader.near.entries == sum(len(kept) for kept in reader.near.kept.values())
        assert reader.near.entries <= 10


def test_with_redis_away_an_announcement_waits_for_nothing():
    """A write announces its change; with Redis away a moment ago, it does not wait for
    Redis again (a hung Redis would cost each write its timeout)."""
    backend = web_process("near-test-away")
    backend._servers = ["redis://127.0.0.1:1/0"]  # nothing listens there
    backend.set("anything", 1)
    assert backend.failing_since is not None
    tried_at = backend.last_attempt
    backend.near.announce(["essay"])
    assert backend.last_attempt == tried_at


@pytest.fixture
def redis_user():
    """A Redis user of this test's own, with the rules given; removed afterwards."""
    server = redis.Redis.from_url(os.environ["REDIS_URL"])
    made = []

    def make(*rules: str) -> str:
        name, password = f"near-test-{secrets.token_hex(4)}", secrets.token_hex(8)
        server.acl_setuser(name, enabled=True, passwords=[f"+{password}"], reset_keys=True)
        server.execute_command("ACL", "SETUSER", name, "~*", "&*", *rules)
        made.append(name)
        url = os.environ["REDIS_URL"].replace("redis://", f"redis://{name}:{password}@", 1)
        return url

    yield make
    for name in made:
        server.acl_deluser(name)


def process_as(url: str, prefix: str) -> FailSoftRedisCache:
    return FailSoftRedisCache(url, {"KEY_PREFIX": prefix, "OPTIONS": {"socket_timeout": 0.5}})


def test_a_redis_user_not_allowed_scripts_still_raises_states_and_counts(processes, redis_user):
    writer, _ = processes
    backend = process_as(redis_user("+@all", "-@scripting"), writer.key_prefix)
    backend.raise_to("state", 5, 60)
    backend.raise_to("state", 4, 60)
    assert writer.get("state") == 5
    backend.set("count", 1)
    assert backend.incr("count") == 2
    assert backend.failing_since is None


def test_a_process_that_may_not_announce_keeps_nothing(processes, redis_user):
    """Every process has the same Redis user: if it may not publish, no change would ever be
    heard, so none keeps anything."""
    writer, _ = processes
    reader = process_as(redis_user("+@all", "-publish"), writer.key_prefix)
    writer.set("state", 1)
    assert reader.near.get_many("essay", ["state"]) == {"state": 1}
    assert reader.near.listener is None and reader.near.kept == {}
    behind_their_back(writer, state=2)
    assert reader.near.get_many("essay", ["state"]) == {"state": 2}


def test_with_replicas_nothing_is_kept():
    """A replica may answer with what an announcement said had changed."""
    url = os.environ["REDIS_URL"]
    backend = FailSoftRedisCache([url, url], {"KEY_PREFIX": f"near-test-{secrets.token_hex(4)}"})
    backend.set("state", 1)
    assert backend.near.get_many("essay", ["state"]) == {"state": 1}
    assert backend.near.kept == {} and backend.near.listener is None


def test_options_of_the_pool_in_the_url_are_not_the_listeners(processes):
    _, writer = processes
    url = os.environ["REDIS_URL"]
    reader = process_as(f"{url}{'&' if '?' in url else '?'}max_connections=50", writer.key_prefix)
    writer.set("state", 1)
    reader.near.get_many("essay", ["state"])
    assert reader.near.listener is not None and reader.near.kept
    reader.near.listener.close()
