"""The essay page for signed-in readers, rendered once and made theirs per request.

Most signed-in readers see what a visitor sees, with a few places their own: the site's
navigation (their name, their unread notifications), the controls in the essay's header
(following it), and the actions under the comments that are theirs or whose threads they
follow. So the page is rendered once for a generic member (forum/discussion/hooks.py), those
places marked, and kept like a visitor's page (pages.py) under the essay's
discussion_version; each reader gets it with their places rendered for them from the facts
kept about them (readers.py). A page served this way asks the database nothing, unless the
reader has comments of their own on it, or follows some of its threads.

Readers whose page differs beyond those places get the page made for them alone (the view
renders it): moderators and editors (controls under every thread), a reader who may not post
(a suspension, an unconfirmed address: the form says so), one with a comment awaiting review
on the essay (shown to them alone), a draft kept in their session, or a message waiting.
"""

import re
import secrets
from collections import OrderedDict
from dataclasses import InitVar, dataclass, field

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from essays.models import Essay
from essays.states import essay_state, state_key
from forum.cache import account_key, answers_known
from forum.csrf import csrf_token

from .forms import DRAFTS_SESSION_KEY
from .hooks import partials, variant_of
from .pages import (
    CSRF_FIELD_BYTES,
    CSRF_PLACEHOLDER,
    PAGE_SECONDS,
    page_key,
    personal_comment_actions,
    squeezed,
)
from .readers import UNREAD_NOTIFICATIONS, ReaderState, reader_key, reader_state

# Where each reader's CSRF token field goes, in a kept page's pieces (None: it must be the
# same after the page has been through the cache's pickling).
CSRF_TOKEN = None
# A place of the page made for each reader: <!--personal:NAME-->generic<!--/personal-->,
# NAME a comment's id (its actions) or a place's name.
PERSONAL_PLACE = re.compile(r"<!--personal:([\w-]+)-->(.*?)<!--/personal-->", re.S)
# Where each place's content is: templates rendered for the reader with the page's context.
NAV_TEMPLATE = "includes/_account_nav.html"
# Where messages wait in the session when they do not fit in their cookie.
MESSAGES_SESSION_KEY = SessionStorage.session_key


@dataclass
class MembersPage:
    """The page as rendered for a generic member, cut at its personal places."""

    version: int
    essay_id: int
    essay_slug: str
    html: InitVar[str]
    authors: dict[int, int | None]  # comment id -> author id, for every comment on it
    # The page in the order it is sent: bytes as they are sent (encoding some hundred
    # kilobytes for each reader, or searching them for the token's place, would cost more
    # than making the page theirs), CSRF_TOKEN where each reader's token field goes, and
    # (place, generic content in the same form) where a place may be made theirs.
    pieces: list[bytes | None | tuple[str, list]] = field(init=False)
    # The essay header as each variant of it was rendered (_essay_header).
    essay_headers: dict[tuple, str] = field(init=False, default_factory=dict)

    def __post_init__(self, html: str):
        parts = PERSONAL_PLACE.split(squeezed(html))
        self.pieces = []
        for index in range(0, len(parts), 3):
            self.pieces += _sendable(parts[index])
            if index + 1 < len(parts):
                self.pieces.append((parts[index + 1], _sendable(parts[index + 2])))


def _sendable(html: str) -> list[bytes | None]:
    """`html` encoded, cut where a CSRF token field goes (CSRF_TOKEN there)."""
    text = html.encode().split(CSRF_FIELD_BYTES)
    pieces = [text[0]]
    for after_token in text[1:]:
        pieces += [CSRF_TOKEN, after_token]
    return pieces


@dataclass(frozen=True)
class EssayRef:
    """What the personal places need of the essay: its id and address."""

    pk: int
    slug: str


