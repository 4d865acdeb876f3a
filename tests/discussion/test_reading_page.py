import re

import html5lib
import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from essays.services import essay_import
from forum.discussion.models import Comment
from tests.conftest import SEED_TEXT, add_comment, essay_source, make_user, post

NS = "{http://www.w3.org/1999/xhtml}"
ASCII_SPACE = re.compile(r"[ \t\r\n]+")  # not \s: the title's non-breaking space is content


def parse(response):
    return html5lib.parse(response.content.decode(), namespaceHTMLElements=True)


def has_class(element, name):
    return name in (element.get("class") or "").split()


def text_of(element, skip_class="footnote-backref"):
    parts = [element.text or ""]
    for child in element:
        if not has_class(child, skip_class):
            parts.append(text_of(child, skip_class))
        parts.append(child.tail or "")
    return "".join(parts)


def normalize(text):
    return ASCII_SPACE.sub(" ", text).strip()


def blocks(tree):
    return [el for el in tree.iter() if has_class(el, "block")]


def seed_lines():
    """The seed document's essay lines, without the responses and the notes' numbers."""
    lines = SEED_TEXT.read_text(encoding="utf-8").split("\n")
    end = next(i for i, line in enumerate(lines) if line.startswith("  1. As usual"))
    essay = [line for line in lines[:end] if line.strip()]
    return [re.sub(r"^\d+\.\s?", "", line) if re.match(r"^\d+\.", line) else line for line in essay]


@pytest.fixture
def essay_page(client, seeded_essay):
    response = client.get(seeded_essay.get_absolute_url())
    assert response.status_code == 200
    return response


def test_the_seed_essay_is_published_complete_and_in_order(essay_page):
    tree = parse(essay_page)
    title = tree.find(f".//{NS}h1")
    alternate = next(el for el in tree.iter() if has_class(el, "essay-alternate-title"))
    bodies = [el for el in tree.iter() if has_class(el, "block-body")]
    page = [text_of(title), text_of(alternate)] + [text_of(body) for body in bodies]
    expected = seed_lines()
    assert normalize(" ".join(page)) == normalize(" ".join(expected))
    # Character for character: curly quotes, dashes, ellipses, the title's no-break space.
    content = essay_page.content.decode()
    for fragment in [
        "Bolshevism\u00a01924-91",
        "‘for or against’",
        "war ‒ all",
        "– interpreting",
        "thing — reasonable",
        "“Well, that depends…”",
        "Societé",
        "über-Bolshevik",
    ]:
        assert fragment in content


def test_every_block_has_a_unique_anchor_and_a_permalink(essay_page):
    tree = parse(essay_page)
    found = blocks(tree)
    ids = [el.get("id") for el in found]
    assert len(found) == 53
    assert all(re.fullmatch(r"p-[a-z0-9]{8}", anchor) for anchor in ids)
    assert len(set(ids)) == len(ids)
    for el in found:
        permalinks = [a for a in el.iter(f"{NS}a") if has_class(a, "permalink")]
        assert [a.get("href") for a in permalinks] == [f"#{el.get('id')}"]


def test_footnote_references_and_notes_link_both_ways(essay_page):
    tree = parse(essay_page)
    anchors = {el.get("id"): el for el in tree.iter() if el.get("id")}
    notes = [el for el in tree.iter(f"{NS}li") if has_class(el, "block--footnote")]
    assert len(notes) == 15
    for number in range(1, 16):
        reference = anchors[f"fnref-{number}"]
        assert text_of(reference) == f"({number})"
        assert reference.get("href").endswith(f"#fn-{number}")
        note = anchors[f"fn-{number}"]
        back = [a for a in note.iter(f"{NS}a") if has_class(a, "footnote-backref")]
        assert back[0].get("href").endswith(f"#fnref-{number}")
    assert "(Living My Life, Vol 2, p. 822)" in essay_page.content.decode()


def test_the_two_responses_close_the_page_in_order_without_invented_dates(essay_page):
    tree = parse(essay_page)
    section = next(
        el for el in tree.iter(f"{NS}section") if el.get("aria-labelledby") == "discussion-heading"
    )
    assert "Discussion of the whole essay" in text_of(section)
    comments = [el for el in section.iter(f"{NS}li") if has_class(el, "comment")]
    assert len(comments) == 2
    authors = [
        text_of(next(el for el in c.iter() if has_class(el, "comment-author"))) for c in comments
    ]
    assert authors == ["Kristi", "An unnamed reader"]
    first, second = (normalize(text_of(c)) for c in comments)
    assert "As usual, the more i learn, the more i realize how little i know…" in first
    assert "makes having an optimistic outlook seem kinda futile…" in first
    assert "I agree with Kristi; I see no way we -as individuals- can stand" in second
    assert "spend, spend, spend…" in second
    assert not list(section.iter(f"{NS}time"))
    assert all(re.fullmatch(r"c-\d+", c.get("id")) for c in comments)


