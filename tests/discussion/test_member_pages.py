"""The essay page signed-in readers share (forum/discussion/member_pages.py): it is the page
made for each of them alone, whatever they follow, wrote or were told, and every change to
what it shows of them (readers.py) shows at once."""

import io
import re

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from essays.services import essay_import
from forum.accounts import services as accounts
from forum.discussion import member_pages
from forum.discussion.models import Comment
from forum.discussion.readers import reader_key
from forum.moderation import services as moderation
from forum.sessions import CACHED_SECONDS, SessionStore
from forum.subscriptions import services as subscriptions
from forum.subscriptions.models import Subscription
from tests.conftest import essay_source, make_user, post

SOURCE = ("The first paragraph.", "The second paragraph.")


@pytest.fixture
def world(db, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    cache.clear()
    essay = essay_import(source=essay_source(*SOURCE)).essay
    author = make_user("ada@example.org", "Ada <the & first>")
    member = make_user("member@example.org", "Mem “Ber” & Co")
    moderator = make_user("mod@example.org", "Moderator")
    moderator.groups.add(moderation.moderators_group())
    reader = Client()
    reader.force_login(member)
    return {"essay": essay, "author": author, "member": member, "moderator": moderator,
            "reader": reader}  # fmt: skip


def read(world, client=None) -> str:
    response = (client or world["reader"]).get(world["essay"].get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def comparable(html: str) -> str:
    """The page but for each response's own CSRF token and the white space between tags."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", html)
    return re.sub(r"\s+", " ", html)


def made_for_them_alone(world, monkeypatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(member_pages, "may_serve", lambda request: False)
        return read(world)


SITUATIONS = [
    "nothing of their own",
    "following the essay",
    "muting the essay",
    "following a thread",
    "their own comments",
    "unread notifications",
]


def put_in(world, situation):
    essay, member, author = world["essay"], world["member"], world["author"]
    first = post(author, essay, body="A first thought by Ada.")
    if situation == "following the essay":
        subscriptions.subscription_set(user=member, essay=essay, level="follow")
    elif situation == "muting the essay":
        subscriptions.subscription_set(user=member, essay=essay, level="mute")
    elif situation == "following a thread":
        subscriptions.subscription_set(user=member, essay=essay, thread=first, level="follow")
    elif situation == "their own comments":
        post(member, essay, body="My own thought.")
        post(member, essay, body="My reply.", parent=first)
    elif situation == "unread notifications":
        post(member, essay, body="My own thought, to be answered.")
        mine = Comment.objects.get(body="My own thought, to be answered.")
        reply = post(author, essay, body="An answer to you.", parent=mine)
        assert subscriptions.fan_out(reply.pk) == 1


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_shared_page_is_the_page_made_for_them_alone(
    world, monkeypatch, situation, django_assert_num_queries
):
    put_in(world, situation)
    alone = made_for_them_alone(world, monkeypatch)
    shared = read(world)
    assert comparable(shared) == comparable(alone)
    # Served again from what is kept (asking the database only for the comments whose
    # actions are theirs: their own, and those in a thread they follow): still the same.
    theirs = situation in ("their own comments", "following a thread", "unread notifications")
    with django_assert_num_queries(1 if theirs else 0):
        again = read(world)
    assert comparable(again) == comparable(alone)
    # Their name, escaped as a template escapes it.
    assert "Mem “Ber” &amp; Co" in shared and "Mem “Ber” & Co" not in shared


def test_two_readers_share_a_page_and_each_gets_their_own_places(world, monkeypatch):
    other = make_user("other@example.org", "Otto")
    other_client = Client()
    other_client.force_login(other)
    subscriptions.subscription_set(user=other, essay=world["essay"], level="follow")
    first, second = read(world), read(world, other_client)
    assert "Mem “Ber”" in first and "Otto" not in first
    assert "Otto" in second and "Mem “Ber”" not in second
    assert "Following this essay" in second and "Following this essay" not in first
    assert comparable(second) == comparable(
        made_for_them_alone({**world, "reader": other_client}, monkeypatch)
    )


def test_following_and_letting_go_show_at_once(world):
    assert "Following this essay" not in read(world)
    response = world["reader"].post(
        "/subscriptions/set/", {"essay": world["essay"].pk, "level": "follow"}
    )
    assert response.status_code in (302, 303)
    assert "Following this essay" in read(world)
    world["reader"].post("/subscriptions/set/", {"essay": world["essay"].pk, "level": ""})
    assert "Following this essay" not in read(world)
    assert not Subscription.objects.filter(user=world["member"], thread=None).exists()


def test_the_bell_counts_a_new_notification_and_forgets_it_once_read(world):
    mine = post(world["member"], world["essay"], body="Mine.")
    assert 'class="badge"' not in read(world)
    reply = post(world["author"], world["essay"], body="Yours?", parent=mine)
    subscriptions.fan_out(reply.pk)
    assert re.search(r'<span class="badge">1</span>', read(world))
    world["reader"].post("/notifications/read-all/")
    assert 'class="badge"' not in read(world)


def test_a_suspension_and_its_lifting_show_at_once(world):
    assert 'name="body"' in read(world)
    moderation.user_restrict(
        actor=world["moderator"], user=world["member"], kind="suspension", reason="Rudeness."
    )
    page = read(world)
    assert "You are suspended from posting" in page and "Rudeness." in page
    moderation.user_restriction_lift(
        actor=world["moderator"], user=world["member"], kind="suspension"
    )
    page = read(world)
    assert "You are suspended from posting" not in page and 'name="body"' in page


def test_a_comment_held_for_review_shows_to_its_author_at_once(world):
    read(world)
    moderation.user_restrict(actor=world["moderator"], user=world["member"], kind="premoderation")
    comment = post(world["member"], world["essay"], body="Held for a moderator.")
    assert comment.status == Comment.Status.PENDING
    page = read(world)
    assert "Held for a moderator." in page
    # Nobody else sees it.
    assert "Held for a moderator." not in read(world, Client())


def test_confirming_an_address_opens_the_form_at_once(world):
    newcomer = make_user("new@example.org", "New Comer", verified=False)
    client = Client()
    client.force_login(newcomer)
    assert "Confirm your email address before your first comment" in read(world, client)
    key = EmailConfirmationHMAC(EmailAddress.objects.get(user=newcomer)).key
    response = client.post(reverse("account_confirm_email", args=[key]))
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=newcomer).verified
    page = read(world, client)
    assert "Confirm your email address" not in page and 'name="body"' in page


def test_a_new_name_shows_in_the_navigation_at_once(world):
    assert "Mem “Ber”" in read(world)
    accounts.user_set_display_name(user=world["member"], display_name="Renamed Reader")
    page = read(world)
    assert "Renamed Reader" in page and "Mem “Ber”" not in page


def test_a_moderator_gets_the_page_made_for_them(world):
    client = Client()
    client.force_login(world["moderator"])
    post(world["author"], world["essay"], body="Something to moderate.")
    page = read(world, client)
    assert "/moderation/" in page
    assert cache.get(reader_key(world["moderator"].pk)).privileged


def test_a_waiting_message_or_draft_gets_the_page_made_for_them(world):
    session = world["reader"].session
    session["comment_drafts"] = {f"essay:{world['essay'].pk}": "My kept draft."}
    session.save()
    assert "My kept draft." in read(world)


def test_a_deactivated_account_is_signed_out_at_once(world):
    read(world)
    member = world["member"]
    member.is_active = False
    member.save()
    page = read(world)
    assert "Log in" in page and "Mem “Ber”" not in page


def test_the_cache_keeps_a_session_minutes_not_weeks(world):
    store = SessionStore()
    store["anything"] = 1
    store.save()
    assert store._cached_seconds() == CACHED_SECONDS < store.get_expiry_age()
    # Read back from the database when the cache has lost it.
    cache.clear()
    assert SessionStore(store.session_key)["anything"] == 1


def test_pages_past_the_end_are_not_kept(world):
    kept = len(member_pages._kept)
    url = world["essay"].get_absolute_url() + "?page=7001"
    assert world["reader"].get(url).status_code == 200
    assert len(member_pages._kept) == kept
    # Asked again, it is made again: neither this process nor the cache kept it.
    with CaptureQueriesContext(connection) as queries:
        assert world["reader"].get(url).status_code == 200
    assert queries.captured_queries


def test_a_notification_about_a_comment_taken_away_leaves_the_bell_at_once(
    world, django_capture_on_commit_callbacks
):
    from forum.discussion import services as discussion

    mine = post(world["member"], world["essay"], body="Mine.")
    reply = post(world["author"], world["essay"], body="Yours?", parent=mine)
    subscriptions.fan_out(reply.pk)
    assert '<span class="badge">1</span>' in read(world)
    with django_capture_on_commit_callbacks(execute=True):
        discussion.comment_delete(comment=reply, actor=world["author"])
    assert 'class="badge"' not in read(world)


def test_a_new_moderator_gets_their_controls_at_once(world):
    from django.core.management import call_command

    assert "/moderation/" not in read(world)
    call_command("moderator", "add", "member@example.org", stdout=io.StringIO())
    assert "/moderation/" in read(world)
    call_command("moderator", "remove", "member@example.org", stdout=io.StringIO())
    assert "/moderation/" not in read(world)


def test_a_name_like_the_navigations_stand_ins_is_shown_as_written(world):
    accounts.user_set_display_name(user=world["member"], display_name="Eve <nav-count/> & co")
    page = read(world)
    assert "Eve &lt;nav-count/&gt; &amp; co" in page
