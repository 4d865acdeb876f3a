"""Sign-in hardening: the admin has no login form of its own to guess passwords against, a
session alone cannot change the account's email address, and no form is a free password oracle."""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account import app_settings as allauth_settings
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from django.core import mail

from forum.accounts.models import User
from tests.conftest import PASSWORD

OWNER_PASSWORD = "owner-password-123"


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_superuser(
        email="owner@example.org", password=OWNER_PASSWORD, display_name="Owner"
    )


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def next_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("next", [None])[0]


# The admin's login


def test_the_admin_login_sends_to_the_site_login_keeping_a_local_next(client, db):
    response = client.get("/admin/login/?next=/admin/essays/essay/")
    assert response.status_code == 302
    assert urlsplit(response.url).path == "/accounts/login/"
    assert next_of(response.url) == "/admin/essays/essay/"


def test_the_admin_login_drops_a_next_that_leaves_the_site(client, db):
    response = client.get("/admin/login/?next=https://evil.example/")
    assert urlsplit(response.url).path == "/accounts/login/"
    assert not next_of(response.url).startswith("https://evil.example")
    assert urlsplit(next_of(response.url)).path == "/admin/login/"


@pytest.mark.parametrize(
    "url, login_field",
    [("/admin/login/", "username"), ("/accounts/login/", "login")],
)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, owner, url, login_field):
    for attempt in range(30):
        client.post(url, {login_field: owner.email, "password": f"wrong-guess-{attempt}"})
    assert not is_logged_in(client)
    client.post(url, {login_field: owner.email, "password": OWNER_PASSWORD})
    assert not is_logged_in(client)
    assert client.get("/admin/").status_code == 302


def test_a_post_to_the_admin_login_never_logs_in(client, owner):
    response = client.post("/admin/login/", {"username": owner.email, "password": OWNER_PASSWORD})
    assert response.status_code == 302
    assert urlsplit(response.url).path == "/accounts/login/"
    assert not is_logged_in(client)


def test_staff_log_in_through_the_site_login_and_reach_the_admin(client, owner):
    response = client.get("/admin/", follow=True)
    login_url = response.redirect_chain[-1][0]
    assert urlsplit(login_url).path == "/accounts/login/"
    assert next_of(login_url) == "/admin/"
    response = client.post(
        "/accounts/login/",
        {"login": owner.email, "password": OWNER_PASSWORD, "next": next_of(login_url)},
    )
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_reader_logged_in_is_refused_the_admin(reader_client):
    assert reader_client.get("/admin/login/").status_code == 403
    assert reader_client.get("/admin/", follow=True).status_code == 403


# Changing the email address


def log_in(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302


def reauthenticate(client, next_url=None):
    url = "/accounts/reauthenticate/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"password": PASSWORD})


def age_the_session(client, seconds):
    """Move every sign-in this session recorded `seconds` into the past."""
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    for record in records:
        record["at"] -= seconds
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()


def add_email(client, address):
    return client.post("/accounts/email/", {"action_add": "", "email": address})


def test_an_old_session_must_reauthenticate_to_add_an_email_then_it_is_added(client, user):
    log_in(client, user)
    reauthenticate(client)
    age_the_session(client, allauth_settings.REAUTHENTICATION_TIMEOUT + 60)
    mail.outbox.clear()

    response = add_email(client, "thief@example.org")
    assert response.status_code == 302
    assert urlsplit(response.url).path == "/accounts/reauthenticate/"
    assert next_of(response.url) == "/accounts/email/"
    assert not EmailAddress.objects.filter(email="thief@example.org").exists()
    assert mail.outbox == []

    wrong = client.post(response.url, {"password": "not-the-password"})
    assert wrong.status_code == 200
    assert not EmailAddress.objects.filter(email="thief@example.org").exists()

    client.post(response.url, {"password": PASSWORD})  # resumes the suspended request
    assert EmailAddress.objects.filter(user=user, email="thief@example.org").exists()
    assert mail.outbox[-1].to == ["thief@example.org"]


def test_a_session_without_any_recorded_sign_in_must_reauthenticate(reader_client, user):
    response = add_email(reader_client, "thief@example.org")
    assert urlsplit(response.url).path == "/accounts/reauthenticate/"
    assert not EmailAddress.objects.filter(email="thief@example.org").exists()


def test_a_recent_reauthentication_lets_the_email_be_added_directly(client, user):
    log_in(client, user)
    reauthenticate(client)
    response = add_email(client, "moved@example.org")
    assert response.status_code == 302 and response.url == "/accounts/email/"
    assert EmailAddress.objects.filter(user=user, email="moved@example.org").exists()


def test_removing_an_email_also_needs_a_recent_password(client, user):
    log_in(client, user)
    reauthenticate(client)
    add_email(client, "second@example.org")
    age_the_session(client, allauth_settings.REAUTHENTICATION_TIMEOUT + 60)
    response = client.post("/accounts/email/", {"action_remove": "", "email": "second@example.org"})
    assert urlsplit(response.url).path == "/accounts/reauthenticate/"
    assert EmailAddress.objects.filter(user=user, email="second@example.org").exists()


# Deleting the account


def test_the_delete_form_cannot_be_used_to_guess_the_password(reader_client, user):
    for attempt in range(10):
        response = reader_client.post(
            "/accounts/delete/", {"comments": "keep", "password": f"wrong-guess-{attempt}"}
        )
        assert response.status_code == 400
    response = reader_client.post("/accounts/delete/", {"comments": "keep", "password": PASSWORD})
    assert response.status_code == 429
    assert User.objects.filter(pk=user.pk).exists()