def test_margin_counts_show_published_comments_and_link_to_the_discussion(client, seeded_essay):
    paragraph = seeded_essay.paragraphs.get(position=4)
    add_comment(seeded_essay, paragraph=paragraph)
    add_comment(seeded_essay, paragraph=paragraph)
    add_comment(seeded_essay, paragraph=paragraph, status=Comment.Status.PENDING)
    tree = parse(client.get(seeded_essay.get_absolute_url()))
    block = next(el for el in blocks(tree) if el.get("id") == paragraph.anchor)
    count = next(a for a in block.iter(f"{NS}a") if has_class(a, "margin-count"))
    assert count.get("href") == f"/essays/{seeded_essay.slug}/p/{paragraph.key}/"
    visible, spoken = count.findall(f"{NS}span")
    assert (text_of(visible), text_of(spoken)) == ("2", "2 comments on this paragraph")
    other = next(el for el in blocks(tree) if el.get("id") != paragraph.anchor)
    assert "Discuss this" in text_of(other)


def create_comments(essay, how_many):
    paragraphs = list(essay.paragraphs.live().commentable())
    previous = None
    for index in range(how_many):
        if index % 5 == 4 and previous is not None:
            previous = add_comment(essay, paragraph=previous.paragraph, parent=previous)
        elif index % 3 == 0:
            previous = add_comment(essay, body=f"Whole essay {index}.")
        else:
            paragraph = paragraphs[index % len(paragraphs)]
            previous = add_comment(essay, paragraph=paragraph, body=f"On {index}.")


def count_queries(client, url, *, cold=True):
    if cold:
        cache.clear()  # the page and the essay's body are rendered afresh
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_reading_page_runs_the_same_small_number_of_queries_whatever_the_comments(
    reader_client, make_essay, user, other_user, django_assert_max_num_queries
):
    client = Client()  # anonymous: reader_client is the `client` fixture, signed in
    essay = make_essay("One.", "Two.", "> Three.", "[^1] Four.", "[^1]: Note.")
    url = essay.get_absolute_url()
    counts = [count_queries(client, url)]
    signed_in = [count_queries(reader_client, url)]
    create_comments(essay, 2)
    counts.append(count_queries(client, url))
    signed_in.append(count_queries(reader_client, url))
    Comment.objects.filter(author__isnull=True).update(author=user)
    create_comments(essay, 498)
    Comment.objects.filter(author__isnull=True).update(author=user)
    assert Comment.objects.count() == 500
    # Essay, paragraphs, margin counts, the whole-essay thread, the moderators' ids, the
    # threads "on earlier versions", and whether the essay is still at the version rendered.
    cache.clear()
    with django_assert_max_num_queries(7):
        client.get(url)
    counts.append(count_queries(client, url))
    signed_in.append(count_queries(reader_client, url))
    assert counts[0] == counts[1] == counts[2]
    assert signed_in[0] == signed_in[1]
    # With comments of their own on the page, one more: those comments' actions are theirs.
    assert signed_in[2] == signed_in[1] + 1
    # Served again: from the cache alone.
    client.get(url)
    assert count_queries(client, url, cold=False) == 0
    # A signed-in reader's page is the page signed-in readers share, with their own places
    # filled in from what the cache keeps of them (their session, their account, their
    # facts): the only question left is the one about their own comments on it.
    assert count_queries(reader_client, url, cold=False) == 1
    # A reader with none of their own there: none at all.
    other_client = Client()
    other_client.force_login(other_user)
    other_client.get(url)
    assert count_queries(other_client, url, cold=False) == 0


def test_paragraph_page_shows_neighbours_the_way_back_and_its_thread(client, make_essay):
    essay = make_essay("Before.", "Middle.", "After.")
    middle = essay.paragraphs.get(text="Middle.")
    comment = add_comment(essay, paragraph=middle, body="About the middle.")
    add_comment(essay, paragraph=middle, parent=comment, body="A reply.")
    add_comment(essay, body="On the whole essay.")
    response = client.get(middle.get_absolute_url())
    content = response.content.decode()
    assert response.status_code == 200
    assert content.index("Before.") < content.index("Middle.") < content.index("After.")
    assert f'href="{essay.get_absolute_url()}#{middle.anchor}"' in content
    assert "About the middle." in content and "A reply." in content
    assert "On the whole essay." not in content
    assert comment.get_absolute_url() == f"{middle.get_absolute_url()}#c-{comment.pk}"


def test_paragraph_page_query_count_is_constant(client, make_essay, django_assert_max_num_queries):
    essay = make_essay("Before.", "Middle.", "After.")
    middle = essay.paragraphs.get(text="Middle.")
    url = middle.get_absolute_url()
    before = count_queries(client, url)
    parent = None
    for index in range(60):
        parent = add_comment(essay, paragraph=middle, parent=parent if index % 2 else None)
    cache.clear()
    # Essay, paragraph, neighbours, moderators' ids, threads, and the essay's version.
    with django_assert_max_num_queries(6):
        client.get(url)
    assert count_queries(client, url) == before


