"""Editing one's comment in place (htmx): the form opens under the comment, and the comment's
card is replaced by the edited one; the edit page stays as the path without JavaScript.
Times on the page say their time zone."""

import re

import pytest

from forum.discussion import services
from forum.discussion.models import Comment

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def essay(make_essay):
    return make_essay("First.", "Second.", "Third.")


@pytest.fixture
def third(essay):
    return essay.paragraphs.get(position=2)


@pytest.fixture
def mine(user, essay, third):
    return services.comment_post(author=user, essay=essay, body="Before *this*.", paragraph=third)


def test_the_edit_link_opens_the_form_under_the_comment(reader_client, mine, third):
    page = reader_client.get(third.get_absolute_url()).content.decode()
    edit_url = f"/comments/{mine.pk}/edit/"
    assert re.search(
        rf'<a href="{edit_url}" hx-get="{edit_url}" hx-target="#reply-slot-{mine.pk}"', page
    )
    form = reader_client.get(edit_url, **HTMX)
    fragment = form.content.decode()
    assert form.status_code == 200 and "<html" not in fragment
    assert f'hx-post="{edit_url}" hx-target="this" hx-swap="outerHTML"' in fragment
    assert f'id="edit-{mine.pk}-body"' in fragment and "autofocus" in fragment
    assert "Before *this*." in fragment and "data-close-slot" in fragment


def test_saving_in_place_answers_with_the_edited_card_for_the_comments_place(
    reader_client, mine, other_user, essay
):
    services.comment_post(author=other_user, essay=essay, body="A reply.", parent=mine)
    response = reader_client.post(f"/comments/{mine.pk}/edit/", {"body": "After."}, **HTMX)
    assert response.status_code == 200
    card = f"#c-{mine.pk} > .comment-card"
    assert response["HX-Retarget"] == card and response["HX-Reselect"] == card
    assert response["HX-Reswap"] == "outerHTML"
    fragment = response.content.decode()
    assert "<html" not in fragment and "After." in fragment and "Before" not in fragment
    assert 'class="comment-edited"' in fragment and "autofocus" in fragment
    assert f"/comments/{mine.pk}/edit/" in fragment  # still the author's to edit
    mine.refresh_from_db()
    assert mine.body == "After." and mine.edited_at is not None


def test_a_refused_edit_in_place_comes_back_in_its_form_with_the_text(reader_client, mine):
    too_long = "x" * 10_001
    for body, message, status in [
        ("   ", "Your comment is empty", 400),
        (too_long, "the limit is 10,000", 400),
    ]:
        response = reader_client.post(f"/comments/{mine.pk}/edit/", {"body": body}, **HTMX)
        fragment = response.content.decode()
        assert response.status_code == status, fragment[:300]
        assert "HX-Retarget" not in response
        assert f'id="edit-form-{mine.pk}"' in fragment and message in fragment
        assert 'role="alert"' in fragment and "autofocus" in fragment
    mine.refresh_from_db()
    assert mine.body == "Before *this*."


def test_only_the_author_edits_in_place(client, other_user, mine):
    client.force_login(other_user)
    for response in (
        client.get(f"/comments/{mine.pk}/edit/", **HTMX),
        client.post(f"/comments/{mine.pk}/edit/", {"body": "Mine now."}, **HTMX),
    ):
        assert response.status_code == 403
        assert "Only its author can change this comment." in response.content.decode()
    mine.refresh_from_db()
    assert mine.body == "Before *this*." and mine.edited_at is None


def test_an_edit_in_place_held_for_review_says_so_on_its_card(reader_client, mine, settings, db):
    from forum.moderation.models import WordRule
    from forum.moderation.services import moderators_group
    from tests.conftest import make_user

    make_user("mod@example.org", "Mo Derator").groups.add(moderators_group())
    WordRule.objects.create(word="scam", kind=WordRule.Kind.WATCHED)
    response = reader_client.post(f"/comments/{mine.pk}/edit/", {"body": "A scam."}, **HTMX)
    assert response.status_code == 200
    assert "Awaiting review" in response.content.decode()
    assert Comment.objects.get(pk=mine.pk).status == Comment.Status.PENDING


def test_without_javascript_the_edit_page_returns_to_the_comment(reader_client, mine):
    page = reader_client.get(f"/comments/{mine.pk}/edit/").content.decode()
    assert "<h1>Edit your comment</h1>" in page and "hx-post" not in page.split("<h1>")[1]
    response = reader_client.post(f"/comments/{mine.pk}/edit/", {"body": "After."})
    assert response.status_code == 302 and response.url.endswith(f"#c-{mine.pk}")


def test_times_on_the_page_say_their_time_zone(reader_client, mine, third, settings):
    page = reader_client.get(third.get_absolute_url()).content.decode()
    [shown] = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', page)
    assert shown.endswith(" UTC")
