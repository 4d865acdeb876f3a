"""Each kind of notification says what it is, in its email's subject and on the notifications
page, and quotes as plain text (never Markdown) the comment and what it replied to."""

import pytest
from django.core import mail

from forum.discussion.models import Comment
from forum.moderation import services as moderation
from forum.moderation.services import moderators_group
from forum.subscriptions import services
from forum.subscriptions.models import Notification, Subscription
from tests.conftest import make_user


@pytest.fixture
def moderator(db):
    user = make_user("mod@example.org", "Mo Derator")
    user.groups.add(moderators_group())
    return user


@pytest.fixture
def newcomer(db, settings, moderator):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    return make_user("new@example.org", "New Comer")


def emails_to(address):
    return [message for message in mail.outbox if message.to == [address]]


def test_a_held_comment_is_emailed_as_awaiting_review_then_as_approved(
    post, run_tasks, essay, newcomer, moderator, django_capture_on_commit_callbacks
):
    held = post(newcomer, essay, "My *first* [comment](https://e.example/).")
    run_tasks()
    [message] = emails_to("new@example.org")
    assert message.subject == "[Margins] Your comment is awaiting review, on “A test essay”"
    assert "Why: a new account's first comments are reviewed." in message.body
    assert "only you can see it" in message.body
    assert "Your comment: “My first comment.”" in message.body
    assert "new comments" not in message.subject
    with django_capture_on_commit_callbacks(execute=True):
        moderation.comment_approve(actor=moderator, comment=held)
    run_tasks()
    approved = emails_to("new@example.org")[-1]
    assert approved.subject == "[Margins] Your comment was approved, on “A test essay”"
    assert "everyone can read it now" in approved.body


def test_several_of_one_kind_say_so_in_the_subject(essay, newcomer, alice, bob, user):
    from tests.conftest import add_comment

    mine = add_comment(essay, author=alice, body="Mine.")
    for author in (bob, user):
        reply = add_comment(essay, parent=mine, author=author, body="An answer.")
        Notification.objects.create(recipient=alice, comment=reply, reason="reply")
    pending = Comment.Status.PENDING
    held = [add_comment(essay, author=newcomer, body=f"Held {n}.", status=pending) for n in (1, 2)]
    for comment in held:
        Notification.objects.create(recipient=newcomer, comment=comment, reason="held")
    replies = list(services.pending_notifications(alice))
    assert services.email_subject(replies, digest=False) == "2 replies to you"
    waiting = list(services.pending_notifications(newcomer))
    assert services.email_subject(waiting, digest=False) == (
        "2 of your comments are awaiting review"
    )
    Notification.objects.create(
        recipient=newcomer, comment=add_comment(essay, parent=held[0], author=bob), reason="reply"
    )
    mixed = list(services.pending_notifications(newcomer))
    assert services.email_subject(mixed, digest=False) == (
        "Your comment is awaiting review, on “A test essay”, and 2 more"
    )


def test_a_reply_quotes_what_it_answers_as_plain_text_in_email_and_on_the_page(
    post, run_tasks, client, essay, alice, bob
):
    Subscription.objects.all().delete()
    mine = post(alice, essay, "See [the source](https://e.example/src) and **this**.")
    post(bob, essay, "A [fair](https://e.example/fair) _point_.", parent=mine)
    run_tasks()
    [message] = emails_to("alice@example.org")
    assert message.subject == "[Margins] Bob replied to you, on “A test essay”"
    assert "In reply to: “See the source and this.”" in message.body
    assert "Bob wrote: “A fair point.”" in message.body
    assert "](https://" not in message.body and "**" not in message.body
    client.force_login(alice)
    page = " ".join(client.get("/notifications/").content.decode().split())
    assert "Bob replied to you, on “A test essay”" in page
    assert "In reply to: <q>See the source and this.</q>" in page
    assert "A fair point." in page
    assert "](https://" not in page and "**" not in page and "_point_" not in page


def test_news_of_ones_own_comment_leads_the_subject_latest_first(essay, newcomer, bob):
    from tests.conftest import add_comment

    held = add_comment(essay, author=newcomer, body="Held, then approved.")
    for reason in ("held", "approved"):
        Notification.objects.create(recipient=newcomer, comment=held, reason=reason)
    Notification.objects.create(
        recipient=newcomer, comment=add_comment(essay, parent=held, author=bob), reason="reply"
    )
    news = list(services.pending_notifications(newcomer))
    # "Awaiting review" is no news once it was approved: the approval and the reply are.
    assert [n.reason for n in news] == ["approved", "reply"]
    assert services.email_subject(news, digest=False) == (
        "Your comment was approved, on “A test essay”, and 1 more"
    )
