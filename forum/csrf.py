"""A page's CSRF token, as django.middleware.csrf.get_token makes it, at a fraction of its cost.

get_token draws each of the 64 characters of a token (the cookie's secret and the mask) with
a read of the system's randomness of its own: half a million instructions and 64 system
calls, a quarter of what serving a cached reading page costs. Here each 32 characters come
from one read, mapped to characters in C, each character as likely as with get_token; the
token, the cookie and the request's state are the same as get_token's.
"""

import secrets

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

BASE = len(CSRF_ALLOWED_CHARS)
# Each character's place among the allowed ones, for the mask's arithmetic.
PLACE = {char: place for place, char in enumerate(CSRF_ALLOWED_CHARS)}
# A random byte below WHOLE stands for the allowed character at its place modulo BASE; the
# bytes from WHOLE up are dropped, or the first 256 % BASE characters would come more often.
WHOLE = 256 - 256 % BASE
AS_CHARACTER = bytes(ord(CSRF_ALLOWED_CHARS[byte % BASE]) for byte in range(WHOLE)).ljust(256)
DROPPED = bytes(range(WHOLE, 256))


def csrf_token(request) -> str:
    """What get_token(request) answers, with the same effects: a masked token of the
    request's CSRF secret, made when the request brought none, and the cookie marked to be
    sent (CsrfViewMiddleware sends it; with CSRF_USE_SESSIONS, keeps it in the session)."""
    if "CSRF_COOKIE" in request.META:
        secret = request.META["CSRF_COOKIE"]
    else:
        secret = request.META["CSRF_COOKIE"] = _random_text(CSRF_SECRET_LENGTH)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _random_text(CSRF_SECRET_LENGTH)
    cipher = "".join(
        CSRF_ALLOWED_CHARS[(PLACE[s] + PLACE[m]) % BASE] for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher


def _random_text(length: int) -> str:
    """`length` allowed characters, each drawn uniformly and independently of the others."""
    drawn = b""
    while len(drawn) < length:
        # A few bytes more than needed: one in 32 is dropped.
        drawn += secrets.token_bytes(length + 8).translate(AS_CHARACTER, DROPPED)
    return drawn[:length].decode()
