"""Live threads in a real browser: an open discussion says when someone else has written in
it, and shows it in place without taking the reader's focus or their half-written text."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user, post
from tests.e2e.conftest import assert_accessible

# Seconds between polls here (20 on the site): the server says it in X-Poll-Interval.
POLL_SECONDS = 1


@pytest.fixture(autouse=True)
def quick_polls(settings):
    settings.LIVE_THREADS_POLL_SECONDS = POLL_SECONDS


@pytest.fixture
def third(live_essay):
    return live_essay.paragraphs.live().order_by("position")[2]


def hide_tab(page, hidden: bool) -> None:
    """What switching to another tab and back tells the page (headless tabs stay visible)."""
    page.evaluate(
        """hidden => {
          if (hidden) Object.defineProperty(document, "visibilityState", {
            configurable: true, get: () => "hidden" });
          else delete document.visibilityState;
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def first_question(page, paragraph):
    """Waits for the discussion's first question (the moment it counts from): what is
    written before that moment is in the discussion the reader was shown."""
    return page.expect_response(
        lambda r: r.url.endswith(f"/p/{paragraph.key}/new/") and r.status == 204
    )


def test_an_open_panel_shows_a_new_comment_by_another_reader(
    log_in, live_server, live_essay, third
):
    reader = make_user("reader@example.org", "Rea Der")
    other = make_user("other@example.org", "Otto Ther")
    page = log_in(reader)
    page.goto(live_server.url + live_essay.get_absolute_url())
    with first_question(page, third):
        page.locator(".block").nth(2).locator(".margin-count").click()
    panel = page.locator(f"#panel-{third.key}")
    expect(panel.get_by_role("heading", name="Discussion of this paragraph")).to_be_focused()
    draft = panel.get_by_label("Your comment")
    draft.fill("Half of a thought")

    post(other, live_essay, "Written while you were reading.", paragraph=third)
    status = panel.get_by_role("status").filter(has_text="new comment")
    expect(status).to_have_text(re.compile(r"^\s*1 new comment:\s*Show"), timeout=5000)
    expect(draft).to_be_focused()  # announced, never focused
    assert_accessible(page)

    post(other, live_essay, "And a second thought.", paragraph=third)
    expect(status).to_have_text(re.compile(r"^\s*2 new comments:\s*Show"), timeout=5000)
    with first_question(page, third):  # the discussion shown again is watched again
        status.get_by_role("button", name="Show").click()
    first_new = panel.locator(".comment-card").filter(has_text="Written while you were reading.")
    expect(first_new).to_be_focused()
    expect(panel.locator(".comment-card").filter(has_text="And a second thought.")).to_be_visible()
    expect(panel.get_by_text("new comment")).to_have_count(0)
    expect(panel.get_by_label("Your comment")).to_have_value("Half of a thought")
    expect(page).to_have_url(re.compile(r"/essays/[^/]+/$"))  # never left the essay
    assert_accessible(page)

    # ... and the next comment is announced too.
    post(other, live_essay, "A third one.", paragraph=third)
    expect(panel.get_by_role("status").filter(has_text="new comment")).to_contain_text(
        "1 new comment", timeout=5000
    )


def test_a_paragraphs_page_keeps_the_readers_order_when_it_shows_what_is_new(
    page, live_server, live_essay, third
):
    other = make_user("other@example.org", "Otto Ther")
    post(other, live_essay, "An early comment.", paragraph=third)
    with first_question(page, third):
        page.goto(live_server.url + third.get_absolute_url() + "?order=newest")
    region = page.locator(f"#discussion-{third.key}")
    post(other, live_essay, "A late comment.", paragraph=third)
    region.get_by_role("button", name="Show").click()
    cards = region.locator(".comment-card")
    expect(cards.first).to_contain_text("A late comment.")  # newest first, as the reader chose
    expect(cards.first).to_be_focused()
    expect(cards.nth(1)).to_contain_text("An early comment.")
    expect(page).to_have_url(re.compile(r"\?order=newest$"))


def test_polling_pauses_in_a_hidden_tab_and_stops_when_the_panel_closes(
    page, live_server, live_essay, third
):
    asked = []
    page.on(
        "request", lambda request: asked.append(request.url) if "/new/?" in request.url else None
    )
    page.goto(live_server.url + live_essay.get_absolute_url())
    page.locator(".block").nth(2).locator(".margin-count").click()
    panel_polls = f"/p/{third.key}/new/?"
    expect(page.locator(f"#panel-{third.key} .discussion")).to_be_visible()
    page.wait_for_timeout(1500 * POLL_SECONDS)
    assert any(panel_polls in url for url in asked)

    hide_tab(page, True)
    page.wait_for_timeout(300)
    before = len(asked)
    page.wait_for_timeout(2500 * POLL_SECONDS)
    assert len(asked) == before  # nothing asked while nobody looks
    hide_tab(page, False)
    page.wait_for_timeout(500)
    assert len(asked) > before  # asked at once when seen again

    page.locator(f"#panel-{third.key}").get_by_role("button", name="Close").click()
    page.wait_for_timeout(1500 * POLL_SECONDS)  # a poll under way may still end
    closed_at = sum(panel_polls in url for url in asked)
    page.wait_for_timeout(2500 * POLL_SECONDS)
    assert sum(panel_polls in url for url in asked) == closed_at
    assert asked[-1].split("?")[0].endswith(f"/essays/{live_essay.slug}/new/")  # the essay's own


def test_without_javascript_nothing_changes(browser, live_server, live_essay, third):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + third.get_absolute_url())
        post(make_user("other@example.org", "Otto Ther"), live_essay, "Unseen.", paragraph=third)
        page.wait_for_timeout(2000 * POLL_SECONDS)
        expect(page.get_by_text("new comment")).to_have_count(0)
        expect(page.get_by_role("button", name="Show")).to_have_count(0)
        page.reload()  # as ever, a reload shows it
        expect(page.locator(".comment-card").filter(has_text="Unseen.")).to_be_visible()
    finally:
        context.close()
