"""Templates read on a reader's screen: no line longer than 120 characters.

Django's tags cannot span lines, so a long line is broken between tags, between a start tag's
attributes, or by moving template logic; never by breaking the text a reader gets.
"""

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT / "templates"
LONGEST = 120


def long_lines(text: str, limit: int = LONGEST):
    """(line number, length) of each line of `text` longer than `limit` characters."""
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > limit:
            yield number, len(line)


def test_no_template_line_is_longer_than_120_characters():
    too_long = [
        f"{path.relative_to(PROJECT)}:{number} has {length} characters"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.is_file()
        for number, length in long_lines(path.read_text(encoding="utf-8"))
    ]
    assert too_long == [], "\n".join(too_long)


def test_the_line_check_sees_a_long_line():
    """The check above can fail, and counts characters, not bytes."""
    text = "short\n" + "x" * 121 + "\n" + "“" * 120 + "\n"
    assert list(long_lines(text)) == [(2, 121)]


def test_no_comment_tag_spans_lines():
    """Django's {# #} ends on its line: one left open is printed on the page."""
    for template in TEMPLATES.rglob("*.html"):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            assert "{#" not in line or "#}" in line, f"{template}:{number}"


def test_pages_under_debug_load_htmx_without_django_htmxs_debug_script(client, settings, db):
    """Under DEBUG django-htmx's script writes every 4xx answer over the page, and our
    refusals are 4xx: development must load htmx as production does."""
    settings.DEBUG = True
    html = client.get("/").content.decode()
    assert "django_htmx/htmx-2.min.js" in html
    assert "django-htmx.js" not in html
