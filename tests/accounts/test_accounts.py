"""Accounts through allauth's real flows: sign-up, confirmation, email and password changes,
plus our settings, profile, export and deletion pages."""

import json
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from forum.accounts.models import User
from forum.discussion import services
from forum.discussion.models import Comment
from forum.subscriptions.services import subscription_set
from tests.conftest import PASSWORD


def confirmation_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body).group(1)


@pytest.mark.django_db
def test_sign_up_with_a_display_name_then_confirm_by_email(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "newcomer@example.org",
            "display_name": "New Comer",
            "password1": "correct horse battery staple",
            "password2": "correct horse battery staple",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="newcomer@example.org")
    assert user.display_name == "New Comer"
    address = EmailAddress.objects.get(user=user)
    assert not address.verified
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["newcomer@example.org"]
    link = confirmation_link(mail.outbox[0])
    assert client.get(link).status_code == 200  # GET only shows the confirm button
    address.refresh_from_db()
    assert not address.verified
    client.post(link)
    address.refresh_from_db()
    assert address.verified
    assert services.has_verified_email(user)


@pytest.mark.django_db
def test_sign_up_refuses_a_blank_display_name_and_keeps_the_rest(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "blank@example.org",
            "display_name": "   ",
            "password1": "correct horse battery staple",
            "password2": "correct horse battery staple",
        },
    )
    assert response.status_code == 200
    assert 'value="blank@example.org"' in response.content.decode()
    assert not User.objects.filter(email="blank@example.org").exists()


def test_log_in_by_email_and_log_out(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/settings/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/accounts/settings/").status_code == 302


def test_password_reset_sends_a_working_link(client, user):
    client.post("/accounts/password/reset/", {"email": user.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mail.outbox[0].body)
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    client.post(
        form_url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"}
    )
    user.refresh_from_db()
    assert user.check_password("a brand new passphrase")


def test_changing_email_waits_for_confirmation_and_tells_the_old_address(reader_client, user):
    reader_client.post("/accounts/reauthenticate/", {"password": PASSWORD})  # asked for first
    reader_client.post("/accounts/email/", {"action_add": "", "email": "moved@example.org"})
    user.refresh_from_db()
    assert user.email == "reader@example.org"  # not before it is confirmed
    assert mail.outbox[-1].to == ["moved@example.org"]
    reader_client.post(confirmation_link(mail.outbox[-1]))
    user.refresh_from_db()
    assert user.email == "moved@example.org"
    told_old = [m for m in mail.outbox if m.to == ["reader@example.org"]]
    assert told_old and "moved@example.org" in told_old[-1].body


def test_changing_the_password(reader_client, user):
    response = reader_client.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "another long phrase",
            "password2": "another long phrase",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another long phrase")


def test_settings_change_the_display_name_and_refuse_a_blank_one(reader_client, user):
    assert reader_client.post("/accounts/settings/", {"display_name": "Renamed"}).status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Renamed"
    response = reader_client.post("/accounts/settings/", {"display_name": "  "})
    assert response.status_code == 400
    assert "Choose a name" in response.content.decode()


def test_profile_lists_published_comments_with_links(client, user, make_essay):
    essay = make_essay("One.", "Two.")
    paragraph = essay.paragraphs.first()
    shown = services.comment_post(
        author=user, essay=essay, body="Public words.", paragraph=paragraph
    )
    gone = services.comment_post(author=user, essay=essay, body="Withdrawn words.")
    services.comment_delete(comment=gone, actor=user)
    content = client.get(f"/members/{user.pk}/").content.decode()
    assert "Rea Der" in content and "Public words." in content
    assert "Withdrawn words." not in content
    assert f'href="{shown.get_absolute_url()}"' in content
    assert "1 published comment" in content


def test_profile_of_an_unknown_member_is_404(client, db):
    assert client.get("/members/999999/").status_code == 404


def test_export_is_a_json_download_of_profile_and_comments(reader_client, user, make_essay):
    essay = make_essay("One.")
    paragraph = essay.paragraphs.get()
    comment = services.comment_post(author=user, essay=essay, body="Exported.", paragraph=paragraph)
    services.comment_edit(comment=comment, editor=user, body="Exported, edited.")
    subscription_set(user=user, essay=essay, paragraph=paragraph, level="mute")
    response = reader_client.post("/accounts/export/")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["profile"]["email"] == user.email
    assert data["profile"]["display_name"] == "Rea Der"
    [exported] = data["comments"]
    assert exported["body"] == "Exported, edited."
    assert exported["essay"]["slug"] == essay.slug
    assert exported["paragraph"] == {"key": paragraph.key, "text": "One."}
    assert exported["earlier_versions"][0]["body"] == "Exported."
    # Posting made its author follow the thread; the paragraph was muted by hand.
    assert sorted(data["subscriptions"], key=lambda s: s["level"]) == [
        {"essay": essay.slug, "paragraph": None, "thread": comment.pk, "level": "follow"},
        {"essay": essay.slug, "paragraph": paragraph.key, "thread": None, "level": "mute"},
    ]
    assert reader_client.get("/accounts/export/").status_code == 405


def test_export_needs_a_login(client, db):
    response = client.post("/accounts/export/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


@pytest.mark.parametrize("choice", ["delete", "keep"])
def test_deleting_the_account_with_either_choice_for_comments(
    client, user, other_user, make_essay, choice
):
    essay = make_essay("One.")
    mine = services.comment_post(author=user, essay=essay, body="My words.")
    services.comment_post(author=other_user, essay=essay, body="Their reply.", parent=mine)
    client.force_login(user)
    wrong = client.post("/accounts/delete/", {"comments": choice, "password": "wrong"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.content.decode()
    response = client.post("/accounts/delete/", {"comments": choice, "password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert client.get("/accounts/settings/").status_code == 302  # logged out
    page = client.get(essay.get_absolute_url()).content.decode()
    assert "Their reply." in page
    mine.refresh_from_db()
    if choice == "delete":
        assert mine.status == Comment.Status.DELETED and mine.body == ""
        assert "My words." not in page and "Deleted by its author" in page
    else:
        assert "My words." in page and "A former member" in page


def test_account_pages_need_a_login(client, db):
    for url in ["/accounts/settings/", "/accounts/delete/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_account_email_links_point_at_site_url_whatever_host_was_asked(client, user, settings):
    """A reset asked for under another of the site's names (or a poisoned Host) still sends
    a link to SITE_URL: the key never travels to another address."""
    settings.ALLOWED_HOSTS = ["essays.example.org", "other-name.example.org"]
    settings.SITE_URL = "https://essays.example.org"
    client.post(
        "/accounts/password/reset/", {"email": user.email}, HTTP_HOST="other-name.example.org"
    )
    body = mail.outbox[0].body
    assert "https://essays.example.org/accounts/password/reset/key/" in body
    assert "other-name.example.org" not in body
