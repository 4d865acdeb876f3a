"""A thread a moderator re-attached keeps the text it was written about: readers see it on
the paragraph's page, in the essay's panel, on the thread's page and in its feed, with the
re-attachment said; undoing the re-attachment puts everything back as it was."""

import pytest
from django.core.cache import cache
from django.test import Client

from essays.services import essay_import
from forum.discussion.models import Comment
from forum.moderation import services as moderation
from forum.moderation.undo import decision_undo
from tests.conftest import essay_source, make_user, post

ALPHA = "Alpha stays as it is."
BETA = "Beta says the revolution devoured its children."
GAMMA = "Gamma says something else entirely."
NOTICE = "Re-attached by a moderator to paragraph"


@pytest.fixture
def world(db):
    essay = essay_import(source=essay_source(ALPHA, BETA, GAMMA)).essay
    beta = essay.paragraphs.get(text=BETA)
    author = make_user("ada@example.org", "Ada")
    moderator = make_user("mod@example.org", "Moderator")
    moderator.groups.add(moderation.moderators_group())
    root = post(author, essay, "Devoured? Only some of them.", paragraph=beta)
    reply = post(author, essay, "And a reply to it.", parent=root)
    essay_import(source=essay_source(ALPHA, GAMMA))  # Beta is cut: the thread is orphaned
    gamma = essay.paragraphs.live().get(text=GAMMA)
    return {
        "essay": essay,
        "beta": beta,
        "gamma": gamma,
        "root": root,
        "reply": reply,
        "moderator": moderator,
    }


def reattach(world):
    return moderation.thread_reattach(
        actor=world["moderator"], comment=world["root"], paragraph=world["gamma"]
    )


def read(client, url, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


def test_reattaching_keeps_the_text_the_thread_answered(world):
    reattach(world)
    root = Comment.objects.get(pk=world["root"].pk)
    assert root.paragraph_id == world["gamma"].pk
    assert root.anchor_text == BETA and root.anchor_status == Comment.AnchorStatus.MOVED
    assert root.reattached_at is not None and root.shows_old_anchor_text


@pytest.mark.parametrize("who", ["visitor", "member", "moderator"])
def test_readers_see_what_a_reattached_thread_answered_in_every_place(world, who):
    reattach(world)
    cache.clear()
    client = Client()
    if who == "member":
        client.force_login(make_user("member@example.org", "Member"))
    elif who == "moderator":
        client.force_login(world["moderator"])
    essay, gamma, root = world["essay"], world["gamma"], world["root"]
    places = {
        "paragraph page": read(client, gamma.get_absolute_url()),
        "essay panel": read(
            client,
            f"/essays/{essay.slug}/p/{gamma.key}/thread/",
            HTTP_HX_REQUEST="true",
        ),
        "thread page": read(client, f"/comments/{root.pk}/thread/"),
    }
    number = gamma.position + 1
    for place, html in places.items():
        assert f"{NOTICE} {number}" in html, place
        assert "Written about:" in html and BETA in html, place
    assert GAMMA in places["paragraph page"]  # beside the paragraph it now sits on


def test_the_feed_quotes_the_text_the_thread_answered(world):
    reattach(world)
    feed = read(Client(), f"/comments/{world['root'].pk}/thread/feed/")
    assert BETA in feed


def test_undoing_the_reattachment_puts_the_thread_back_exactly(world):
    fields = ["paragraph_id", "anchor_status", "anchor_text", "quote_lost", "reattached_at"]

    def anchors():
        return [
            tuple(getattr(Comment.objects.get(pk=c.pk), name) for name in fields)
            for c in (world["root"], world["reply"])
        ]

    before = anchors()
    decision = reattach(world)
    assert anchors() != before
    decision_undo(actor=world["moderator"], decision=decision)
    assert anchors() == before
    cache.clear()
    page = read(Client(), world["essay"].get_absolute_url())
    assert "Devoured? Only some of them." in page  # under "On earlier versions"
    assert NOTICE not in page
    assert "Devoured?" not in read(Client(), world["gamma"].get_absolute_url())


def test_a_reattached_thread_whose_new_paragraph_is_cut_still_shows_what_it_answered(world):
    reattach(world)
    essay_import(source=essay_source(ALPHA))  # Gamma goes too
    root = Comment.objects.get(pk=world["root"].pk)
    assert root.anchor_status == Comment.AnchorStatus.ORPHANED and root.shows_old_anchor_text
    cache.clear()
    page = read(Client(), world["essay"].get_absolute_url())
    assert NOTICE in page and BETA in page and GAMMA in page


def test_a_reply_written_after_the_reattachment_answers_the_same_text(world):
    reattach(world)
    author = world["root"].author
    reply = post(author, world["essay"], "Later.", parent=Comment.objects.get(pk=world["root"].pk))
    assert reply.anchor_text == BETA and reply.reattached_at is not None
    assert not reply.shows_old_anchor_text  # the thread's first comment shows it


def test_the_moderators_page_of_the_comment_says_it_was_reattached(world):
    reattach(world)
    client = Client()
    client.force_login(world["moderator"])
    page = read(client, f"/moderation/comments/{world['root'].pk}/")
    assert "Re-attached by a moderator on" in page
