"""Fixed-window rate limits kept in Django's cache (Redis when REDIS_URL is set).

Each limit is (how many, per how many seconds); a key is refused while any of its
windows is full. Counters live in the shared cache so every web process sees them.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class RateLimited(Exception):
    retry_after: int  # seconds until the fullest window reopens

    def __str__(self):
        return f"Rate limited; retry after {self.retry_after} s"


def consume(scope: str, key: str, limits: list[tuple[int, int]]) -> None:
    """Count one action for `key`; raise RateLimited if that exceeds any limit."""
    now = time.time()
    waits = []
    for allowed, period in limits:
        window = int(now // period)
        counter = f"ratelimit:{scope}:{key}:{period}:{window}"
        # Count first: within its window a counter exists (it outlives the window by a
        # second), so the usual action costs one call to the cache, not two.
        try:
            count = cache.incr(counter)
        except ValueError:
            # The window's first action, unless another process opened it a moment ago.
            count = 1 if cache.add(counter, 1, timeout=period + 1) else cache.incr(counter)
        if count > allowed:
            waits.append(int((window + 1) * period - now) + 1)
    if waits:
        raise RateLimited(retry_after=max(waits))


def client_address(request) -> str:
    if settings.CLIENT_ADDRESS_FROM_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
