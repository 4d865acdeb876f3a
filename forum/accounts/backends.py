"""Signing in, and the signed-in account read from the cache.

allauth's backend (email and password) checks who signs in. On every later request Django
asks the backend for the session's account: this one reads it from the shared cache, and
the database only when the cache does not hold it. The account is forgotten whenever its
row changes (User.save and User.delete call forget_account) and kept CACHED_SECONDS at most,
so that a change made some other way (a queryset's update(), the database by hand) is seen
soon even then. Only the row is kept: permissions are read afresh whenever a request asks.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.core.cache import cache

from forum.cache import account_key, get_known

from .cached import CACHED_SECONDS


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id):
        key = account_key(user_id)
        # Perhaps asked already, with the page's own entries (forum/cache.py answers_known).
        user = get_known(key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                cache.set(key, user, CACHED_SECONDS)
        elif not self.user_can_authenticate(user):
            return None
        return user
