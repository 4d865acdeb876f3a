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
import re
import secrets
from collections import OrderedDict
from dataclasses import InitVar, dataclass, field

from django.conf import settings
from django.contrib.auth.context_processors import PermWrapper
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe

from essays.states import essay_state, essay_state_remember, state_key
from forum.cache import forget_near, get_many_near
from forum.csrf import csrf_token

from .hooks import GENERIC_MEMBER, partials, personal_comment_ids
from .models import Comment
from .threads import ThreadPage

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

# The templates indent their tags for whoever reads them; a page kept for everyone is sent
# thousands of times, so the white space that only separates two tags (a line break and the
# next line's indentation) is kept as the line break alone: a browser shows both as the same
# single space, and no text or attribute changes. An eighth of the essay page's bytes, at
# write time. <pre> and <textarea> keep every character.
_KEEPS_ITS_WHITE_SPACE = re.compile(
    r"(<pre[\s>].*?</pre>|<textarea[\s>].*?</textarea>)", re.S | re.I
)
_BETWEEN_TAGS = re.compile(r"(^|>)[ \t]*\n\s*<")


def squeezed(html: str) -> str:
    parts = _KEEPS_ITS_WHITE_SPACE.split(html)
    # Each part between kept ones begins after a tag (but the first).
    parts[::2] = [_BETWEEN_TAGS.sub(r"\1\n<", part) for part in parts[::2]]
    return "".join(parts)


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
        and is_plain_query(request, **query)
    )


def is_plain_query(request, **query: str) -> bool:
    """No query but `query`'s parameters, each with the value the page understood it as: the
    page's links and forms carry its address, so no page kept for others may hold more."""
    return all(name in query and request.GET.getlist(name) == [query[name]] for name in request.GET)


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


# The placeholder's field as the bytes of a kept page hold it.
CSRF_FIELD_BYTES = CSRF_FIELD.encode()


def _answer(request, page: list[bytes], etag: str | None) -> HttpResponse:
    """The kept page (see _keep) joined by this visitor's token field."""
    token_field = CSRF_FIELD_BYTES.replace(CSRF_PLACEHOLDER.encode(), csrf_token(request).encode())
    response = HttpResponse(token_field.join(page))
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


def everyones_page_cached(
    request, *, slug: str, variant: tuple[str, ...], cache_only: bool = False
):
    """The page, if it was made at the essay's current version; 304 if the browser has it;
    else None. At most one round trip to the cache (none while this process keeps what it
    was told: forum/cache.py's NearCache), none to the database (but once a minute, when the
    essay's state is looked up again; never with `cache_only`: None then)."""
    key = page_key(slug, *variant)
    # Kept in this process until the essay's state is forgotten (essays/states.py).
    found = get_many_near(slug, [state_key(slug), key])
    known, (made_at, name) = found.get(state_key(slug)), found.get(key, (None, None))
    if known is None and (made_at is None or cache_only):
        return None  # rendered now, and the state remembered then
    version = essay_state(slug, known=known)
    if version is None:
        return None
    etag = _etag(request, slug, version, variant)
    if etag and request.headers.get("If-None-Match") == etag:
        return _not_modified(etag)
    page = _kept_page(key, name) if made_at == version else None
    return _answer(request, page, etag) if page is not None else None


# A page is kept in two parts: under its key, the version it was made at and a name of its
# own; under that name, its HTML. The process that serves a page keeps it too (the last
# KEPT_PAGES of them, encoded as they are sent), so that a page served again is not fetched
# from the shared cache each time: a page of threads is a few hundred kilobytes, its key a
# few bytes.
KEPT_PAGES = 16
_kept: OrderedDict[str, list[bytes]] = OrderedDict()


def _kept_page(key: str, name: str) -> list[bytes] | None:
    page = _kept.get(name)
    if page is None:
        html = cache.get(f"{key}:{name}")
        if html is None:
            return None
        page = _keep(name, html)
    return page


