"""Atom feeds of new published comments (forum/discussion/feeds.py)."""

import xml.etree.ElementTree as ET

import html5lib
import pytest
from django.test import Client
from django.urls import reverse

from essays.models import Essay
from essays.services import essay_import
from forum.discussion.feeds import FEED_ENTRIES
from forum.discussion.models import Comment
from forum.moderation.services import comment_remove, moderators_group
from tests.conftest import add_comment, essay_source, make_user, post

ATOM = "{http://www.w3.org/2005/Atom}"
THR = "{http://purl.org/syndication/thread/1.0}"
SITE = "https://essays.example.org"

OPENING = "The opening paragraph holds a passage worth quoting, and more."
SECOND = "A second paragraph, discussed on its own."


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def essay(db):
    return essay_import(source=essay_source("## A heading", OPENING, SECOND)).essay


@pytest.fixture
def paragraphs(essay):
    heading, opening, second = essay.paragraphs.order_by("position")
    return {"heading": heading, "opening": opening, "second": second}


def feed(url, client=None, **headers):
    response = (client or Client()).get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return response, parse_atom(response)


def parse_atom(response) -> ET.Element:
    return ET.fromstring(response.content)  # noqa: S314 (our own server's answer)


def entries(root) -> dict[str, ET.Element]:
    """The feed's entries by their id."""
    return {entry.findtext(f"{ATOM}id"): entry for entry in root.findall(f"{ATOM}entry")}


def entry_id(comment) -> str:
    return SITE + reverse("discussion:comment_permalink", kwargs={"pk": comment.pk})


def essay_feed_url(essay) -> str:
    return reverse("discussion:essay_feed", kwargs={"slug": essay.slug})


def test_an_entry_carries_the_comment_its_passage_author_dates_and_permalink(
    essay, paragraphs, user
):
    comment = post(
        user,
        essay,
        "I *agree* with this.",
        paragraph=paragraphs["opening"],
        quote="a passage worth quoting",
        quote_prefix="paragraph holds ",
        quote_suffix=", and more.",
    )
    _response, root = feed(essay_feed_url(essay))

    assert root.findtext(f"{ATOM}title") == "Comments on “A test essay”"
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == SITE + essay.get_absolute_url()
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == SITE + essay_feed_url(essay)
    assert root.findtext(f"{ATOM}updated")
    entry = entries(root)[entry_id(comment)]
    assert entry.findtext(f"{ATOM}title") == "Rea Der on a passage of “A test essay”"
    assert entry.find(f"{ATOM}author").findtext(f"{ATOM}name") == "Rea Der"
    assert entry.find(f"{ATOM}author").findtext(f"{ATOM}uri") == SITE + user.get_absolute_url()
    assert entry.find(f"{ATOM}link").get("href") == SITE + comment.get_absolute_url()
    assert entry.findtext(f"{ATOM}published") == entry.findtext(f"{ATOM}updated")
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    # The sanitized HTML rendered when it was written, after the passage it answers.
    assert content.text.endswith(comment.body_html)
    assert "<em>agree</em>" in content.text
    assert "<blockquote" in content.text and "a passage worth quoting</p>" in content.text
    assert entry.find(f"{THR}in-reply-to") is None


def test_an_entry_on_a_paragraph_quotes_it_and_a_reply_names_its_parent(
    essay, paragraphs, user, other_user
):
    top = post(user, essay, "On the second.", paragraph=paragraphs["second"])
    reply = post(other_user, essay, "A reply.", parent=top)
    whole = post(other_user, essay, "On the whole essay.")
    root = entries(feed(essay_feed_url(essay))[1])

    assert f"<p>{SECOND}</p></blockquote>" in root[entry_id(top)].findtext(f"{ATOM}content")
    assert root[entry_id(top)].findtext(f"{ATOM}title") == (
        "Rea Der on a paragraph of “A test essay”"
    )
    in_reply_to = root[entry_id(reply)].find(f"{THR}in-reply-to")
    assert in_reply_to.get("ref") == entry_id(top)
    assert root[entry_id(reply)].findtext(f"{ATOM}title") == "Otto Ther replied on “A test essay”"
    assert root[entry_id(whole)].findtext(f"{ATOM}content") == whole.body_html