def test_revisions_do_not_change_the_reading_pages_query_count(client, make_essay, user):
    essay = make_essay("One.", "Two.", "Three.")
    url = essay.get_absolute_url()
    for paragraph in essay.paragraphs.all():
        add_comment(essay, paragraph=paragraph, author=user)
    before = count_queries(client, url)
    for n, blocks in enumerate([("One.", "Two, revised.", "Three."), ("Zero.", "One."), ("One.",)]):
        essay_import(source=essay_source(*blocks))
        assert count_queries(client, url) == before, n
    content = client.get(url).content.decode()
    assert "On earlier versions" in content and "Two, revised." in content


def test_unknown_and_heading_keys_give_the_sites_404_page(client, make_essay):
    essay = make_essay("## Heading", "Kept.", "Dropped.")
    heading = essay.paragraphs.get(kind="heading")
    for key in ["nosuchkey", heading.key]:
        response = client.get(f"/essays/{essay.slug}/p/{key}/")
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()
    assert client.get("/essays/no-such-essay/").status_code == 404


def test_a_retired_paragraphs_address_leads_to_where_it_can_still_be_read(client, make_essay, user):
    essay = make_essay("Kept.", "Dropped.", "Discussed, then dropped.")
    dropped = essay.paragraphs.get(text="Dropped.")
    discussed = essay.paragraphs.get(text="Discussed, then dropped.")
    add_comment(essay, paragraph=discussed, body="On the third.")
    essay_import(source=essay_source("Kept."))
    response = client.get(f"/essays/{essay.slug}/p/{dropped.key}/", follow=True)
    assert response.redirect_chain[0][0] == f"/essays/{essay.slug}/r/1/#p-{dropped.key}"
    assert response.status_code == 200 and "Dropped." in response.content.decode()
    response = client.get(f"/essays/{essay.slug}/p/{discussed.key}/", follow=True)
    assert response.redirect_chain[0][0] == f"{essay.get_absolute_url()}#p-{discussed.key}"
    assert "On the third." in response.content.decode()


def test_drafts_are_neither_listed_nor_readable(client, db):
    draft = essay_import(source=essay_source("Secret.", slug="draft"), publish=False).essay
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert "A test essay" not in client.get("/").content.decode()


def test_home_lists_published_essays_with_their_comment_counts(client, seeded_essay):
    add_comment(seeded_essay, paragraph=seeded_essay.paragraphs.first())
    add_comment(seeded_essay, status=Comment.Status.REMOVED)
    content = client.get("/").content.decode()
    assert seeded_essay.title in content and seeded_essay.get_absolute_url() in content
    assert "3 comments" in content


def test_deleted_comment_with_replies_stays_as_a_placeholder(client, make_essay):
    essay = make_essay("Text.")
    parent = add_comment(essay, body="Gone soon.", status=Comment.Status.DELETED)
    add_comment(essay, parent=parent, body="A reply that stays.")
    add_comment(essay, body="Removed alone.", status=Comment.Status.REMOVED)
    content = client.get(essay.get_absolute_url()).content.decode()
    assert "Deleted by its author" in content and "A reply that stays." in content
    assert "Gone soon." not in content and "Removed alone." not in content


def test_pages_send_a_content_security_policy_without_inline_code(client, seeded_essay):
    response = client.get(seeded_essay.get_absolute_url())
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    content = response.content.decode()
    assert "<script>" not in content and " style=" not in content and "<style" not in content


def test_a_kept_page_leaves_out_indentation_between_tags_and_nothing_else():
    from forum.discussion.pages import squeezed

    html = (
        '<ul>\n    <li><a href="#">One</a>\n      <a href="#">Two</a></li>\n  </ul>\n'
        "<p>Words  and\n   more words</p>\n"
        "<pre><code>def f():\n    return 1\n\n    <b>kept</b>\n</code></pre>\n  <div>\n"
        '<textarea name="body">\n   indented draft\n   <i>\n</textarea>\n   <span title="a\n   b">'
    )
    assert squeezed(html) == (
        '<ul>\n<li><a href="#">One</a>\n<a href="#">Two</a></li>\n</ul>\n'
        "<p>Words  and\n   more words</p>\n"
        "<pre><code>def f():\n    return 1\n\n    <b>kept</b>\n</code></pre>\n<div>\n"
        '<textarea name="body">\n   indented draft\n   <i>\n</textarea>\n<span title="a\n   b">'
    )


def test_code_in_a_comment_keeps_its_indentation_on_the_kept_pages(client, seeded_essay, user):
    """Visitors' and members' essay pages are kept squeezed: a code block is not."""
    code = "```\ndef answer():\n    return 42\n```"
    post(user, seeded_essay, body=f"Consider:\n\n{code}")
    reader = make_user("reader-of-code@example.org", "Reader")
    member = Client()
    member.force_login(reader)
    for visitor_or_member in (client, member):
        page = visitor_or_member.get(seeded_essay.get_absolute_url()).content.decode()
        assert "def answer():\n    return 42" in page
        assert ">\n    <" not in page  # indentation between tags is gone
