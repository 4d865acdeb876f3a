"""The reading page, rendered once and served many times.

What every anonymous visitor sees of an essay is one page: it is cached whole, with the
essay's discussion_version it was made at, and served while that is still the essay's
version (essays/states.py keeps it in the cache, so a page served again costs no database
query), or answered 304 to a browser that already has it. The page's forms still carry each
visitor's own CSRF token: the page is cached with a placeholder in its place, filled in for
each request. Signed-in readers get the essay's body (its blocks and their margin counts,
the same for everyone) from the cache, and only what is theirs is rendered for them.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from essays.models import Essay
from essays.states import essay_state_remember, state_key

# Letters only: a CSRF token is made of letters and digits, and so must its stand-in be.
CSRF_PLACEHOLDER = "CsrfTokenPlaceholderXq"
# Only the token's own field is filled in: a reader may write the placeholder's letters in a
# comment, but never this attribute pair (quotes in what readers write come out escaped).
CSRF_FIELD = f'name="csrfmiddlewaretoken" value="{CSRF_PLACEHOLDER}"'


def _release() -> str:
    """What this deployment renders with: its templates, static files and code. A deploy
    that changes any of them starts from fresh pages and fresh ETags."""
    digest = hashlib.sha256()
    for folder, pattern in (
        ("templates", "**/*.html"),
        ("static", "**/*"),
        ("forum", "**/*.py"),
        ("essays", "**/*.py"),
    ):
        for path in sorted((settings.BASE_DIR / folder).glob(pattern)):
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = _release()
# A page is replaced when its essay changes, not when this runs out; this only bounds
# how long a page nobody asks for stays in the cache.
PAGE_SECONDS = 24 * 3600


def is_everyones_page(request, **query: str) -> bool:
    """Whether this request gets the page every anonymous visitor gets: a plain GET with no
    session (a draft kept across a login lives there), no message waiting, and no query but
    `query`'s parameters, each with the value the page understood it as. (The page's links
    back carry its address: a first visitor's own additions must not reach everyone.)"""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and "HX-Request" not in request.headers
        and all(
            name in query and request.GET.getlist(name) == [query[name]] for name in request.GET
        )
    )


def page_key(slug: str, *variant: str) -> str:
    return ":".join(["page", RELEASE, slug, *variant])


def _etag(request, slug: str, version: int, variant) -> str | None:
    """Names the page as this browser has it: its forms carry a token of the browser's CSRF
    cookie, so a browser without one (or with a new one) gets the page again, not a 304."""
    cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    if not cookie:
        return None
    named = ":".join([RELEASE, slug, str(version), *variant, cookie])
    return f'W/"{hashlib.sha256(named.encode()).hexdigest()[:20]}"'


def _answer(request, html: str, etag: str | None) -> HttpResponse:
    token_field = CSRF_FIELD.replace(CSRF_PLACEHOLDER, get_token(request))
    response = HttpResponse(html.replace(CSRF_FIELD, token_field))
    if etag:
        response["ETag"] = etag
    # Each copy holds its visitor's token: for their browser only, checked every time.
    response["Cache-Control"] = "private, no-cache"
    return response


def _not_modified(etag: str) -> HttpResponse:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def everyones_page_cached(request, *, slug: str, variant: tuple[str, ...]):
    """The page, if the essay's current state is known and the page was made at it; 304 if
    the browser has it; else None. One round trip to the cache, none to the database."""
    key = page_key(slug, *variant)
    found = cache.get_many([state_key(slug), key])
    version = found.get(state_key(slug))
    if version is None:
        return None
    etag = _etag(request, slug, version, variant)
    if etag and request.headers.get("If-None-Match") == etag:
        return _not_modified(etag)
    made_at, html = found.get(key, (None, None))
    return _answer(request, html, etag) if made_at == version else None


def everyones_page(request, *, essay, variant: tuple[str, ...], template: str, context):
    """The page rendered now (context: a callable) and cached, with its visitor's token."""
    version = essay.discussion_version
    etag = _etag(request, essay.slug, version, variant)
    if etag and request.headers.get("If-None-Match") == etag:
        return _not_modified(etag)
    values = context()
    html = render_to_string(template, {**values, "csrf_token": CSRF_PLACEHOLDER}, request=request)
    if values["page"].number > 1 and not values["thread"]:
        # A page past the end is not kept: asking for ten thousand of them must not fill
        # the cache.
        return _answer(request, html, etag)
    cache.set(page_key(essay.slug, *variant), (version, html), PAGE_SECONDS)
    # Only a version still current becomes the essay's known state: a writer may have
    # moved on while this page was rendered.
    if Essay.objects.filter(pk=essay.pk, discussion_version=version).exists():
        essay_state_remember(essay.slug, version)
    return _answer(request, html, etag)


def cached_fragment(essay, name: str, template: str, context) -> str:
    """A part of a page that is the same for every reader, rendered once per version."""
    key = page_key(essay.slug, name)
    made_at, html = cache.get(key, (None, None))
    if made_at != essay.discussion_version:
        html = render_to_string(template, context())
        cache.set(key, (essay.discussion_version, html), PAGE_SECONDS)
    return html