def _keep(name: str, html: str) -> list[bytes]:
    """Keeps the page encoded, cut where each visitor's CSRF token goes: encoding some
    hundred kilobytes again for each visitor, or searching them for the placeholder, would
    cost a quarter of the request."""
    page = _kept[name] = html.encode().split(CSRF_FIELD_BYTES)
    _kept.move_to_end(name)
    while len(_kept) > KEPT_PAGES:
        _kept.popitem(last=False)
    return page


def _store_page(key: str, version: int, html: str) -> list[bytes]:
    name = secrets.token_hex(8)
    cache.set_many({key: (version, name), f"{key}:{name}": html}, PAGE_SECONDS)
    return _keep(name, html)


def everyones_page(request, *, essay, variant: tuple[str, ...], template: str, context):
    """The page rendered now (context: a callable) and cached, with its visitor's token."""
    version = essay.discussion_version
    etag = _etag(request, essay.slug, version, variant)
    if etag and request.headers.get("If-None-Match") == etag:
        return _not_modified(etag)
    values = context()
    html = squeezed(
        render_to_string(template, {**values, "csrf_token": CSRF_PLACEHOLDER}, request=request)
    )
    if values["page"].number > 1 and not values["thread"]:
        # A page past the end is not kept: asking for ten thousand of them must not fill
        # the cache.
        return _answer(request, html.encode().split(CSRF_FIELD_BYTES), etag)
    page = _store_page(page_key(essay.slug, *variant), version, html)
    # Only a version still current becomes the essay's known state: a writer may have
    # moved on while this page was rendered.
    essay_state_remember(essay.slug, version)
    # What this process kept of the essay's pages (if anything led here) is out of date.
    forget_near([essay.slug])
    return _answer(request, page, etag)


def cached_fragment(essay, name: str, template: str, context) -> str:
    """A part of a page that is the same for every reader, rendered once per version."""
    key = page_key(essay.slug, name)
    made_at, html = cache.get(key, (None, None))
    if made_at != essay.discussion_version:
        html = render_to_string(template, context())
        cache.set(key, (essay.discussion_version, html), PAGE_SECONDS)
    return html


# Threads for signed-in readers.
#
# Every signed-in reader who is not a moderator and has nothing awaiting review on the essay
# sees the same comments as a visitor; only the actions under some of them differ (their own
# comments, the threads they follow). So a page of threads is rendered once for a generic
# member, each comment's actions marked, and kept; for each reader the marked actions of the
# few comments that are theirs to differ are rendered again, and the rest served as kept.
PERSONAL_REGION = re.compile(r"<!--personal:(\d+)-->(.*?)<!--/personal-->", re.S)


@dataclass
class SharedThreads:
    """A page of threads as rendered for a generic member, and what it was made at."""

    version: int
    number: int
    has_next: bool
    html: InitVar[str]
    authors: dict[int, int | None]  # comment id -> author id, for every comment on it
    # The HTML cut at its marked actions, once: [text, comment id, actions, text, ...].
    pieces: list[str] = field(init=False)

    def __post_init__(self, html: str):
        self.pieces = PERSONAL_REGION.split(html)

    @property
    def is_empty(self) -> bool:
        return self.pieces == [""]

    def marked_html(self) -> str:
        """The rendering as made, each comment's actions still marked (for a page that is
        itself shared: member_pages.py)."""
        pieces = self.pieces
        return "".join(
            [pieces[0]]
            + [
                f"<!--personal:{pieces[i]}-->{pieces[i + 1]}<!--/personal-->{pieces[i + 2]}"
                for i in range(1, len(pieces), 3)
            ]
        )


def members_threads(
    request, *, essay, variant, load, paragraph=None, personalise=True
) -> tuple[ThreadPage, str, SharedThreads]:
    """The page of threads (`load()`: as a visitor sees it) of `paragraph` (None: of the
    whole essay) for this signed-in reader, its HTML (with `personalise` False: as shared,
    its actions marked), from the shared rendering when it was made at the essay's current
    version, and that rendering."""

    def render() -> SharedThreads:
        page = load()
        return SharedThreads(
            version=essay.discussion_version,
            number=page.number,
            has_next=page.has_next,
            html=_render_shared(
                request, essay, "discussion/_thread.html", nodes=page.threads, paragraph=paragraph
            )
            if page.threads
            else "",
            authors=_authors(page.threads),
        )

    shared = _shared(essay, ("threads", *variant), render)
    page = ThreadPage(threads=[], number=shared.number, has_next=shared.has_next)
    html = _personalised(request, essay, shared) if personalise else shared.marked_html()
    # Made of our templates, which escape what readers write.
    return page, mark_safe(html), shared  # noqa: S308