def test_every_entry_has_what_atom_requires(essay, paragraphs, user):
    """RFC 4287: an entry has exactly one id, title and updated, and an author (here each
    entry names its own); an undated imported response takes its essay's date."""
    post(user, essay, "Dated.")
    add_comment(essay, body="An undated response.", imported=True, created=None)
    root = feed(essay_feed_url(essay))[1]
    for entry in root.findall(f"{ATOM}entry"):
        for element in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{element}")) == 1, element
        assert entry.find(f"{ATOM}author").findtext(f"{ATOM}name")
    assert len(root.findall(f"{ATOM}entry")) == 2


@pytest.mark.parametrize("status", ["pending", "hidden", "removed", "deleted"])
def test_comments_readers_may_not_read_never_appear(essay, paragraphs, user, other_user, status):
    shown = post(user, essay, "Published.", paragraph=paragraphs["opening"])
    unseen = add_comment(
        essay, body=f"SECRET {status}", paragraph=paragraphs["opening"], author=other_user
    )
    Comment.objects.filter(pk=unseen.pk).update(status=status)
    thread = reverse("discussion:thread_feed", kwargs={"pk": shown.pk})
    paragraph = reverse(
        "discussion:paragraph_feed", kwargs={"slug": essay.slug, "key": paragraphs["opening"].key}
    )
    member = reverse("discussion:member_feed", kwargs={"pk": other_user.pk})
    for url in (essay_feed_url(essay), paragraph, thread, member):
        response, root = feed(url)
        assert b"SECRET" not in response.content, url
        assert entry_id(unseen) not in entries(root), url
    assert entry_id(shown) in entries(feed(paragraph)[1])


def test_a_removal_after_publication_drops_the_entry_and_changes_the_etag(essay, user):
    kept = post(user, essay, "Kept.")
    removed = post(user, essay, "Removed later.")
    moderator = make_user("mod@example.org", "Mo Derator")
    moderator.groups.add(moderators_group())
    client = Client()
    first, root = feed(essay_feed_url(essay), client)
    assert set(entries(root)) == {entry_id(kept), entry_id(removed)}

    comment_remove(actor=moderator, comment=removed, reason_code="spam")

    again, root = feed(essay_feed_url(essay), client, if_none_match=first["ETag"])
    assert set(entries(root)) == {entry_id(kept)}
    assert again["ETag"] != first["ETag"]


def test_a_conditional_get_is_answered_304_after_one_query_until_something_changes(
    essay, user, django_assert_num_queries
):
    post(user, essay, "First.")
    client = Client()
    response, _root = feed(essay_feed_url(essay), client)
    etag = response["ETag"]
    assert "Last-Modified" not in response
    assert "no-cache" in response["Cache-Control"]

    with django_assert_num_queries(1):
        not_modified = client.get(essay_feed_url(essay), headers={"if-none-match": etag})
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == etag
    assert not_modified.content == b""

    post(user, essay, "Second.")
    response = client.get(essay_feed_url(essay), headers={"if-none-match": etag})
    assert response.status_code == 200
    assert len(entries(parse_atom(response))) == 2


def test_an_edit_changes_the_feed(essay, user):
    from forum.discussion.services import comment_edit

    comment = post(user, essay, "Before.")
    etag = feed(essay_feed_url(essay))[0]["ETag"]
    comment_edit(comment=comment, editor=user, body="After the edit.")
    response, root = feed(essay_feed_url(essay), if_none_match=etag)
    entry = entries(root)[entry_id(comment)]
    assert "After the edit." in entry.findtext(f"{ATOM}content")
    assert entry.findtext(f"{ATOM}updated") != entry.findtext(f"{ATOM}published")


