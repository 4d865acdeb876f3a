import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum.subscriptions import services
from forum.subscriptions.models import Notification, Subscription
from forum.subscriptions.services import notification_reason
from tests.conftest import make_user

FOLLOW, MUTE = Subscription.Level.FOLLOW, Subscription.Level.MUTE


@pytest.mark.parametrize(
    "levels, parent_author, expected",
    [
        ({}, False, None),
        ({"essay": FOLLOW}, False, "essay"),
        ({"paragraph": FOLLOW}, False, "paragraph"),
        ({"thread": FOLLOW}, False, "thread"),
        ({"essay": FOLLOW, "thread": MUTE}, False, None),  # a muted thread in a followed essay
        ({"essay": FOLLOW, "paragraph": MUTE}, False, None),
        ({"paragraph": MUTE, "thread": FOLLOW}, False, "thread"),  # most specific wins
        ({"essay": FOLLOW, "paragraph": FOLLOW, "thread": FOLLOW}, False, "thread"),
        ({}, True, "reply"),
        ({"essay": MUTE, "paragraph": MUTE}, True, "reply"),  # replies get through...
        ({"thread": MUTE}, True, None),  # ...unless the thread is muted
        ({"thread": FOLLOW}, True, "reply"),  # one notification, the most specific reason
    ],
)
def test_notification_reason(levels, parent_author, expected):
    assert notification_reason(levels=levels, is_parent_author=parent_author) == expected


def reasons_for(comment):
    activity = Notification.objects.filter(
        comment=comment, reason__in=Notification.ACTIVITY_REASONS
    )
    return dict(activity.values_list("recipient__email", "reason"))


def test_who_is_notified_for_each_kind_of_follow(post, run_tasks, essay, fifth, alice, bob, user):
    services.subscription_set(user=alice, essay=essay, paragraph=fifth, level=FOLLOW)
    services.subscription_set(user=bob, essay=essay, level=FOLLOW)
    on_fifth = post(user, essay, "On the fifth.", paragraph=fifth)
    elsewhere = post(user, essay, "On the first.", paragraph=essay.paragraphs.get(position=0))
    run_tasks()
    assert reasons_for(on_fifth) == {"alice@example.org": "paragraph", "bob@example.org": "essay"}
    assert reasons_for(elsewhere) == {"bob@example.org": "essay"}
    assert not Notification.objects.filter(recipient=user).exists()  # never for your own


def test_replies_reach_the_parent_author_unless_the_thread_is_muted(
    post, run_tasks, essay, alice, bob
):
    top = post(alice, essay, "Top.")
    first = post(bob, essay, "Reply one.", parent=top)
    run_tasks()
    assert reasons_for(first) == {"alice@example.org": "reply"}
    services.subscription_set(user=alice, essay=essay, thread=top, level=MUTE)
    second = post(bob, essay, "Reply two.", parent=top)
    run_tasks()
    assert reasons_for(second) == {}


def test_a_reply_written_before_the_fan_out_brings_no_news_of_what_it_answered(
    post, run_tasks, essay, alice, bob
):
    """Bob answers Alice's new thread before the worker announces it: replying made him a
    follower, but Alice's comment is not news to him."""
    top = post(alice, essay, "A new thread.")
    reply = post(bob, essay, "An answer, at once.", parent=top)
    assert Subscription.objects.filter(user=bob, thread=top, level=FOLLOW).exists()
    run_tasks()
    assert reasons_for(top) == {}
    assert reasons_for(reply) == {"alice@example.org": "reply"}
    later = post(alice, essay, "And more.", parent=top)
    run_tasks()
    assert reasons_for(later) == {"bob@example.org": "thread"}  # news from then on


def test_posting_follows_the_thread_unless_the_preference_is_off(
    post, run_tasks, essay, alice, bob, user
):
    top = post(alice, essay, "Top.")
    post(bob, essay, "Bob joins.", parent=top)
    services.notification_settings_set(user=user, email="immediately", follow_on_post=False)
    post(user, essay, "User joins quietly.", parent=top)
    third = post(alice, essay, "Alice again.", parent=top)
    run_tasks()
    assert reasons_for(third) == {"bob@example.org": "thread"}


def test_held_comments_notify_only_once_approved_and_removed_ones_take_theirs(
    post, run_tasks, essay, alice, settings, django_capture_on_commit_callbacks
):
    from forum.moderation import services as moderation
    from forum.moderation.services import moderators_group

    moderator = make_user("mod@example.org", "Mod")
    moderator.groups.add(moderators_group())
    services.subscription_set(user=alice, essay=essay, level=FOLLOW)
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    newcomer = make_user("new@example.org", "Newcomer")
    held = post(newcomer, essay, "Held first.")
    run_tasks()
    assert reasons_for(held) == {}
    assert Notification.objects.filter(recipient=newcomer, reason="held").exists()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.comment_approve(actor=moderator, comment=held)
    run_tasks()
    assert reasons_for(held) == {"alice@example.org": "essay"}
    assert Notification.objects.filter(recipient=newcomer, reason="approved").exists()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.comment_remove(actor=moderator, comment=held, reason_code="spam")
    assert reasons_for(held) == {}
    removed = Notification.objects.get(recipient=newcomer, reason="removed")
    assert removed.detail == "Spam"


def test_the_posting_request_does_the_same_work_with_1_and_1000_followers(
    client, essay, fifth, user, django_capture_on_commit_callbacks
):
    client.force_login(user)
    url = f"/essays/{essay.slug}/p/{fifth.key}/comment/"

    def queries_to_post(body):
        with (
            django_capture_on_commit_callbacks(execute=True),
            CaptureQueriesContext(connection) as ctx,
        ):
            assert client.post(url, {"body": body}).status_code == 302
        return len(ctx.captured_queries)

    follower = make_user("one@example.org", "One")
    services.subscription_set(user=follower, essay=essay, paragraph=fifth, level=FOLLOW)
    queries_to_post("Warm-up: the first post follows the thread.")
    with_one = queries_to_post("With one follower.")
    from forum.accounts.models import User

    many = User.objects.bulk_create(
        [User(email=f"f{n}@example.org", display_name=f"F{n}") for n in range(999)]
    )
    Subscription.objects.bulk_create(
        [Subscription(user=u, essay=essay, paragraph=fifth, level=FOLLOW) for u in many]
    )
    with_thousand = queries_to_post("With a thousand followers.")
    assert with_one == with_thousand
    assert Notification.objects.count() == 0  # the fan-out waits for the worker


def test_fan_out_in_the_worker_reaches_a_thousand_followers_once_each(
    post, run_tasks, essay, fifth, user
):
    from forum.accounts.models import User

    many = User.objects.bulk_create(
        [User(email=f"f{n}@example.org", display_name=f"F{n}") for n in range(1000)]
    )
    Subscription.objects.bulk_create(
        [Subscription(user=u, essay=essay, level=FOLLOW) for u in many]
    )
    Subscription.objects.bulk_create(
        [Subscription(user=u, essay=essay, paragraph=fifth, level=FOLLOW) for u in many[:10]]
    )
    comment = post(user, essay, "To all.", paragraph=fifth)
    run_tasks()
    assert Notification.objects.filter(comment=comment).count() == 1000
    assert Notification.objects.filter(comment=comment, reason="paragraph").count() == 10
    services.fan_out(comment.pk)  # a second run adds nothing
    assert Notification.objects.filter(comment=comment).count() == 1000
    assert len(mail.outbox) == 0  # none of them has a confirmed address
