"""Posting in a thread follows it, in the poster's request, without undoing a choice the
reader made there."""

from forum.subscriptions import services
from forum.subscriptions.models import NotificationSettings, Subscription

FOLLOW, MUTE = Subscription.Level.FOLLOW, Subscription.Level.MUTE


def thread_level(user, root):
    return (
        Subscription.objects.filter(user=user, thread=root).values_list("level", flat=True).first()
    )


def test_posting_follows_the_new_thread_and_saves_no_settings(post, essay, alice):
    top = post(alice, essay, "A new thread.")
    assert thread_level(alice, top) == FOLLOW
    # The default was read, not written: the member has no settings row until they save some.
    assert not NotificationSettings.objects.filter(user=alice).exists()


def test_replying_in_a_followed_thread_keeps_one_follow(post, essay, alice, bob):
    top = post(alice, essay, "Top.")
    post(bob, essay, "First reply.", parent=top)
    post(bob, essay, "Second reply.", parent=top)
    assert Subscription.objects.filter(user=bob, thread=top).count() == 1
    assert thread_level(bob, top) == FOLLOW


def test_replying_in_a_muted_thread_leaves_it_muted(post, essay, alice, bob):
    top = post(alice, essay, "Top.")
    services.subscription_set(user=bob, essay=essay, thread=top, level=MUTE)
    post(bob, essay, "A reply all the same.", parent=top)
    assert thread_level(bob, top) == MUTE


def test_with_the_preference_off_posting_follows_nothing(post, essay, alice):
    services.notification_settings_set(user=alice, email="immediately", follow_on_post=False)
    top = post(alice, essay, "Quietly.")
    assert thread_level(alice, top) is None


def test_the_preference_changed_after_posting_counts_from_the_next_post(post, essay, alice):
    """The preference is kept in the cache (every post asks it): changing it, through the
    settings page's service or any other save, counts from the very next post."""
    first = post(alice, essay, "Followed.")
    assert thread_level(alice, first) == FOLLOW
    services.notification_settings_set(user=alice, email="immediately", follow_on_post=False)
    second = post(alice, essay, "Not followed.")
    assert thread_level(alice, second) is None
    preferences = NotificationSettings.objects.get(user=alice)
    preferences.follow_on_post = True
    preferences.save()  # as the admin saves it
    third = post(alice, essay, "Followed again.")
    assert thread_level(alice, third) == FOLLOW
    preferences.delete()  # back to the default, which follows
    services.notification_settings_set(user=alice, email="immediately", follow_on_post=False)
    NotificationSettings.objects.filter(user=alice).delete()
    fourth = post(alice, essay, "The default again.")
    assert thread_level(alice, fourth) == FOLLOW


def test_a_preference_saved_while_a_post_reads_it_is_not_believed_afterwards(
    post, essay, alice, monkeypatch, django_capture_on_commit_callbacks
):
    """A post reads the preference from the database; before it keeps the answer, the member
    saves the opposite (committed, forgotten). The answer kept is from before the change:
    the next post must not believe it."""
    from django.core.cache import cache as shared_cache

    services.notification_settings_set(user=alice, email="never", follow_on_post=True)

    class SavedInBetween:
        def __getattr__(self, name):
            return getattr(shared_cache, name)

        def set(self, key, value, timeout=None):
            with django_capture_on_commit_callbacks(execute=True):
                services.notification_settings_set(user=alice, email="never", follow_on_post=False)
            shared_cache.set(key, value, timeout)

    monkeypatch.setattr(services, "cache", SavedInBetween())
    assert services.follows_on_post(alice.pk) is True  # read before the change
    monkeypatch.undo()
    top = post(alice, essay, "After the change.")
    assert thread_level(alice, top) is None
