"""The reading page, rendered once and served many times.

What every anonymous visitor sees of an essay is one page: it is cached whole under a key
that names the essay's state (Essay.discussion_version, bumped by every change readers can
see), and answered 304 to a browser that already has it. The page's forms still carry each
visitor's own CSRF token: the page is cached with a placeholder in its place, filled in for
each request. Signed-in readers get the essay's body (its blocks and their margin counts,
the same for everyone) from the same cache, and only what is theirs is rendered for them.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

# Letters only: a CSRF token is made of letters and digits, and so must its stand-in be.
CSRF_PLACEHOLDER = "CsrfTokenPlaceholderXq"
# A page is replaced when its essay changes, not when this runs out; this only bounds
# how long a page nobody asks for stays in the cache.
PAGE_SECONDS = 24 * 3600


def page_key(essay, *parts: str) -> str:
    return ":".join(["page", str(essay.pk), str(essay.discussion_version), *parts])


def is_everyones_page(request) -> bool:
    """Whether this request gets the page every anonymous visitor gets: a plain GET with no
    session (a draft kept across a login lives there) and no message waiting."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and "HX-Request" not in request.headers
    )


def everyones_page(request, *, key: str, template: str, context) -> HttpResponse:
    """The page under `key`, from the cache or rendered now (context: a callable, called
    only to render), with this visitor's CSRF token, or 304 when they have it already."""
    etag = f'W/"{hashlib.sha256(key.encode()).hexdigest()[:20]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        html = cache.get(key)
        if html is None:
            html = render_to_string(
                template, {**context(), "csrf_token": CSRF_PLACEHOLDER}, request=request
            )
            cache.set(key, html, PAGE_SECONDS)
        response = HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))
    response["ETag"] = etag
    # Each copy holds its visitor's token: for their browser only, checked every time.
    response["Cache-Control"] = "private, no-cache"
    return response


def cached_fragment(key: str, template: str, context) -> str:
    """A part of a page that is the same for every reader, rendered once."""
    html = cache.get(key)
    if html is None:
        html = render_to_string(template, context())
        cache.set(key, html, PAGE_SECONDS)
    return html
