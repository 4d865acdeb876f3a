"""The shared cache fails soft: with Redis away, pages render, comments are taken, and
limits still count (in each process) until Redis is back."""

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from forum.cache import FailSoftRedisCache
from forum.discussion.models import Comment
from forum.ratelimits import RateLimited, consume

# Nothing listens on port 1: every connection is refused at once.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "forum.cache.FailSoftRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture
def redis_away(settings):
    settings.CACHES = UNREACHABLE_REDIS
    caches["default"].fallback.clear()
    yield caches["default"]
    caches["default"].fallback.clear()


def test_with_redis_away_the_cache_answers_from_memory(redis_away):
    assert isinstance(redis_away, FailSoftRedisCache)
    redis_away.set("greeting", "hello")
    assert redis_away.get("greeting") == "hello"
    assert redis_away.add("greeting_count", 0) is True
    assert redis_away.incr("greeting_count") == 1
    assert redis_away.failing_since is not None


def test_with_redis_away_limits_still_hold(redis_away):
    for _ in range(3):
        consume("test", "reader", [(3, 60)])
    with pytest.raises(RateLimited):
        consume("test", "reader", [(3, 60)])


def test_with_redis_away_pages_render_and_comments_are_taken(
    redis_away, seeded_essay, user, reader_client
):
    assert reader_client.get(seeded_essay.get_absolute_url()).status_code == 200
    url = reverse("discussion:essay_comment", args=[seeded_essay.slug])
    response = reader_client.post(url, {"body": "Said while the cache was away."})
    assert response.status_code == 302
    assert Comment.objects.filter(body="Said while the cache was away.").exists()
    response = Client().get("/healthz")
    assert response.json()["checks"]["cache"] == "unreachable: this process's memory stands in"


def test_redis_is_tried_again_once_it_answers(redis_away, monkeypatch):
    redis_away.get("anything")
    assert redis_away.failing_since is not None
    # A moment later, Redis answers again (here: a backend call that succeeds).
    monkeypatch.setattr("forum.cache.RETRY_INTERVAL", 0)
    monkeypatch.setattr(
        "django.core.cache.backends.redis.RedisCache.get", lambda self, key, default=None: "back"
    )
    assert redis_away.get("anything") == "back"
    assert redis_away.failing_since is None


def test_one_redis_client_serves_every_operation(redis_away):
    """Django makes a redis.Redis per operation by default; each costs ~0.1 ms to build."""
    client = redis_away._cache.get_client("a-key")
    assert redis_away._cache.get_client("another-key", write=True) is client
    redis_away.get("anything")  # an operation that fails over keeps the client too
    assert redis_away._cache.get_client("a-key") is client
