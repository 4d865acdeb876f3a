"""Following a paragraph in a real browser, hearing about a reply, and unsubscribing in one
click from the email's List-Unsubscribe address."""

import io
import re

from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.e2e.conftest import assert_accessible


def run_worker():
    call_command(
        "worker",
        "--batch",
        "--no-startup-delay",
        "--interval",
        "0",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


def test_follow_a_paragraph_hear_of_a_comment_and_unsubscribe_in_one_click(
    log_in, browser, live_server, live_essay, settings
):
    settings.NOTIFICATION_EMAIL_WINDOW = 0
    settings.SITE_URL = live_server.url
    reader_a = make_user("a@example.org", "Reader A")
    reader_b = make_user("b@example.org", "Reader B")
    essay_url = live_server.url + live_essay.get_absolute_url()

    a = log_in(reader_a)
    a.goto(essay_url)
    fifth = a.locator(".block").nth(4)
    fifth.locator(".margin-count").click()
    panel = fifth.locator(".thread-panel")
    panel.get_by_role("button", name="Follow this paragraph").click()
    expect(panel.locator(".follow-state")).to_have_text("Following this paragraph")
    assert_accessible(a)

    b = log_in(reader_b)
    b.goto(essay_url)
    b_fifth = b.locator(".block").nth(4)
    b_fifth.locator(".margin-count").click()
    b_panel = b_fifth.locator(".thread-panel")
    b_panel.get_by_label("Your comment").fill("The famines deserve a paragraph of their own.")
    b_panel.get_by_role("button", name="Post comment").click()
    expect(b_panel.get_by_text("The famines deserve a paragraph of their own.")).to_be_visible()
    run_worker()

    a.reload()
    bell = a.locator("#bell")
    expect(bell).to_contain_text("1")
    bell.click()
    expect(a.get_by_role("heading", name="Notifications")).to_be_visible()
    assert_accessible(a)
    a.get_by_role("link", name=re.compile("Reader B commented on a paragraph you follow")).click()
    expect(a).to_have_url(re.compile(r"/p/[a-z0-9]+/#c-\d+$"))
    comment_id = a.url.rsplit("#", 1)[1]
    expect(a.locator(f"#{comment_id}")).to_contain_text("The famines deserve a paragraph")
    expect(a.locator(f"#{comment_id}")).to_be_in_viewport()
    expect(a.locator("#bell .badge")).to_have_count(0)
    assert_accessible(a)

    [email] = [m for m in mail.outbox if m.to == ["a@example.org"]]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url.startswith(live_server.url + "/unsubscribe/")

    stranger = browser.new_context()  # no session, no CSRF token: as a mail provider posts
    response = stranger.request.post(unsubscribe_url, form={"List-Unsubscribe": "One-Click"})
    assert response.status == 200
    page = stranger.new_page()
    page.goto(unsubscribe_url)
    expect(page.get_by_role("heading", name="Stop these emails")).to_be_visible()
    assert_accessible(page)
    stranger.close()

    b_panel.get_by_label("Your comment").fill("And a second thought.")
    b_panel.get_by_role("button", name="Post comment").click()
    expect(b_panel.get_by_text("And a second thought.")).to_be_visible()
    run_worker()
    assert len([m for m in mail.outbox if m.to == ["a@example.org"]]) == 1  # no more email
    a.reload()
    expect(a.locator("#bell")).to_contain_text("1")  # still told on the site
