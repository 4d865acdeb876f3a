"""Who moderates, and what happens while no one does: a fresh install holds nothing for a
moderator it does not have, and the site owner (a superuser) is a moderator everywhere."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum.discussion.models import Comment
from forum.moderation.policy import (
    MODERATOR_IDS_KEY,
    is_moderator,
    moderator_ids,
    moderators_exist,
)
from forum.moderation.services import moderators_group
from tests.conftest import make_user, post


@pytest.fixture
def nobody_moderates(moderator_on_duty):
    """The site as `make run` leaves it: no one in the Moderators group, no site owner."""
    moderator_on_duty.groups.clear()


@pytest.fixture
def newcomer(db):
    return make_user("newcomer@example.org", "New Comer")


def test_nothing_waits_while_no_one_can_moderate(nobody_moderates, newcomer, essay):
    from forum.moderation.models import WordRule

    WordRule.objects.create(word="scam", kind=WordRule.Kind.WATCHED)
    essay.premoderated = True
    essay.save()
    first = post(newcomer, essay, "My first comment, on a scam.")
    assert first.status == Comment.Status.PUBLISHED
    assert first.hold_reasons == []


def test_the_first_moderator_makes_a_newcomers_comment_wait_again(
    nobody_moderates, newcomer, essay, moderator
):
    assert moderators_exist() is False  # and so remembered
    moderator.groups.add(moderators_group())
    assert post(newcomer, essay, "My first comment.").status == Comment.Status.PENDING


def test_the_site_owner_is_a_moderator_everywhere(nobody_moderates, newcomer, essay, client):
    owner = make_user("owner@example.org", "Site Owner")
    owner.is_superuser = owner.is_staff = True
    owner.save()
    assert moderators_exist()
    assert post(newcomer, essay, "My first comment.").status == Comment.Status.PENDING
    assert is_moderator(owner, fresh=True)
    assert owner.pk in moderator_ids()
    client.force_login(owner)
    assert client.get("/moderation/?queue=pending").status_code == 200
    author_page = client.get(f"/moderation/authors/{owner.pk}/")
    assert author_page.status_code == 200
    assert '<span class="badge">Moderator</span>' in author_page.content.decode()
    listed = io.StringIO()
    call_command("moderator", "list", stdout=listed)
    assert "owner@example.org" in listed.getvalue()


def test_the_permission_given_directly_makes_a_moderator(nobody_moderates, user):
    assert not moderators_exist()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="moderation", codename="moderate")
    )
    assert moderators_exist()
    assert user.pk in moderator_ids()


def test_a_site_owner_who_steps_down_or_leaves_is_no_longer_counted(nobody_moderates, db):
    owner = make_user("owner@example.org", "Site Owner")
    owner.is_superuser = True
    owner.save()
    assert moderators_exist()
    owner.is_superuser = False
    owner.save(update_fields=["is_superuser"])
    assert not moderators_exist()
    owner.is_superuser = True
    owner.save()
    assert moderators_exist()
    owner.delete()
    assert not moderators_exist()


def test_whether_anyone_moderates_is_remembered_not_asked_each_post(
    moderator, newcomer, essay, client, django_assert_num_queries
):
    assert moderators_exist()
    with django_assert_num_queries(0):
        assert moderators_exist()
    # Signing up and logging in change no one's office: what is remembered stays.
    make_user("another@example.org", "Another Reader")
    client.force_login(newcomer)
    from django.core.cache import cache

    assert cache.get(MODERATOR_IDS_KEY) == [moderator.pk]


def test_the_moderator_command_says_how_to_make_one_when_no_one_moderates(nobody_moderates):
    out = io.StringIO()
    call_command("moderator", "list", stdout=out)
    assert "No one moderates yet" in out.getvalue()
    assert "manage.py moderator add EMAIL" in out.getvalue()


def test_the_moderator_command_lists_the_moderators(moderator):
    out = io.StringIO()
    call_command("moderator", "list", stdout=out)
    assert out.getvalue().strip() == "Moderators: mod@example.org"


def test_a_post_asks_nothing_about_moderators_once_it_is_known(moderator, newcomer, essay):
    post(newcomer, essay, "Warming up.")
    with CaptureQueriesContext(connection) as queries:
        post(newcomer, essay, "Another.")
    assert not any("auth_permission" in query["sql"] for query in queries.captured_queries)


def test_who_moderates_is_remembered_and_forgotten_when_it_changes(
    moderator, newcomer, django_assert_num_queries
):
    """A page or a post asks no question to know that a reader does not moderate; a member
    who leaves the Moderators group is no longer a moderator on their next request."""
    assert is_moderator(moderator)
    with django_assert_num_queries(0):
        assert not is_moderator(newcomer)
    moderator.groups.remove(moderators_group())
    fresh_request_user = type(moderator).objects.get(pk=moderator.pk)
    assert not is_moderator(fresh_request_user)
    assert not is_moderator(fresh_request_user, fresh=True)
