"""A database outage in the browser, with and without JavaScript."""

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.e2e.conftest import assert_accessible

MESSAGE = "The site is briefly unavailable. Try again in a moment: your text is kept."


class Outage:
    """Every query fails, as when the database cannot be reached, until stopped (and
    whatever happens, at the end of the test)."""

    def __init__(self):
        self.patch = None

    def __call__(self) -> "Outage":
        self.patch = pytest.MonkeyPatch()
        self.patch.setattr(BaseDatabaseWrapper, "_cursor", unreachable)
        return self

    def stop(self) -> None:
        if self.patch:
            self.patch.undo()
            self.patch = None


def unreachable(connection, name=None):
    raise OperationalError("connection to server failed: Connection refused")


@pytest.fixture
def outage():
    controller = Outage()
    yield controller
    controller.stop()


def test_posting_in_a_panel_during_an_outage_says_so_and_keeps_the_text(
    log_in, live_server, live_essay, outage
):
    page = log_in(make_user("reader@example.org", "Rea Der"))
    page.goto(live_server.url + live_essay.get_absolute_url())
    third = page.locator(".block").nth(2)
    third.locator(".margin-count").click()
    panel = third.locator(".thread-panel")
    field = panel.get_by_label("Your comment")
    field.fill("Kept through the outage.")

    down = outage()
    with page.expect_response(lambda response: response.status == 503):
        panel.get_by_role("button", name="Post comment").click()
    expect(panel.get_by_role("alert")).to_have_text(MESSAGE)
    expect(field).to_have_value("Kept through the outage.")
    with page.expect_response(lambda response: response.status == 503):
        panel.get_by_role("button", name="Post comment").click()
    expect(panel.get_by_role("alert")).to_have_count(1)
    # preview too
    with page.expect_response(lambda response: response.status == 503):
        panel.get_by_role("button", name="Preview").click()
    expect(panel.get_by_role("alert")).to_have_count(1)
    down.stop()
    assert_accessible(page)

    panel.get_by_role("button", name="Post comment").click()
    expect(
        panel.locator(".comment-card").filter(has_text="Kept through the outage.")
    ).to_have_count(1)
    expect(panel.get_by_role("alert")).to_have_count(0)


def test_opening_a_panel_and_a_reply_during_an_outage_shows_the_message(
    log_in, live_server, live_essay, outage
):
    page = log_in(make_user("reader@example.org", "Rea Der"))
    page.goto(live_server.url + live_essay.get_absolute_url())
    third = page.locator(".block").nth(2)
    down = outage()
    with page.expect_response(lambda response: response.status == 503):
        third.locator(".margin-count").click()
    expect(third.locator(".thread-panel").get_by_role("alert")).to_have_text(
        "The site is briefly unavailable. Try again in a moment."
    )
    down.stop()
    third.locator(".margin-count").click()
    expect(third.locator(".thread-panel").get_by_label("Your comment")).to_be_visible()


def test_posting_without_javascript_during_an_outage_keeps_the_text_to_send_again(
    browser, live_server, live_essay, outage
):
    from tests.conftest import PASSWORD

    user = make_user("reader@example.org", "Rea Der")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email:").fill(user.email)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto(live_server.url + live_essay.get_absolute_url())
    third = page.locator(".block").nth(2)
    third.locator(".margin-count").click()
    page.get_by_label("Your comment").fill("Kept <b>without</b> JavaScript.")
    down = outage()
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("heading", name="The site is briefly unavailable")).to_be_visible()
    expect(page.get_by_label("Your text")).to_have_value("Kept <b>without</b> JavaScript.")
    down.stop()
    page.get_by_role("button", name="Send again").click()
    expect(
        page.locator(".comment-card").filter(has_text="Kept <b>without</b> JavaScript.")
    ).to_have_count(1)
    context.close()


def test_the_outage_page_is_accessible(page, live_server, live_essay, outage):
    down = outage()
    try:
        response = page.goto(live_server.url + live_essay.get_absolute_url())
        assert response.status == 503
        expect(page.get_by_role("link", name="Try again")).to_be_visible()
        assert_accessible(page)
    finally:
        down.stop()
