"""Every payload of the XSS corpus (tests/data/) goes through the real pipeline, inert."""

import json
from pathlib import Path

import html5lib
import pytest

from forum.discussion.markup import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    is_allowed_url,
    link_targets,
    normalize_body,
    render_comment,
    sanitize_html,
    visible_text,
)
from forum.discussion.models import Comment
from tests.conftest import TEST_DATA

CORPUS = TEST_DATA / "xss_payloads.jsonl"
PAYLOADS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
NS = "{http://www.w3.org/1999/xhtml}"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}


def assert_inert(html: str):
    """Parse as a browser would and check every element and attribute against the allowlist."""
    fragment = html5lib.parseFragment(html, namespaceHTMLElements=False)
    for element in fragment.iter():
        if element is fragment or not isinstance(element.tag, str):
            continue  # comments are stripped; html5lib reports them with a function tag
        assert element.tag in ALLOWED_TAGS, element.tag
        for name, value in element.attrib.items():
            assert name in ALLOWED_ATTRIBUTES.get(element.tag, ()), (element.tag, name)
            assert not name.startswith(("on", "hx-", "data-hx-")) and name != "style"
            if name in URL_ATTRIBUTES:
                assert is_allowed_url(value), value
                scheme = value.split(":", 1)[0].lower() if ":" in value.split("/")[0] else ""
                assert scheme in {"", "http", "https", "mailto"}, value


def test_the_corpus_is_there():
    assert len(PAYLOADS) >= 150


@pytest.mark.parametrize("item", PAYLOADS, ids=[str(p["id"]) for p in PAYLOADS])
def test_payload_comes_out_of_the_renderer_inert_and_sanitizing_is_idempotent(item):
    html = render_comment(item["payload"])
    assert_inert(html)
    assert sanitize_html(html) == html
    # The sanitizer holds on its own too, for HTML that did not come through Markdown.
    direct = sanitize_html(item["payload"])
    assert_inert(direct)
    assert sanitize_html(direct) == direct


@pytest.mark.django_db
def test_payloads_posted_as_comments_are_inert_on_the_reading_page(
    reader_client, make_essay, settings
):
    settings.COMMENT_RATE_LIMITS = [(len(PAYLOADS) + 1, 60)]
    essay = make_essay("Text.")
    for item in PAYLOADS:
        response = reader_client.post(f"/essays/{essay.slug}/comment/", {"body": item["payload"]})
        assert response.status_code in (302, 400), item["id"]  # 400: blank once normalized
    posted = Comment.objects.filter(essay=essay).count()
    assert posted >= len(PAYLOADS) - 5
    bodies, number = [], 1
    while True:  # every page of the whole-essay discussion
        url = f"{essay.get_absolute_url()}?page={number}"
        content = reader_client.get(url).content.decode()
        document = html5lib.parse(content, namespaceHTMLElements=False)
        bodies += [el for el in document.iter() if "comment-body" in (el.get("class") or "")]
        if "More threads" not in content:
            break
        number += 1
    assert len(bodies) == posted
    for body in bodies:
        for element in body.iter():
            if element is body or not isinstance(element.tag, str):
                continue
            assert element.tag in ALLOWED_TAGS
            for name, value in element.attrib.items():
                assert name in ALLOWED_ATTRIBUTES.get(element.tag, ())
                if name == "href":
                    assert is_allowed_url(value)
    scripts = [el.get("src", "") for el in document.iter("script")]
    assert scripts and all(src.startswith("/static/") for src in scripts)  # only our own


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://example.org/a?b#c", True),
        ("http://example.org", True),
        ("mailto:someone@example.org", True),
        ("/essays/x/#p-abc", True),
        ("#c-1", True),
        ("relative/path:with-colon", True),
        ("javascript:alert(1)", False),
        ("javascript:1", False),
        ("JaVaScRiPt:1", False),
        ("java\tscript:alert(1)", False),
        (" \x01javascript:alert(1)", False),
        ("vbscript:msgbox(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("ftp://example.org", False),
        ("&#74;avascript:alert(1)", False),
        ("#fragment:with-colon", False),
    ],
)
def test_url_allowlist(url, allowed):
    assert is_allowed_url(url) is allowed


