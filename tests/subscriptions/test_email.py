import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from forum.subscriptions import services
from forum.subscriptions.models import Notification, NotificationSettings, Subscription

FOLLOW = Subscription.Level.FOLLOW


@pytest.fixture
def followed(essay, fifth, alice):
    services.subscription_set(user=alice, essay=essay, paragraph=fifth, level=FOLLOW)
    return fifth


def unsubscribe_path(message):
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://essays.example.org/unsubscribe/") and header.endswith("/>")
    return header[len("<https://essays.example.org") : -1]


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://essays.example.org"


def test_an_immediate_email_has_both_parts_site_links_and_one_click_headers(
    post, run_tasks, essay, followed, alice, user
):
    comment = post(user, essay, "Something *worth* reading.", paragraph=followed)
    run_tasks()
    [message] = mail.outbox
    assert message.to == ["alice@example.org"]
    assert message.subject == (
        "[Margins] Rea Der commented on a paragraph you follow, on “A test essay”"
    )
    # The permalink: it leads to the page of threads that holds the comment, however many.
    assert f"https://essays.example.org/comments/{comment.pk}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<em>worth</em>" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_path(message).startswith("/unsubscribe/")
    assert "testserver" not in message.body and "localhost" not in message.body
    assert Notification.objects.get(recipient=alice).emailed_at is not None


def make_due():
    """Let the coalescing window pass."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def test_a_burst_of_replies_is_one_email(post, run_tasks, essay, followed, alice, user, settings):
    settings.NOTIFICATION_EMAIL_WINDOW = 120
    for n in range(3):
        post(user, essay, f"Burst {n}.", paragraph=followed)
        run_tasks()
    assert mail.outbox == []  # the window is still open
    make_due()
    run_tasks()
    assert len(mail.outbox) == 1
    assert "3 new comments" in mail.outbox[0].subject
    assert all(f"Burst {n}." in mail.outbox[0].body for n in range(3))


def test_no_email_to_unconfirmed_addresses_or_when_turned_off(
    post, run_tasks, essay, followed, alice, bob, user
):
    EmailAddress.objects.filter(user=alice).update(verified=False)
    post(user, essay, "One.", paragraph=followed)
    run_tasks()
    assert mail.outbox == []
    EmailAddress.objects.filter(user=alice).update(verified=True)
    services.notification_settings_set(user=alice, email="never", follow_on_post=True)
    post(user, essay, "Two.", paragraph=followed)
    run_tasks()
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=alice).count() == 2  # still on the site


def test_a_failed_send_is_retried_and_nothing_is_lost(
    post, run_tasks, essay, followed, alice, user, monkeypatch
):
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages
    calls = {"n": 0}

    def flaky(self, messages):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("SMTP server went away")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    post(user, essay, "Must arrive.", paragraph=followed)
    run_tasks()
    assert mail.outbox == []
    assert Notification.objects.get(recipient=alice).emailed_at is None
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="READY").count() == 1  # the retry, later
    make_due()
    run_tasks()
    assert len(mail.outbox) == 1 and "Must arrive." in mail.outbox[0].body


def test_one_click_post_unsubscribes_without_login_or_csrf_and_answers_200(
    post, run_tasks, essay, followed, alice, user
):
    post(user, essay, "First.", paragraph=followed)
    run_tasks()
    path = unsubscribe_path(mail.outbox[0])
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert NotificationSettings.objects.get(user=alice).email == "never"
    post(user, essay, "Second.", paragraph=followed)
    run_tasks()
    assert len(mail.outbox) == 1


def test_a_get_on_the_unsubscribe_link_changes_nothing_and_offers_choices(
    post, run_tasks, essay, followed, alice, user
):
    post(user, essay, "First.", paragraph=followed)
    run_tasks()
    path = unsubscribe_path(mail.outbox[0])
    response = Client().get(path)
    content = response.content.decode()
    assert response.status_code == 200
    assert (
        "Stop this thread" in content
        and "Stop this essay" in content
        and "Stop all email" in content
    )
    assert NotificationSettings.objects.get(user=alice).email == "immediately"
    assert Subscription.objects.filter(user=alice, level="mute").count() == 0


def test_stopping_one_thread_or_essay_from_the_page(post, run_tasks, essay, followed, alice, user):
    top = post(user, essay, "Thread top.", paragraph=followed)
    run_tasks()
    path = unsubscribe_path(mail.outbox[0])
    Client().post(path, {"scope": "thread"})
    assert Subscription.objects.get(user=alice, thread=top).level == "mute"
    Client().post(path, {"scope": "essay"})
    assert Subscription.objects.get(user=alice, paragraph=None, thread=None).level == "mute"
    assert NotificationSettings.objects.get(user=alice).email == "immediately"


def test_tampered_and_unknown_tokens_are_404_and_change_nothing(
    post, run_tasks, essay, followed, alice, user
):
    post(user, essay, "First.", paragraph=followed)
    run_tasks()
    path = unsubscribe_path(mail.outbox[0])
    token = path.removeprefix("/unsubscribe/").removesuffix("/")
    last, first = ("A" if token[-1] != "A" else "B"), ("A" if token[0] != "A" else "B")
    for bad in [token[:-1] + last, first + token[1:], token[:-1], "guess", str(alice.pk)]:
        response = Client().post(f"/unsubscribe/{bad}/", {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 404
    assert NotificationSettings.objects.get(user=alice).email == "immediately"
    assert not Subscription.objects.filter(user=alice, level="mute").exists()


def test_sending_an_email_writes_no_row_for_its_unsubscribe_link(
    post, essay, followed, alice, user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    comment = post(user, essay, "First.", paragraph=followed)
    services.fan_out(comment.pk)
    with CaptureQueriesContext(connection) as queries:
        assert services.send_pending_email(alice.pk) == 1
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert writes == []
    assert unsubscribe_path(mail.outbox[0]).startswith("/unsubscribe/")
    assert "subscriptions_unsubscribetoken" not in connection.introspection.table_names()


def test_the_daily_digest_groups_by_essay_and_thread_and_is_safe_to_run_twice(
    post, run_tasks, essay, followed, alice, user, make_essay
):
    services.notification_settings_set(user=alice, email="daily", follow_on_post=True)
    other = make_essay("Elsewhere.", slug="elsewhere")
    services.subscription_set(user=alice, essay=other, level=FOLLOW)
    post(user, essay, "On the first essay.", paragraph=followed)
    post(user, other, "On the second essay.")
    run_tasks()
    assert mail.outbox == []  # daily readers get nothing at once
    from django.core.management import call_command

    call_command("send_digests", stdout=__import__("io").StringIO())
    call_command("send_digests", stdout=__import__("io").StringIO())
    [digest] = mail.outbox
    assert "daily digest" in digest.subject
    assert "== A test essay ==" in digest.body and "On the first essay." in digest.body
    assert "On the second essay." in digest.body
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_name_stored_with_line_breaks_cannot_break_an_emails_headers(essay, alice, bob, post):
    """A name stored before names were checked: the email about its comment still goes,
    and its subject stays one header line."""
    from forum.accounts.models import User
    from forum.subscriptions.services import fan_out, send_pending_email

    User.objects.filter(pk=bob.pk).update(display_name="Bob\r\nBcc: victim@example.org")
    bob.refresh_from_db()
    first = post(alice, essay, "A question.")
    reply = post(bob, essay, "An answer.", parent=first)
    fan_out(reply.pk)
    mail.outbox = []
    assert send_pending_email(alice.pk) == 1
    (message,) = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.bcc == [] and "victim@example.org" not in message.message()["To"]
