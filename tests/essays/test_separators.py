"""A horizontal rule ("* * *") separates blocks: it is shown as an <hr>, and is not a block
to discuss (no anchor, no margin, no count, never a place for comments)."""

import pytest

from essays.models import Paragraph
from essays.rendering import render_blocks
from essays.services import essay_import
from forum.discussion import services
from forum.discussion.models import Comment
from forum.refusals import Refused
from tests.conftest import essay_source

BEFORE = "The paragraph before the rule."
AFTER = "The paragraph after the rule."


def test_a_rule_is_a_separator_with_no_text():
    blocks = render_blocks(
        f"{BEFORE}\n\n* * *\n\n{AFTER}\n\n> Quoted.\n>\n> ---\n>\n> Quoted on.\n"
    )
    assert [(b.kind, b.html, b.text) for b in blocks if b.kind == "separator"] == [
        ("separator", "<hr />\n", ""),
        ("separator", "<hr />\n", ""),
    ]


@pytest.mark.parametrize("rule", ["* * *", "***", "---", "_ _ _"])
def test_a_rule_changes_nothing_else_in_the_text(rule):
    """Fidelity: the other blocks are exactly as without the rule."""
    with_rule = render_blocks(f"{BEFORE}\n\n{rule}\n\n{AFTER}\n")
    without = render_blocks(f"{BEFORE}\n\n{AFTER}\n")
    assert [b.kind for b in with_rule] == ["paragraph", "separator", "paragraph"]
    assert [b for b in with_rule if b.kind != "separator"] == without


def test_the_seed_essay_has_no_separator(seeded_essay):
    assert not seeded_essay.paragraphs.filter(kind=Paragraph.Kind.SEPARATOR).exists()


@pytest.fixture
def essay(make_essay):
    return make_essay(BEFORE, "* * *", AFTER)


def test_the_reading_page_shows_a_rule_between_blocks_with_nothing_to_discuss(client, essay):
    separator = essay.paragraphs.get(kind=Paragraph.Kind.SEPARATOR)
    page = client.get(essay.get_absolute_url()).content.decode()
    body = page[page.index('<div class="essay-body"') :]
    assert body.index(BEFORE) < body.index('<hr class="separator">') < body.index(AFTER)
    assert separator.key not in page  # no anchor, no margin, no panel
    assert page.count('class="block ') == 2
    assert not separator.is_commentable
    assert essay.paragraphs.commentable().count() == 2


def test_a_separator_has_no_discussion_page_and_takes_no_comment(client, essay, user):
    separator = essay.paragraphs.get(kind=Paragraph.Kind.SEPARATOR)
    url = f"/essays/{essay.slug}/p/{separator.key}/"
    assert client.get(url).status_code == 404
    client.force_login(user)
    assert client.post(f"{url}comment/", {"body": "On a rule?"}).status_code == 404
    with pytest.raises(Refused, match="cannot be discussed"):
        services.comment_post(author=user, essay=essay, body="On a rule?", paragraph=separator)
    assert not Comment.objects.exists()


def test_an_earlier_revision_shows_its_rule_too(client, essay):
    essay_import(source=essay_source(BEFORE, "* * *", AFTER, "One more."))
    page = client.get(f"/essays/{essay.slug}/r/1/").content.decode()
    assert page.count('<hr class="separator">') == 1
    changes = client.get(f"/essays/{essay.slug}/r/2/changes/").content.decode()
    assert "1 added, 0 changed, 0 moved, 0 removed" in changes


def test_importing_the_same_source_again_keeps_every_key(essay):
    keys = list(essay.paragraphs.order_by("position").values_list("kind", "key"))
    result = essay_import(source=essay_source(BEFORE, "* * *", AFTER))
    assert not result.revised
    assert list(essay.paragraphs.order_by("position").values_list("kind", "key")) == keys


def test_a_rule_stored_as_an_empty_paragraph_before_separators_is_retired_honestly(essay, user):
    """An essay imported before separators existed has its rule as an empty paragraph
    (kind "paragraph", no text). It stays so, with any comments on it, until the essay is
    next revised: then the rule becomes a separator, the empty paragraph is retired and its
    comments are shown "on earlier versions"; every other paragraph keeps its key."""
    separator = essay.paragraphs.get(kind=Paragraph.Kind.SEPARATOR)
    Paragraph.objects.filter(pk=separator.pk).update(kind=Paragraph.Kind.PARAGRAPH)
    old_rule = Paragraph.objects.get(pk=separator.pk)
    on_rule = services.comment_post(
        author=user, essay=essay, body="An odd place.", paragraph=old_rule
    )
    after = essay.paragraphs.get(text=AFTER)
    on_after = services.comment_post(author=user, essay=essay, body="On after.", paragraph=after)
    result = essay_import(source=essay_source(BEFORE, "* * *", AFTER, "A new ending."))
    assert result.revised
    old_rule.refresh_from_db()
    on_rule.refresh_from_db()
    on_after.refresh_from_db()
    assert old_rule.retired_in == 2 and on_rule.anchor_status == "orphaned"
    assert on_after.paragraph.key == after.key and on_after.anchor_status == "placed"
    assert essay.paragraphs.live().filter(kind=Paragraph.Kind.SEPARATOR).count() == 1