def members_earlier_versions(
    request, *, essay, load, personalise=True
) -> tuple[str, SharedThreads]:
    """The essay page's threads on retired paragraphs (`load()`: as a visitor sees them,
    grouped by paragraph) for this signed-in reader (with `personalise` False: as shared),
    from the shared rendering, and that rendering."""

    def render() -> SharedThreads:
        groups = load()
        html = _render_shared(request, essay, "discussion/_earlier_versions.html", orphaned=groups)
        threads = [node for _paragraph, nodes in groups for node in nodes]
        return SharedThreads(
            version=essay.discussion_version,
            number=1,
            has_next=False,
            html=html if groups else "",
            authors=_authors(threads),
        )

    shared = _shared(essay, ("earlier",), render)
    html = _personalised(request, essay, shared) if personalise else shared.marked_html()
    return mark_safe(html), shared  # noqa: S308


def _shared(essay, variant, render) -> SharedThreads:
    """The rendering kept under `variant` if made at the essay's version, else made now
    (kept unless it is an empty page past the first: those are not worth keeping)."""
    key = page_key(essay.slug, "members", *variant)
    shared = cache.get(key)
    if not isinstance(shared, SharedThreads) or shared.version != essay.discussion_version:
        shared = render()
        if not shared.is_empty or shared.number == 1:
            cache.set(key, shared, PAGE_SECONDS)
    return shared


def _authors(threads) -> dict[int, int | None]:
    return {node.comment.pk: node.comment.author_id for node in _nodes(threads)}


def _nodes(nodes):
    for node in nodes:
        yield node
        yield from _nodes(node.replies)


def generic_member_context() -> dict:
    """What a shared rendering is made with in place of its reader's own: a generic member
    who moderates nothing, has no notification and no message, and whose places of their
    own are marked for each reader's to replace them."""
    return {
        "user": GENERIC_MEMBER,
        "perms": PermWrapper(GENERIC_MEMBER),
        "moderator": False,
        "unread_notifications": 0,
        "messages": (),
        "discussion_hooks": partials(),
        "csrf_token": CSRF_PLACEHOLDER,
        "personal_regions": True,
    }


def _render_shared(request, essay, template, **context) -> str:
    return render_to_string(
        template,
        {**context, "essay": essay, "request": request, **generic_member_context()},
    )


def personal_comment_actions(request, essay, authors: dict[int, int | None]) -> dict[int, str]:
    """The actions under the comments of a shared page (`authors`: their authors' ids) that
    differ for this reader, rendered for them: under their own comments, and those in
    threads they follow or mute (one query; none when there are none)."""
    viewer = request.user
    viewer_id = viewer.pk  # once: request.user is a lazy object, costly to ask each time
    differing = {pk for pk, author_id in authors.items() if author_id == viewer_id}
    differing |= personal_comment_ids(request, essay) & authors.keys()
    if not differing:
        return {}
    template = get_template("discussion/_comment_personal.html")
    comments = Comment.objects.filter(pk__in=differing).select_related("author", "essay")
    return {
        comment.pk: template.render(
            {
                "comment": comment,
                "essay": comment.essay,
                "user": viewer,
                "moderator": False,
                "request": request,
                "discussion_hooks": partials(),
                "csrf_token": CSRF_PLACEHOLDER,
            }
        )
        for comment in comments
    }


def _personalised(request, essay, shared: SharedThreads) -> str:
    own_actions = personal_comment_actions(request, essay, shared.authors)
    pieces = shared.pieces
    html = "".join(
        [pieces[0]]
        + [
            own_actions.get(int(pieces[i]), pieces[i + 1]) + pieces[i + 2]
            for i in range(1, len(pieces), 3)
        ]
    )
    return html.replace(CSRF_FIELD, CSRF_FIELD.replace(CSRF_PLACEHOLDER, get_token(request)))
