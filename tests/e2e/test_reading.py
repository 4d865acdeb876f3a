"""The reading journeys in a real browser: Debian's chromium against a live server."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible


def test_the_essay_renders_with_its_notes_and_the_two_responses(page, live_server, live_essay):
    page.goto(live_server.url + live_essay.get_absolute_url())
    expect(page.locator("h1")).to_have_text("Stalinism: The Inner Truth of Bolshevism\u00a01924-91")
    expect(page.locator(".essay-alternate-title")).to_have_text(
        "The Inner Truth of Bolshevism: Stalinism 1924-1991"
    )
    expect(page.locator(".block")).to_have_count(53)
    expect(page.locator(".block--footnote")).to_have_count(15)
    expect(page.get_by_role("heading", name="Coda on the Numbers")).to_be_visible()
    responses = page.locator(".discussion .comment")
    expect(responses).to_have_count(2)
    expect(responses.nth(0).locator(".comment-author")).to_have_text("Kristi")
    expect(responses.nth(1).locator(".comment-author")).to_have_text("An unnamed reader")
    assert_accessible(page)


def test_a_footnote_reference_jumps_to_its_note_and_the_note_links_back(
    page, live_server, live_essay
):
    page.goto(live_server.url + live_essay.get_absolute_url())
    page.locator("#fnref-12").click()
    expect(page).to_have_url(re.compile(r"#fn-12$"))
    expect(page.locator("#fn-12")).to_be_in_viewport()
    expect(page.locator("#fnref-12")).not_to_be_in_viewport()
    page.locator("#fn-12 .footnote-backref").click()
    expect(page).to_have_url(re.compile(r"#fnref-12$"))
    expect(page.locator("#fnref-12")).to_be_in_viewport()


def test_a_paragraph_permalink_scrolls_to_its_paragraph(page, live_server, live_essay):
    paragraph = live_essay.paragraphs.get(text__startswith="Leopold II")
    page.goto(live_server.url + live_essay.get_absolute_url() + f"#{paragraph.anchor}")
    block = page.locator(f"#{paragraph.anchor}")
    expect(block).to_be_in_viewport()
    expect(block).to_contain_text("Yahya Khan (Pakistan: 1969-71).")
    # The visible permalink control gives the same address.
    first = live_essay.paragraphs.get(position=0)
    page.goto(live_server.url + live_essay.get_absolute_url())
    page.locator(f"#{first.anchor} .permalink").click()
    expect(page).to_have_url(re.compile(f"#{first.anchor}$"))


def test_the_page_works_at_360_pixels_wide(page, live_server, live_essay):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + live_essay.get_absolute_url())
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360
    first = page.locator(".block").first
    expect(first.locator(".margin-count")).to_be_visible()
    body_box = first.locator(".block-body").bounding_box()
    assert body_box["width"] > 250  # the text keeps most of the screen
    assert_accessible(page)


def test_a_margin_count_opens_the_thread_in_place_then_its_own_page(page, live_server, live_essay):
    page.goto(live_server.url + live_essay.get_absolute_url())
    block = page.locator(".block--paragraph").nth(3)
    anchor = block.get_attribute("id")
    count = block.locator(".margin-count")
    count.click()
    panel = block.locator(".thread-panel")
    heading = panel.get_by_role("heading", name="Discussion of this paragraph")
    expect(heading).to_be_focused()
    expect(count).to_have_attribute("aria-expanded", "true")
    expect(page).to_have_url(re.compile(r"/essays/[^/]+/$"))  # no reload, no navigation
    assert_accessible(page)
    panel.get_by_role("button", name=re.compile("^Close")).click()
    expect(panel).to_be_empty()
    expect(count).to_be_focused()
    count.click()
    panel.get_by_role("link", name="Open on its own page").click()
    expect(page.get_by_role("heading", name="Discussion of a paragraph")).to_be_visible()
    expect(page.locator(".context-focus")).to_contain_text("This policy of state terror")
    expect(page.locator(".context--before")).to_contain_text("Stalin greatly expanded")
    assert_accessible(page)
    page.get_by_role("link", name="Back to this paragraph in the essay").click()
    expect(page).to_have_url(re.compile(f"#{anchor}$"))
    expect(page.locator(f"#{anchor}")).to_be_in_viewport()


def test_home_and_not_found_pages_are_in_the_sites_style(page, live_server, live_essay):
    page.goto(live_server.url + "/")
    link = page.get_by_role("link", name=live_essay.title)
    expect(link).to_be_visible()
    expect(page.locator(".essay-list-meta")).to_contain_text("2 comments")
    assert_accessible(page)
    response = page.goto(live_server.url + "/essays/no-such-essay/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page)


def test_keyboard_users_can_skip_to_the_text_and_see_focus(page, live_server, live_essay):
    page.goto(live_server.url + live_essay.get_absolute_url())
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none"
