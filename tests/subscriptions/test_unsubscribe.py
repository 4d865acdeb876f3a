"""Unsubscribe links carry a signed token and nothing is stored: whoever holds one may stop
that reader's email for its scope, and nobody can make one up or alter it."""

import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import resolve, reverse

from forum.subscriptions import services
from forum.subscriptions.models import NotificationSettings, Subscription
from forum.subscriptions.services import UNSUBSCRIBE_SALT, UnsubscribeLink

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def url(token: str) -> str:
    return reverse("subscriptions:unsubscribe", kwargs={"token": token})


def assert_nothing_stopped():
    assert not NotificationSettings.objects.filter(email="never").exists()
    assert not Subscription.objects.filter(level="mute").exists()


def assert_refused(token: str):
    """Refused the way an unknown token always was: 404 to a look and to both kinds of POST."""
    assert Client().get(url(token)).status_code == 404
    assert Client().post(url(token), ONE_CLICK).status_code == 404
    assert Client().post(url(token), {"scope": "all"}).status_code == 404
    assert_nothing_stopped()


def with_payload(token: str, payload) -> str:
    """The token's signature under another payload."""
    signature = token.rsplit(":", 1)[1]
    return f"{signing.b64_encode(signing.JSONSerializer().dumps(payload)).decode()}:{signature}"


@pytest.fixture
def thread(post, essay, user):
    return post(user, essay, "A thread.")


@pytest.fixture
def link(alice, essay, thread):
    return UnsubscribeLink(user=alice, essay=essay, thread=thread)


def test_a_token_is_short_survives_its_url_and_names_its_reader_and_scope(link):
    token = link.token
    assert ":" in token and len(token) < 100
    assert resolve(url(token)).kwargs == {"token": token}
    assert services.access_unsubscribe_link(token) == link


def test_a_look_at_the_link_offers_its_scopes_and_changes_nothing(link):
    response = Client().get(url(link.token))
    content = response.content.decode()
    assert response.status_code == 200
    assert "alice@example.org" in content and f'action="{url(link.token)}"' in content
    assert "Stop this thread" in content and "Stop this essay" in content
    assert "Stop all email" in content
    assert_nothing_stopped()


def test_a_one_click_post_stops_the_readers_email_without_login_or_csrf(link, bob):
    services.settings_for(bob)
    response = Client(enforce_csrf_checks=True).post(url(link.token), ONE_CLICK)
    assert response.status_code == 200
    assert NotificationSettings.objects.get(user=link.user).email == "never"
    assert NotificationSettings.objects.get(user=bob).email == "immediately"


def test_each_scope_on_the_page_stops_only_what_it_names(link, alice, essay, thread):
    Client().post(url(link.token), {"scope": "thread"})
    assert Subscription.objects.get(user=alice, thread=thread).level == "mute"
    Client().post(url(link.token), {"scope": "essay"})
    assert Subscription.objects.get(user=alice, paragraph=None, thread=None).level == "mute"
    assert services.settings_for(alice).email == "immediately"


def test_a_link_without_a_scope_offers_only_to_stop_everything(alice):
    token = UnsubscribeLink(user=alice).token
    content = Client().get(url(token)).content.decode()
    assert "Stop all email" in content and "Stop this" not in content


def test_a_payload_changed_under_its_signature_is_refused(link, alice, bob, essay, thread):
    token = link.token
    assert with_payload(token, [alice.pk, essay.pk, thread.pk]) == token  # the forgery is exact
    for payload in [
        [bob.pk, essay.pk, thread.pk],  # another reader
        [alice.pk, None, None],  # a wider scope
        [alice.pk, essay.pk, None],
        [alice.pk, essay.pk + 1, thread.pk],
    ]:
        assert_refused(with_payload(token, payload))


def test_an_altered_or_missing_signature_is_refused(link):
    token = link.token
    payload, signature = token.rsplit(":", 1)
    other = "A" if signature[0] != "A" else "B"
    for bad in [f"{payload}:{other}{signature[1:]}", token[:-1], f"{payload}:", payload]:
        assert_refused(bad)


@pytest.mark.parametrize(
    "sign",
    [
        lambda value: signing.Signer().sign_object(value),
        lambda value: signing.Signer(salt="accounts.email_change").sign_object(value),
        lambda value: signing.dumps(value),
        lambda value: signing.dumps(value, salt="forum.subscriptions"),
    ],
    ids=["no-salt", "other-salt", "dumps", "dumps-other-salt"],
)
def test_a_value_signed_with_our_key_for_another_purpose_is_refused(sign, alice):
    assert_refused(sign([alice.pk, None, None]))


@pytest.mark.parametrize(
    "bad",
    [
        "guess",
        "a:b",
        "::::",
        "é:é",
        "A" * 5000 + ":" + "B" * 43,
        signing.dumps([1, None, None], salt=UNSUBSCRIBE_SALT),  # our salt, timestamped
    ],
    ids=["word", "colon", "colons", "unicode", "oversized", "timestamped"],
)
def test_garbage_is_404_never_500(bad, alice):
    assert_refused(bad)


def test_a_signed_payload_of_the_wrong_shape_is_404_never_500(alice):
    signer = signing.Signer(salt=UNSUBSCRIBE_SALT)
    for payload in [
        {"user": alice.pk},
        [alice.pk],
        [alice.pk, None, None, None],
        [alice.pk, "x", None],
    ]:
        assert_refused(signer.sign_object(payload))


def test_a_link_for_a_reader_since_deleted_is_404(link, alice):
    token = link.token
    alice.delete()
    assert_refused(token)


def test_a_link_whose_essay_is_gone_still_stops_all_email(link, alice, essay):
    token = link.token
    essay.delete()
    content = Client().get(url(token)).content.decode()
    assert "Stop all email" in content and "Stop this" not in content
    assert Client().post(url(token), ONE_CLICK).status_code == 200
    assert services.settings_for(alice).email == "never"


def test_a_link_from_years_ago_still_works(link, monkeypatch):
    """Links do not expire: an old email's link must still stop the email."""
    years_ago = time.time() - 5 * 365 * 24 * 3600
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: years_ago)
        token = link.token
    assert Client().post(url(token), ONE_CLICK).status_code == 200
    assert services.settings_for(link.user).email == "never"


def test_links_survive_a_new_secret_key_only_while_the_old_one_is_a_fallback(link, settings):
    token = link.token
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a new secret key of fifty characters or thereabouts"
    assert services.access_unsubscribe_link(token) == link
    settings.SECRET_KEY_FALLBACKS = []
    assert_refused(token)