def may_serve(request) -> bool:
    """Whether a request may be answered with a shared page: a plain GET with a session (the
    caller checks its query; members_page whether it is a signed-in reader's), no message
    waiting, no htmx."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME in request.COOKIES
        and "messages" not in request.COOKIES
        and "HX-Request" not in request.headers
    )


def members_page(request, *, slug: str, variant: tuple[str, ...], render) -> HttpResponse | None:
    """The shared page made this reader's, or None when theirs must be made for them alone.

    `render(essay)` renders the page for a generic member: its HTML, comment id -> author
    id for every comment on it, and whether to keep it (a page past the end of the
    discussion is not kept: asking for ten thousand of them must not fill the cache)."""
    # Who is signed in, as the session says, so that their account, their facts and the page
    # come from the cache in one round trip: Django's authentication then checks the session
    # and the account as always, with the account already at hand.
    user_id = request.session.get(SESSION_KEY)
    if user_id is None:
        return None
    key = page_key(slug, "members", *variant)
    accounts = account_key(user_id)
    found = cache.get_many([state_key(slug), key, reader_key(user_id), accounts])
    with answers_known({accounts: found.get(accounts)}):
        user = request.user
        if not user.is_authenticated:
            return None
    state = reader_state(user, kept=found.get(reader_key(user.pk)))
    if not state.shares_pages or _keeps_something(request):
        return None
    version = essay_state(slug, known=found.get(state_key(slug)))
    if version is None:
        return None
    made_at, name = found.get(key, (None, None))
    page = _kept_page(key, name) if made_at == version else None
    if page is None:
        essay = Essay.objects.published().filter(slug=slug).first()
        if essay is None:
            return None
        html, authors, keep = render(essay)
        page = MembersPage(
            version=essay.discussion_version,
            essay_id=essay.pk,
            essay_slug=essay.slug,
            html=html,
            authors=authors,
        )
        if keep:
            _store_page(key, page)
    if page.essay_id in state.essays_awaiting_review:
        return None
    return HttpResponse(_personalised(request, state, page))


def _keeps_something(request) -> bool:
    """A message, or a draft, waiting in the session: the page shows it to this reader."""
    session = request.session
    return bool(session.get(DRAFTS_SESSION_KEY)) or bool(session.get(MESSAGES_SESSION_KEY))


# The pages this process served last, as for visitors' pages (pages.py).
KEPT_PAGES = 16
_kept: OrderedDict[str, MembersPage] = OrderedDict()


def _kept_page(key: str, name: str | None) -> MembersPage | None:
    if name is None:
        return None
    page = _kept.get(name)
    if page is None:
        page = cache.get(f"{key}:{name}")
        if not isinstance(page, MembersPage):
            return None
        _keep(name, page)
    return page


def _keep(name: str, page: MembersPage) -> None:
    _kept[name] = page
    _kept.move_to_end(name)
    while len(_kept) > KEPT_PAGES:
        _kept.popitem(last=False)


def _store_page(key: str, page: MembersPage) -> None:
    name = secrets.token_hex(8)
    cache.set_many({key: (page.version, name), f"{key}:{name}": page}, PAGE_SECONDS)
    _keep(name, page)


def _personalised(request, state: ReaderState, page: MembersPage) -> bytes:
    state.prime(request)
    essay = EssayRef(pk=page.essay_id, slug=page.essay_slug)
    places = {
        "nav": _nav(request.user, state.facts.get(UNREAD_NOTIFICATIONS, 0)),
        "essay_header": _essay_header(request, page, essay),
        **_comment_actions(request, page, essay),
    }
    token_field = CSRF_FIELD_BYTES.replace(CSRF_PLACEHOLDER.encode(), csrf_token(request).encode())
    sent = []
    for piece in page.pieces:
        if type(piece) is tuple:
            name, generic = piece
            mine = places.get(name)
            for part in generic if mine is None else _sendable(mine):
                sent.append(token_field if part is CSRF_TOKEN else part)
        else:
            sent.append(token_field if piece is CSRF_TOKEN else piece)
    return b"".join(sent)


# The site's navigation for a signed-in reader shows their name (or their address, if they
# gave no name) and their unread notifications. It is rendered once a process for each of
# its variants (a name or none, notifications or none) with stand-ins for those values, and
# each reader's values are put in their place, escaped as the template escapes them. The
# stand-ins are tags the template leaves as they are (marked safe): no escaped value holds a
# "<", so no reader's name can pass for one.
NAV_NAME = mark_safe("<nav-name/>")
NAV_EMAIL = mark_safe("<nav-email/>")
NAV_COUNT = mark_safe("<nav-count/>")
_nav_variants: dict[tuple[bool, bool], str] = {}


@dataclass(frozen=True)
class _NavReader:
    display_name: str
    email: str
    is_authenticated = True


def _nav(user, unread: int) -> str:
    variant = (bool(user.display_name), bool(unread))
    html = _nav_variants.get(variant)
    if html is None:
        stand_in = _NavReader(display_name=NAV_NAME if user.display_name else "", email=NAV_EMAIL)
        context = {
            "user": stand_in,
            "unread_notifications": NAV_COUNT if unread else 0,
            # Moderators never get a shared page (readers.py): no moderation link to show.
            "perms": {},
            "csrf_token": CSRF_PLACEHOLDER,
        }
        html = _nav_variants[variant] = get_template(NAV_TEMPLATE).render(context)
    return (
        html.replace(NAV_NAME, escape(user.display_name))
        .replace(NAV_EMAIL, escape(user.email))
        .replace(NAV_COUNT, str(unread))
    )


def _essay_header(request, page: MembersPage, essay: EssayRef) -> str:
    """The essay header's partials, rendered once a page for each variant the apps name
    (hooks.register_variant)."""
    variant = variant_of("essay_header", request, essay)
    html = page.essay_headers.get(variant)
    if html is None:
        context = {
            "essay": essay,
            "user": request.user,
            "request": request,
            "moderator": False,
            "csrf_token": CSRF_PLACEHOLDER,
        }
        html = page.essay_headers[variant] = "".join(
            get_template(name).render(context) for name in partials()["essay_header"]
        )
    return html


def _comment_actions(request, page: MembersPage, essay: EssayRef) -> dict[str, str]:
    """The actions under the comments that differ for this reader, by the place's name."""
    actions = personal_comment_actions(request, essay, page.authors)
    return {str(pk): html for pk, html in actions.items()}