def test_scheme_followed_by_digits_is_rejected_although_bleach_reads_it_as_a_port():
    html = sanitize_html('<a href="javascript:123">x</a><a href="https://ok.example">y</a>')
    assert "javascript" not in html
    assert 'href="https://ok.example"' in html


def test_links_are_marked_nofollow_ugc_noopener():
    html = render_comment("[a link](https://example.org) and https://example.com")
    assert html.count('rel="nofollow ugc noopener"') == 2


def test_markdown_subset_keeps_what_readers_may_use_and_drops_the_rest():
    html = render_comment(
        "*em* **strong** `code`\n\n> quote\n\n- item\n\n1. one\n\n```\nblock\n```\n\n"
        "# Not a heading\n\n![image](https://example.org/i.png)\n\n<b>raw</b>"
    )
    for tag in ["<em>", "<strong>", "<code>", "<blockquote>", "<ul>", "<ol>", "<pre>"]:
        assert tag in html
    assert "<h1" not in html and "<img" not in html and "<b>" not in html
    assert "# Not a heading" in html and "&lt;b&gt;raw&lt;/b&gt;" in html


def test_the_sanitizer_lives_in_one_module():
    """bleach is frozen upstream: only the markup module may import it."""
    project = Path(__file__).resolve().parents[2]
    importers = [
        path.relative_to(project).as_posix()
        for folder in ("forum", "essays")
        for path in (project / folder).rglob("*.py")
        if "import bleach" in path.read_text() or "from bleach" in path.read_text()
    ]
    assert importers == ["forum/discussion/markup.py"]


def test_stored_bodies_have_no_nul_and_unix_newlines():
    assert normalize_body("a\x00b\r\nc\rd") == "a\ufffdb\nc\nd"


@pytest.mark.parametrize(
    "text",
    [
        "telnet://host.example.com",
        "webcal://host.example.com/calendar.ics",
        "feed:host.example.com/rss",
        "xmpp:someone.example.com",
        "ssh://host.example.com",
        "data://host.example.com/x",
        "ftp://host.example.com/file",
    ],
)
def test_linkified_text_with_a_scheme_outside_the_allowlist_stays_text(text):
    html = render_comment(f"See {text} now")
    assert html == f"<p>See {text} now</p>\n"
    assert sanitize_html(html) == html


def test_bare_domains_and_protocol_relative_links_become_links_on_the_allowlist():
    html = render_comment("a.example.com, [b](//b.example/p) and //c.example.org/q")
    assert 'href="http://a.example.com"' in html
    assert 'href="//b.example/p"' in html
    assert '//<a href="http://c.example.org/q"' in html
    assert html.count('rel="nofollow ugc noopener"') == 3
    assert_inert(html)


def test_a_url_written_with_its_scheme_is_a_link_whatever_its_top_level_domain():
    html = render_comment("See https://web.dev/a?b=1#c, (http://e0.example) and notes.txt")
    assert link_targets(html) == ["https://web.dev/a?b=1#c", "http://e0.example"]
    assert "notes.txt</p>" in html
    assert sanitize_html(html) == html


def test_link_targets_are_the_links_a_reader_can_follow():
    html = render_comment(
        "a.example.com [b](//b.example) <https://c.example> `d.example.com` ftp://e.example.com"
    )
    assert link_targets(html) == ["http://a.example.com", "//b.example", "https://c.example"]
    assert link_targets(sanitize_html('<a href="javascript:1">x</a> <a>y</a>')) == []


def test_visible_text_is_what_a_reader_reads():
    html = render_comment(
        '*via*gra &amp; [a link](https://x.example "a title") 1 < 2\n\n- one\n- two'
    )
    text = visible_text(html)
    assert "viagra & a link 1 < 2" in text
    assert "title" not in text and "https" not in text
    assert text.split() == ["viagra", "&", "a", "link", "1", "<", "2", "one", "two"]
