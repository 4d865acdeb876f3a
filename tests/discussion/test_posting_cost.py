"""What posting a comment costs the request: the same few queries whoever follows the essay and
however long its discussion. Notifying followers is the task worker's job, after commit."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from forum.accounts.models import User
from forum.discussion.models import Comment
from forum.subscriptions.models import Notification, Subscription
from tests.conftest import add_comment, make_user

# The request of a post: the paragraph with its essay (or the parent); the author's row,
# locked, with their standing and the essay's state in the same query; the same post just
# made; the parent, locked; the insert and the essay's version; the follow and the queued
# fan-out, in the comment's own transaction; the page of threads to land on (for a reply,
# its place in its thread too). The session and the member come from the cache once warm.
# With a moderator on the site, the author's standing too. Raise it only with a reason.
MOST_QUERIES_PER_POST = 13


@pytest.fixture(autouse=True)
def posting_limit_lifted(settings):
    # One member posts a few times in a row here, as the benchmark's posters do.
    settings.COMMENT_RATE_LIMITS = [(1_000, 60)]


@pytest.fixture
def essay(make_essay):
    return make_essay("First.", "Second.", "Third.")


@pytest.fixture
def paragraph(essay):
    return essay.paragraphs.get(position=1)


@pytest.fixture
def thread(essay, paragraph, other_user):
    return add_comment(essay, paragraph=paragraph, author=other_user, body="A thread to join.")


@pytest.fixture
def queries_to_post(reader_client, django_capture_on_commit_callbacks):
    """The queries of one post through the site's form, what runs after commit included."""

    def post(url, body):
        with (
            CaptureQueriesContext(connection) as context,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = reader_client.post(url, {"body": body})
        assert response.status_code == 302, response.content[:300]
        return len(context.captured_queries)

    return post


def follow_everything(essay, paragraph, thread, count):
    """`count` readers following the essay, `count` the paragraph and `count` the thread."""
    readers = User.objects.bulk_create(
        User(email=f"follower-{n}@example.org", display_name=f"Follower {n}") for n in range(count)
    )
    Subscription.objects.bulk_create(
        Subscription(user=reader, essay=essay, **target, level=Subscription.Level.FOLLOW)
        for reader in readers
        for target in ({}, {"paragraph": paragraph}, {"thread": thread})
    )


def grow_discussion(essay, paragraph, author, count):
    """`count` more comments on the paragraph, a third of them by `author`."""
    others = make_user("others@example.org", "Others")
    for n in range(count):
        add_comment(
            essay, paragraph=paragraph, author=author if n % 3 == 0 else others, body=f"Nº {n}."
        )


def test_a_post_costs_the_same_queries_with_0_and_500_followers(
    queries_to_post, essay, paragraph, thread
):
    compose_url = f"/essays/{essay.slug}/p/{paragraph.key}/comment/"
    reply_url = f"/comments/{thread.pk}/reply/"
    # The first post of a member may set up what later ones find in place.
    queries_to_post(compose_url, "Warming up.")
    queries_to_post(reply_url, "Warming up, in reply.")
    alone = queries_to_post(compose_url, "No one follows.")
    alone_reply = queries_to_post(reply_url, "No one follows, in reply.")

    follow_everything(essay, paragraph, thread, 500)

    assert queries_to_post(compose_url, "Five hundred follow.") == alone
    assert queries_to_post(reply_url, "Five hundred follow, in reply.") == alone_reply
    assert max(alone, alone_reply) <= MOST_QUERIES_PER_POST
    # Each post queued its fan-out and notified no one itself.
    assert Notification.objects.count() == 0
    assert DBTaskResult.objects.filter(task_path__endswith="fan_out_comment").count() == 6


def test_a_post_costs_the_same_queries_however_long_the_discussion(
    queries_to_post, essay, paragraph, thread, user
):
    compose_url = f"/essays/{essay.slug}/p/{paragraph.key}/comment/"
    reply_url = f"/comments/{thread.pk}/reply/"
    queries_to_post(compose_url, "Warming up.")
    short = queries_to_post(compose_url, "A short discussion.")
    short_reply = queries_to_post(reply_url, "A short discussion, in reply.")

    grow_discussion(essay, paragraph, user, 300)

    assert queries_to_post(compose_url, "A long discussion.") == short
    assert queries_to_post(reply_url, "A long discussion, in reply.") == short_reply
    assert Comment.objects.filter(essay=essay).count() == 300 + 6


def test_the_trust_ladder_costs_the_same_queries_however_long_the_authors_history(
    settings, queries_to_post, essay, paragraph, thread, user
):
    """With a moderator on the site, every post asks where its author stands (published
    comments counted only as far as the ladder looks, the latest removal, a level set by
    hand) and whether a reply goes to a stranger: a few queries, never more with history."""
    settings.MODERATION_NEW_COMMENTS_PER_HOUR = 1_000
    settings.MODERATION_NEW_STRANGER_REPLIES_PER_HOUR = 1_000
    owner = make_user("owner@example.org", "Site Owner")
    owner.is_superuser = True
    owner.save()
    compose_url = f"/essays/{essay.slug}/p/{paragraph.key}/comment/"
    reply_url = f"/comments/{thread.pk}/reply/"
    queries_to_post(compose_url, "Warming up.")
    short = queries_to_post(compose_url, "A short history.")
    short_reply = queries_to_post(reply_url, "A short history, in reply.")

    grow_discussion(essay, paragraph, user, 300)
    mine = Comment.objects.filter(author=user)
    mine.filter(pk__in=mine.values("pk")[:20]).update(status=Comment.Status.REMOVED)

    assert queries_to_post(compose_url, "A long history.") == short
    assert queries_to_post(reply_url, "A long history, in reply.") == short_reply
    assert max(short, short_reply) <= MOST_QUERIES_PER_POST
