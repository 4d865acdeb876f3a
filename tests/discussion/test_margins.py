"""The reading page's margin: counts, heat marks and discussed passages, and quoting whole words."""

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client

from forum.discussion.models import Comment
from forum.discussion.quotes import whole_words
from forum.discussion.threads import HEAT_FLOOR, HEAT_LEVELS, heat_level, margins_by_paragraph
from tests.conftest import add_comment, make_user, post

FAMINES = (
    "This policy created the conditions for devastating famines in the Ukraine and southern "
    "Russia in 1932, Trotsky’s critics said."
)


@pytest.fixture(autouse=True)
def generous_limits(settings):
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]


@pytest.fixture
def essay(make_essay):
    return make_essay("The opening paragraph.", FAMINES, "A quiet paragraph.")


def paragraph(essay, position):
    return essay.paragraphs.get(position=position)


def block_html(html, key):
    match = re.search(
        rf'<div class="block[^"]*"\s+id="p-{key}">.*?<div class="thread-panel"', html, re.S
    )
    assert match, key
    return match.group(0)


@pytest.mark.parametrize(
    ("selected", "quoted"),
    [
        ("famines in the Uk", "famines in the Ukraine"),
        ("amines", "famines"),
        ("g famines", "devastating famines"),
        ("Trotsky", "Trotsky’s"),
        ("famines in the Ukraine", "famines in the Ukraine"),
        ("Russia in 1932,", "Russia in 1932,"),
    ],
)
def test_a_passage_is_widened_to_whole_words(selected, quoted):
    start = FAMINES.index(selected)
    start, end = whole_words(FAMINES, start, start + len(selected))
    assert FAMINES[start:end] == quoted


def test_a_quote_cut_inside_a_word_is_saved_as_whole_words(essay, user):
    comment = post(user, essay, paragraph=paragraph(essay, 1), quote="famines in the Uk")
    assert comment.quote == "famines in the Ukraine"
    assert comment.quote_prefix.endswith("devastating ")
    assert comment.quote_suffix.startswith(" and southern")


def test_heat_levels_grow_with_the_share_of_the_busiest_paragraph():
    assert heat_level(0, 40) == 0
    assert heat_level(1, 40) == 1
    assert heat_level(40, 40) == HEAT_LEVELS
    assert [heat_level(n, 8) for n in range(1, 9)] == [1, 1, 2, 2, 3, 3, 4, 4]
    # Where nothing is busy, nothing is hot: one comment is not "dense".
    assert heat_level(1, 1) == 1
    assert heat_level(HEAT_FLOOR, 1) == HEAT_LEVELS


def test_margins_count_published_comments_and_list_the_passages_still_there(essay, user):
    famines = paragraph(essay, 1)
    post(user, essay, paragraph=famines, quote="famines in the Ukraine")
    post(user, essay, paragraph=famines, quote="famines in the Ukraine", body="Again.")
    post(user, essay, paragraph=famines, body="No passage.")
    add_comment(essay, paragraph=famines, quote="southern Russia", status=Comment.Status.PENDING)
    add_comment(essay, paragraph=famines, quote="Trotsky’s critics", quote_lost=True)
    margins = margins_by_paragraph(essay)
    assert margins[famines.pk].count == 4  # the pending comment is not counted
    # Each passage once (two comments quote the same words); not the pending one's, nor one
    # no longer in the paragraph.
    [(quote, prefix)] = margins[famines.pk].passages
    assert quote == "famines in the Ukraine"
    assert prefix and FAMINES[: FAMINES.index(quote)].endswith(prefix)
    assert paragraph(essay, 2).pk not in margins


def test_a_passage_a_revision_edited_is_highlighted_as_it_reads_now(essay):
    famines = paragraph(essay, 1)
    add_comment(
        essay,
        paragraph=famines,
        quote="famines in the Ukrane",  # as quoted before the revision fixed the typo
        quote_now="famines in the Ukraine",
        quote_prefix="devastating ",
    )
    [(passage, _prefix)] = margins_by_paragraph(essay)[famines.pk].passages
    assert passage == "famines in the Ukraine"


def test_the_reading_page_carries_passages_and_heat_the_same_for_everyone(essay, user):
    famines, quiet = paragraph(essay, 1), paragraph(essay, 2)
    for n in range(3):
        post(user, essay, paragraph=famines, quote="famines in the Ukraine", body=f"On it {n}.")
    post(user, essay, paragraph=quiet, body="Once.")
    add_comment(essay, paragraph=quiet, quote="quiet paragraph", status=Comment.Status.REMOVED)
    cache.clear()
    anonymous = Client().get(essay.get_absolute_url()).content.decode()
    signed_in = Client()
    signed_in.force_login(make_user("other@example.org", "Oth Er"))
    assert signed_in.get(essay.get_absolute_url()).content.decode().count("data-passages") == 1

    busy = block_html(anonymous, famines.key)
    assert "block--heat-2" in busy  # 3 of a floor of 8
    passages = re.search(r'data-passages="([^"]*)"', busy).group(1)
    decoded = json.loads(passages.replace("&quot;", '"').replace("&#x27;", "'"))
    assert [p["quote"] for p in decoded] == ["famines in the Ukraine"]
    calm = block_html(anonymous, quiet.key)
    assert "block--heat-1" in calm
    assert "data-passages" not in calm  # a removed comment's passage is not shown
    untouched = block_html(anonymous, paragraph(essay, 0).key)
    assert "block--heat" not in untouched and "data-passages" not in untouched


def test_margin_controls_say_they_are_collapsed_before_any_script_runs(essay, client):
    html = client.get(essay.get_absolute_url()).content.decode()
    controls = re.findall(r'<a class="margin-count[^>]*>', html, re.S)
    assert len(controls) == 3
    assert all('aria-expanded="false"' in control for control in controls)


def test_a_skip_link_leads_to_the_discussion_of_the_whole_essay(essay, client):
    html = client.get(essay.get_absolute_url()).content.decode()
    skip = html.index('href="#discussion"')
    assert skip < html.index('class="site-header"')
    assert 'id="discussion"' in html


def test_the_paragraph_page_lets_its_paragraph_be_quoted(essay, client):
    html = client.get(paragraph(essay, 1).get_absolute_url()).content.decode()
    assert 'class="paragraph-context" data-quote-context="32"' in html
