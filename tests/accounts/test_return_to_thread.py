"""Logging in or signing up from a thread brings the reader back to it: through the sign-up,
and through the confirmation link in the email too. Only a path on this site is followed."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import SEED_SLUG

PASSWORD = "correct horse battery staple"


@pytest.fixture
def paragraph(seeded_essay):
    return seeded_essay.paragraphs.live().commentable().order_by("position")[2]


def links_named(page: str, name: str) -> list[str]:
    return [
        html.unescape(href)
        for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page)
        if text.strip().lower() == name
    ]


def next_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["next"][0]


def sign_up(client, next_url):
    return client.post(
        f"/accounts/signup/?next={next_url}",
        {
            "email": "newcomer@example.org",
            "display_name": "New Comer",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": next_url,
        },
    )


def confirmation_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body).group(1)


def test_the_panel_offers_log_in_and_sign_up_back_to_the_thread(client, paragraph):
    panel = client.get(
        f"/essays/{SEED_SLUG}/p/{paragraph.key}/thread/", HTTP_HX_REQUEST="true"
    ).content.decode()
    thread = f"/essays/{SEED_SLUG}/p/{paragraph.key}/#discussion-{paragraph.key}"
    [log_in] = links_named(panel, "log in")
    [sign_up_link] = links_named(panel, "sign up")
    assert log_in.startswith("/accounts/login/") and next_of(log_in) == thread
    assert sign_up_link.startswith("/accounts/signup/") and next_of(sign_up_link) == thread


def test_the_reply_page_offers_sign_up_back_to_the_reply(client, seeded_essay):
    response = seeded_essay.comments.first()
    page = client.get(f"/comments/{response.pk}/reply/").content.decode()
    # The form's link, and the site's header's.
    links = links_named(page, "sign up")
    assert len(links) == 2
    assert {next_of(link) for link in links} == {f"/comments/{response.pk}/reply/"}


def test_the_login_pages_sign_up_link_keeps_the_way_back(client):
    page = client.get("/accounts/login/?next=/essays/x/").content.decode()
    assert any(next_of(link) == "/essays/x/" for link in links_named(page, "sign up"))


@pytest.mark.parametrize("browser", ["the same browser", "another browser"])
def test_signing_up_and_confirming_lands_back_on_the_thread(client, paragraph, browser):
    thread = f"/essays/{SEED_SLUG}/p/{paragraph.key}/"
    response = sign_up(client, thread)
    assert response.status_code == 302 and response["Location"] == thread
    link = confirmation_link(mail.outbox[-1])
    assert next_of(link) == thread
    # The email may be opened where the reader signed up, or anywhere else.
    confirming = client if browser == "the same browser" else Client()
    confirm_page = confirming.get(link).content.decode()
    # The confirm button's form carries the way back.
    [carried] = re.findall(r'name="next" value="([^"]*)"', confirm_page)
    confirmed = confirming.post(link, {"next": html.unescape(carried)})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == thread


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_a_next_off_this_site_is_never_followed(client, db, elsewhere):
    response = sign_up(client, elsewhere)
    assert response.status_code == 302
    assert "evil" not in response["Location"] and "javascript" not in response["Location"]
    link = confirmation_link(mail.outbox[-1])
    assert "next" not in link
    confirmed = Client().post(link, {"next": elsewhere})
    assert confirmed.status_code == 302
    assert "evil" not in confirmed["Location"] and "javascript" not in confirmed["Location"]
