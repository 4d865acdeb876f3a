"""Sessions read from the shared cache, kept in the database.

Django's cached_db store: a signed-in page asks Redis for the session instead of the
database. The database stays the truth: a session missing from the cache (Redis restarted,
or away: forum/cache.py then answers from this process's memory) is read from it again.

The cache keeps a session for CACHED_SECONDS at most, not for the session's whole life. A
logout or a password change deletes the session from the database and the cache; one made
while Redis is unreachable deletes it only from the database and this process's memory, and
the copy still in Redis (or in another process's memory) must not outlive that for weeks.
"""

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger("django.contrib.sessions")

CACHED_SECONDS = 5 * 60


class SessionStore(cached_db.SessionStore):
    def load(self):
        data = self._cache.get(self.cache_key)
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._cache.set(self.cache_key, data, self._cached_seconds(stored.expire_date))
        return data

    def save(self, must_create=False):
        # The database's save (cached_db's own would cache the session for its whole life).
        super(cached_db.SessionStore, self).save(must_create)
        try:
            self._cache.set(self.cache_key, self._session, self._cached_seconds())
        except Exception:
            logger.exception("Error saving to cache (%s)", self._cache)

    def _cached_seconds(self, expiry=None) -> int:
        return min(CACHED_SECONDS, self.get_expiry_age(expiry=expiry))