def test_a_member_feed_answers_304_while_their_essays_are_unchanged(essay, user, other_user):
    post(user, essay, "Mine.")
    url = reverse("discussion:member_feed", kwargs={"pk": user.pk})
    etag = feed(url)[0]["ETag"]
    assert Client().get(url, headers={"if-none-match": etag}).status_code == 304
    post(other_user, essay, "Someone else's, on the same essay.")  # the essay's version moves
    assert Client().get(url, headers={"if-none-match": etag}).status_code == 200
    etag = feed(url)[0]["ETag"]
    user.display_name = "Renamed Reader"
    user.save()
    response, root = feed(url, if_none_match=etag)
    assert root.findtext(f"{ATOM}title") == "Comments by Renamed Reader"


def the_four_feeds(essay, paragraph, root_comment, member) -> dict[str, str]:
    return {
        "essay": essay_feed_url(essay),
        "paragraph": reverse(
            "discussion:paragraph_feed", kwargs={"slug": essay.slug, "key": paragraph.key}
        ),
        "thread": reverse("discussion:thread_feed", kwargs={"pk": root_comment.pk}),
        "member": reverse("discussion:member_feed", kwargs={"pk": member.pk}),
    }


# Finding what the feed is of, then its entries (with their authors and paragraphs); a
# member's feed also reads the versions of the essays they wrote on.
QUERIES = {"essay": 2, "paragraph": 2, "thread": 2, "member": 3}


def test_each_feed_costs_the_same_few_queries_with_0_or_60_comments_and_stops_at_50(
    essay, paragraphs, user, django_assert_num_queries
):
    paragraph = paragraphs["opening"]
    urls = the_four_feeds(essay, paragraph, Comment(pk=987_654), user)
    for kind in ("essay", "paragraph", "member"):
        with django_assert_num_queries(QUERIES[kind]):
            assert not feed(urls[kind])[1].findall(f"{ATOM}entry")
    root_comment = add_comment(
        essay,
        body="The thread's start.",
        paragraph=paragraph,
        author=user,
        quote="a passage worth quoting",
    )
    urls = the_four_feeds(essay, paragraph, root_comment, user)
    with django_assert_num_queries(QUERIES["thread"]):
        feed(urls["thread"])
    for number in range(60):
        add_comment(essay, body=f"Reply {number}.", parent=root_comment, author=user)
    for kind, url in urls.items():
        with django_assert_num_queries(QUERIES[kind]):
            root = feed(url)[1]
        assert len(root.findall(f"{ATOM}entry")) == FEED_ENTRIES, kind
    newest = Comment.objects.latest("id")
    assert entry_id(newest) in entries(feed(urls["essay"])[1])
    assert entry_id(root_comment) not in entries(feed(urls["essay"])[1])


def test_a_paragraph_feed_holds_its_paragraph_alone_and_outlives_its_retirement(
    essay, paragraphs, user
):
    opening = post(user, essay, "On the opening.", paragraph=paragraphs["opening"])
    post(user, essay, "On the second.", paragraph=paragraphs["second"])
    url = reverse(
        "discussion:paragraph_feed", kwargs={"slug": essay.slug, "key": paragraphs["opening"].key}
    )
    assert set(entries(feed(url)[1])) == {entry_id(opening)}

    essay_import(source=essay_source("## A heading", SECOND))  # the opening is retired
    entry = entries(feed(url)[1])[entry_id(opening)]
    # Its permalink now leads to the comment shown with the text it discussed.
    assert entry.find(f"{ATOM}link").get("href") == SITE + reverse(
        "discussion:comment_permalink", kwargs={"pk": opening.pk}
    )


def test_a_thread_feed_holds_its_thread_alone_whichever_comment_names_it(essay, user, other_user):
    top = post(user, essay, "A thread.")
    reply = post(other_user, essay, "A reply.", parent=top)
    deeper = post(user, essay, "A reply to the reply.", parent=reply)
    other = post(other_user, essay, "Another thread.")
    by_root = feed(reverse("discussion:thread_feed", kwargs={"pk": top.pk}))[1]
    by_reply = feed(reverse("discussion:thread_feed", kwargs={"pk": deeper.pk}))[1]
    assert set(entries(by_root)) == {entry_id(top), entry_id(reply), entry_id(deeper)}
    assert set(entries(by_reply)) == set(entries(by_root))
    assert entry_id(other) not in entries(by_root)
    assert by_reply.find(f"{ATOM}link[@rel='self']").get("href") == SITE + reverse(
        "discussion:thread_feed", kwargs={"pk": top.pk}
    )


