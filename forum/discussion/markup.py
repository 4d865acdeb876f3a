"""Comment markup: the one place where a reader's Markdown becomes HTML we publish.

Rendering and sanitizing happen once, when a comment is written; the read path prints the
stored result. bleach is frozen upstream, so everything that touches it lives in
`sanitize_html` and the allowlist beside it: swapping sanitizers means changing this file.
"""

import re
from functools import lru_cache, partial
from html.parser import HTMLParser

import bleach
from bleach.linkifier import URL_RE, LinkifyFilter
from markdown_it import MarkdownIt

from forum.invisible import strip_invisible

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "a", "blockquote", "ul", "ol", "li", "code", "pre"}
)
# No link titles: a tooltip is text no word list or reader sees at a glance.
ALLOWED_ATTRIBUTES = {"a": {"href", "rel"}, "ol": {"start"}}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Browsers drop ASCII tabs and newlines anywhere in a URL and trim controls and spaces.
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")

# bleach's list of top-level domains ends in 2012 (no .dev, .app or .example), so a URL
# written out with http(s):// becomes a link whatever its domain; a bare domain still needs
# a listed one, so that "notes.txt" stays text.
_URL_WITH_SCHEME = r"\bhttps?://(?:[\w-]+\.)+[\w-]+(?::[0-9]+)?(?:[/?\#][^\s{}|\\^`<>\"]*)?"
_LINKIFY_URL = re.compile(
    f"(?:{_URL_WITH_SCHEME})|(?:{URL_RE.pattern})", re.IGNORECASE | re.VERBOSE | re.UNICODE
)

_comment_markdown = (
    MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    # The subset readers may use: no images, headings, rules or raw HTML.
    .disable(["image", "heading", "lheading", "hr", "html_block", "html_inline"])
)


def is_allowed_url(url: str) -> bool:
    """Relative URLs and http(s)/mailto ones only.

    bleach reads `javascript:123` as a host and port and lets it through. We are stricter
    than the URL standard on purpose: any colon before the first '/' must end one of our
    schemes, so no text that merely looks like a scheme (`&#74;avascript:`) gets through.
    """
    compact = _IGNORED_IN_URLS.sub("", url)
    head = compact.split("/", 1)[0]
    if ":" not in head:
        return True
    match = _SCHEME.match(compact)
    return bool(match) and match.group(1).lower() in ALLOWED_PROTOCOLS


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if name not in ALLOWED_ATTRIBUTES.get(tag, ()):
        return False
    if name == "href":
        return is_allowed_url(value)
    if name == "start":
        return value.isdigit() and len(value) <= 6
    return True


def _drop_disallowed_link(attrs, new=False):
    # The linkifier runs after the sanitizer and knows more schemes than we allow
    # (telnet:, data:, feed: ...): returning None keeps the text and drops the link.
    href = attrs.get((None, "href"))
    if href is not None and not is_allowed_url(href):
        return None
    return attrs


def _set_link_rel(attrs, new=False):
    attrs[(None, "rel")] = LINK_REL
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allow_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[
        partial(
            LinkifyFilter,
            url_re=_LINKIFY_URL,
            callbacks=[_drop_disallowed_link, _set_link_rel],
            skip_tags={"pre", "code"},
        )
    ],
)


def sanitize_html(html: str) -> str:
    """Reduce HTML to the comment allowlist; idempotent: sanitizing twice changes nothing."""
    return _cleaner.clean(html)


def normalize_body(body: str) -> str:
    """The form in which a comment's source is stored: LF newlines, no NUL characters.

    NUL becomes U+FFFD as an HTML parser would read it; PostgreSQL refuses NUL in text.
    """
    return body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


def has_visible_text(html: str) -> bool:
    """Whether sanitized HTML shows any text (a lone link definition renders to nothing, a
    zero-width space or a Hangul filler shows nothing)."""
    return bool(strip_invisible(visible_text(html)).strip())


class _Reading(HTMLParser):
    """What a reader meets in sanitized HTML: its text, and where its links go."""

    # Elements that start a new line on the page, so words either side of them stay apart.
    BREAKS = frozenset({"p", "br", "blockquote", "ul", "ol", "li", "pre"})

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text = []
        self.links = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag in self.BREAKS:
            self.text.append("\n")
        href = dict(attrs).get("href") if tag == "a" else None
        if href is not None:
            self.links.append(href)

    def handle_endtag(self, tag):
        if tag in self.BREAKS:
            self.text.append("\n")

    def handle_data(self, data):
        self.text.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees in sanitized HTML: tags stripped, entities unescaped."""
    return "".join(_Reading(html).text)


def link_targets(html: str) -> list[str]:
    """The href of every link in sanitized HTML, in order: one per link a reader can follow."""
    return _Reading(html).links


# A post is judged on the HTML readers will see (blocked words, links, watched words) and
# stored as it: the same body is rendered three times in one request, and once is enough.
@lru_cache(maxsize=32)
def render_comment(body: str) -> str:
    """Markdown source of a comment -> the sanitized HTML we store and publish."""
    return sanitize_html(_comment_markdown.render(body))


# The community guidelines --------------------------------------------------------------------

# The owner's text may have sections: headings, each with an anchor. A heading may end with
# "{#anchor}" to choose its anchor (kept however its wording changes); otherwise the anchor
# comes from its words.
GUIDELINES_TAGS = ALLOWED_TAGS | {"h2", "h3", "h4", "hr"}
_EXPLICIT_ANCHOR = re.compile(r"\s*\{#([a-z0-9][a-z0-9-]{0,49})\}\s*$")
_ANCHOR = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
_guidelines_markdown = MarkdownIt("commonmark", {"html": False, "breaks": False}).disable(
    ["image", "html_block", "html_inline"]
)


def _allow_guidelines_attribute(tag: str, name: str, value: str) -> bool:
    if tag in ("h2", "h3", "h4") and name == "id":
        return bool(_ANCHOR.fullmatch(value))
    return _allow_attribute(tag, name, value)


_guidelines_cleaner = bleach.Cleaner(
    tags=GUIDELINES_TAGS,
    attributes=_allow_guidelines_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)


def render_guidelines(body: str) -> tuple[str, list[tuple[str, str]]]:
    """The owner's Markdown -> (sanitized HTML, its sections as [(anchor, title)]).

    Headings become sections with stable anchors: "{#anchor}" at a heading's end if given,
    else its words (“Be civil” -> "be-civil"), made unique in the page. A top-level "#"
    heading is shown as a section too (the page has its own title)."""
    from django.utils.text import slugify

    tokens = _guidelines_markdown.parse(normalize_body(body))
    sections, used = [], set()
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        explicit = _EXPLICIT_ANCHOR.search(inline.content)
        if explicit:
            inline.content = inline.content[: explicit.start()]
            last = inline.children[-1] if inline.children else None
            if last is not None and last.type == "text":
                last.content = _EXPLICIT_ANCHOR.sub("", last.content)
        title = " ".join(inline.content.split())
        anchor = explicit.group(1) if explicit else slugify(title)[:60].strip("-") or "section"
        unique, number = anchor, 2
        while unique in used:
            unique, number = f"{anchor}-{number}", number + 1
        used.add(unique)
        level = max(int(token.tag[1]), 2)
        token.tag = tokens[index + 2].tag = f"h{min(level, 4)}"
        token.attrSet("id", unique)
        sections.append((unique, title))
    html = _guidelines_markdown.renderer.render(tokens, _guidelines_markdown.options, {})
    return _guidelines_cleaner.clean(html), sections
