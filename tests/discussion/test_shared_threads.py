"""Signed-in readers share one rendering of a page of threads (forum/discussion/pages.py):
what is theirs (their own comments' actions, the threads they follow) is made for each of
them, and nothing of one reader ever reaches another."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from essays.services import essay_import
from forum.discussion.models import Comment
from forum.moderation import services as moderation
from forum.subscriptions.services import subscription_set
from tests.conftest import add_comment, essay_source, make_user


@pytest.fixture
def world(db, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    essay = essay_import(source=essay_source("One paragraph.", "Another.")).essay
    ada = make_user("ada@example.org", "Ada")
    bea = make_user("bea@example.org", "Bea")
    cal = make_user("cal@example.org", "Cal")
    by_ada = add_comment(essay, body="Ada on the essay.", author=ada)
    by_bea = add_comment(essay, body="Bea on the essay.", author=bea)
    add_comment(essay, body="Cal replies to Bea.", author=cal, parent=by_bea)
    return {"essay": essay, "ada": ada, "bea": bea, "cal": cal, "by_ada": by_ada, "by_bea": by_bea}


def reader(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def page_of(client, essay, query="") -> str:
    response = client.get(essay.get_absolute_url() + query)
    assert response.status_code == 200
    return response.content.decode()


def actions_of(html: str, comment: Comment) -> str:
    """The actions under one comment (the reply slot follows them)."""
    start = html.index(f'id="{comment.anchor}"')
    return html[start : html.index(f'id="reply-slot-{comment.pk}"', start)]


def test_each_reader_sees_their_own_actions_from_the_shared_rendering(world):
    essay, by_ada, by_bea = world["essay"], world["by_ada"], world["by_bea"]
    edit_ada = reverse("discussion:comment_edit", kwargs={"pk": by_ada.pk})
    # Ada reads first: the rendering kept must not be hers.
    as_ada = page_of(reader(world["ada"]), essay)
    as_cal = page_of(reader(world["cal"]), essay)
    as_bea = page_of(reader(world["bea"]), essay)
    assert edit_ada in actions_of(as_ada, by_ada)
    assert "Report" not in actions_of(as_ada, by_ada)
    assert "Report" in actions_of(as_ada, by_bea)
    for other in (as_cal, as_bea):
        assert edit_ada not in other
        assert "Report" in actions_of(other, by_ada)
    edit_bea = reverse("discussion:comment_edit", kwargs={"pk": by_bea.pk})
    assert edit_bea in actions_of(as_bea, by_bea) and edit_bea not in as_cal
    assert "<!--personal" not in as_ada + as_bea + as_cal


def test_a_followed_thread_shows_followed_to_its_follower_alone(world):
    essay, by_bea = world["essay"], world["by_bea"]
    subscription_set(user=world["cal"], essay=essay, thread=by_bea, level="follow")
    subscription_set(user=world["ada"], essay=essay, thread=by_bea, level="mute")
    as_bea = page_of(reader(world["bea"]), essay)
    as_cal = page_of(reader(world["cal"]), essay)
    as_ada = page_of(reader(world["ada"]), essay)
    assert "Following this thread" in actions_of(as_cal, by_bea)
    assert "Unmute this thread" in actions_of(as_ada, by_bea)
    thread_of_bea = actions_of(as_bea, by_bea)
    assert "Follow this thread" in thread_of_bea and "Following" not in thread_of_bea
    # Bea's own thread: her edit link and her follow control, both hers.
    assert reverse("discussion:comment_edit", kwargs={"pk": by_bea.pk}) in thread_of_bea


def test_a_readers_comment_awaiting_review_is_shown_to_them_alone(world):
    essay = world["essay"]
    add_comment(essay, body="Cal waits for review.", author=world["cal"], status="pending")
    page_of(reader(world["ada"]), essay)  # the shared rendering is made first
    as_cal = page_of(reader(world["cal"]), essay)
    assert "Cal waits for review." in as_cal and "Awaiting review" in as_cal
    assert "Cal waits for review." not in page_of(reader(world["bea"]), essay)


def test_a_moderator_gets_their_menu_and_readers_never_do(world):
    essay = world["essay"]
    moderator = make_user("mod@example.org", "Mod")
    moderator.groups.add(moderation.moderators_group())
    page_of(reader(world["ada"]), essay)
    assert 'class="mod-menu"' in page_of(reader(moderator), essay)
    assert 'class="mod-menu"' not in page_of(reader(world["bea"]), essay)


def test_the_forms_in_shared_threads_carry_the_readers_own_token(world):
    essay, by_bea = world["essay"], world["by_bea"]
    page_of(reader(world["ada"]), essay)
    cal = reader(world["cal"], enforce_csrf_checks=True)
    html = page_of(cal, essay)
    follow_form = actions_of(html, by_bea)
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', follow_form).group(1)
    response = cal.post(
        reverse("subscriptions:set"),
        {"csrfmiddlewaretoken": token, "essay": essay.pk, "thread": by_bea.pk, "level": "follow"},
    )
    assert response.status_code == 302
    assert "Following this thread" in actions_of(page_of(cal, essay), by_bea)


def test_a_readers_own_query_never_reaches_the_shared_rendering(world):
    essay = world["essay"]
    own = page_of(reader(world["ada"]), essay, "?order=oldest&zqx=1")
    assert "zqx" in own  # in the follow forms' way back
    assert "zqx" not in page_of(reader(world["bea"]), essay)


def test_markers_written_in_a_comment_change_nothing(world):
    essay = world["essay"]
    tricky = add_comment(
        essay, body="Before <!--/personal--> and <!--personal:1--> after.", author=world["cal"]
    )
    page_of(reader(world["ada"]), essay)
    as_cal = page_of(reader(world["cal"]), essay)
    edit = reverse("discussion:comment_edit", kwargs={"pk": tricky.pk})
    assert edit in actions_of(as_cal, tricky)
    assert "Report" in actions_of(as_cal, world["by_ada"])
    assert "<!--" not in as_cal.split("<body", 1)[1]


def test_threads_on_earlier_versions_are_shared_and_keep_each_readers_actions(world):
    essay = world["essay"]
    retiring = essay.paragraphs.get(text="Another.")
    on_it = add_comment(essay, paragraph=retiring, body="Bea on another.", author=world["bea"])
    essay_import(source=essay_source("One paragraph."))  # the paragraph is gone
    edit = reverse("discussion:comment_edit", kwargs={"pk": on_it.pk})
    as_ada = page_of(reader(world["ada"]), essay)
    as_bea = page_of(reader(world["bea"]), essay)
    for html in (as_ada, as_bea):
        assert "On earlier versions" in html and "Bea on another." in html
    assert edit in actions_of(as_bea, on_it) and edit not in as_ada
    assert "Report" in actions_of(as_ada, on_it)