def test_a_member_feed_holds_only_comments_on_published_essays(essay, user):
    shown = post(user, essay, "On a published essay.")
    draft = essay_import(source=essay_source("Draft text.", slug="draft-essay")).essay
    hidden = post(user, draft, "On an essay taken back to draft.")
    Essay.objects.filter(pk=draft.pk).update(status=Essay.Status.DRAFT)
    root = feed(reverse("discussion:member_feed", kwargs={"pk": user.pk}))[1]
    assert root.findtext(f"{ATOM}title") == "Comments by Rea Der"
    assert set(entries(root)) == {entry_id(shown)}
    assert entry_id(hidden) not in entries(root)


def test_feeds_of_nothing_readable_are_404(essay, paragraphs, user):
    pending = add_comment(essay, body="Awaiting review.", author=user, status="pending")
    published = post(user, essay, "Published.")
    user.is_active = False
    user.save()
    missing = [
        reverse("discussion:essay_feed", kwargs={"slug": "no-such-essay"}),
        reverse(
            "discussion:paragraph_feed",
            kwargs={"slug": essay.slug, "key": paragraphs["heading"].key},  # not discussed
        ),
        reverse("discussion:paragraph_feed", kwargs={"slug": essay.slug, "key": "nosuchkey"}),
        reverse("discussion:thread_feed", kwargs={"pk": pending.pk}),
        reverse("discussion:thread_feed", kwargs={"pk": 987_654}),
        reverse("discussion:member_feed", kwargs={"pk": user.pk}),  # deactivated
        reverse("discussion:member_feed", kwargs={"pk": 987_654}),
    ]
    for url in missing:
        assert Client().get(url).status_code == 404, url
    # An essay taken back to draft takes its feeds with it.
    Essay.objects.filter(pk=essay.pk).update(status=Essay.Status.DRAFT)
    for url in (
        essay_feed_url(essay),
        reverse(
            "discussion:paragraph_feed",
            kwargs={"slug": essay.slug, "key": paragraphs["opening"].key},
        ),
        reverse("discussion:thread_feed", kwargs={"pk": published.pk}),
    ):
        assert Client().get(url).status_code == 404, url


def test_a_feed_only_reads(essay):
    response = Client().post(essay_feed_url(essay))
    assert response.status_code == 405
    assert Client().head(essay_feed_url(essay)).status_code == 200


def head_feed_links(response) -> list[str]:
    document = html5lib.parse(response.content.decode(), namespaceHTMLElements=False)
    return [
        link.get("href")
        for link in document.findall("./head/link[@rel='alternate']")
        if link.get("type") == "application/atom+xml"
    ]


def test_pages_announce_their_feeds_in_their_heads(essay, paragraphs, user):
    comment = post(user, essay, "A thread.", paragraph=paragraphs["opening"])
    urls = the_four_feeds(essay, paragraphs["opening"], comment, user)
    client = Client()
    pages = {
        "essay": essay.get_absolute_url(),
        "paragraph": paragraphs["opening"].get_absolute_url(),
        "thread": reverse("discussion:comment_thread", kwargs={"pk": comment.pk}),
        "member": user.get_absolute_url(),
    }
    for kind, page in pages.items():
        response = client.get(page)
        assert response.status_code == 200, page
        assert head_feed_links(response) == [urls[kind]], kind
        feed(urls[kind])


def test_the_essay_page_links_to_its_feed_and_its_annotations(essay):
    response = Client().get(essay.get_absolute_url())
    document = html5lib.parse(response.content.decode(), namespaceHTMLElements=False)
    header = document.find(".//header[@class='essay-header']")
    links = {a.text: a.get("href") for a in header.iter("a")}
    assert links["Feed"] == essay_feed_url(essay)
    assert links["Annotations"] == reverse(
        "discussion:essay_annotations", kwargs={"slug": essay.slug}
    )
