"""The reading page's layout in a real browser: threads in the margin that never move the
text, one grid for header and essay, footnotes at the text's measure, the keyboard, quoting
at the selection, and discussed passages. Screenshots of open threads are saved with the
test's artifacts (pytest-playwright's output folder, not the repository)."""

import os
import re

import pytest
from playwright.sync_api import expect

from forum.discussion.services import comment_post
from tests.conftest import make_user
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_passages import select_words

PARAGRAPH_TOPS = """() => Array.from(document.querySelectorAll('.essay .block'))
    .map(block => Math.round(block.getBoundingClientRect().top + window.scrollY))"""
FAMINES = "This policy of state terror"


@pytest.fixture(autouse=True)
def generous_limits(settings):
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]


@pytest.fixture(params=[True, False], ids=["with-js", "without-js"])
def any_page(request, browser):
    context = browser.new_context(java_script_enabled=request.param)
    page = context.new_page()
    page.javascript = request.param
    yield page
    context.close()


def page_box(locator):
    """A box in the page's coordinates, whatever the scroll."""
    return locator.evaluate(
        """element => { const r = element.getBoundingClientRect();
            return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY,
                    left: r.left, right: r.right}; }"""
    )


def open_thread(block):
    block.locator(".margin-count").click()
    panel = block.locator(".thread-panel")
    expect(panel.get_by_role("heading", name=re.compile("^Discussion of this"))).to_be_visible()
    return panel


def test_opening_one_then_two_threads_at_1280_moves_no_paragraph(page, live_server, live_essay):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + live_essay.get_absolute_url())
    before = page.evaluate(PARAGRAPH_TOPS)
    blocks = page.locator(".essay-body > .block--paragraph")
    first = open_thread(blocks.nth(1))
    assert page.evaluate(PARAGRAPH_TOPS) == before
    second = open_thread(blocks.nth(2))
    page.wait_for_timeout(100)  # a layout frame
    assert page.evaluate(PARAGRAPH_TOPS) == before

    text = page_box(page.locator(".essay-body"))
    one, two = page_box(first), page_box(second)
    # Beside the text, in the margin: each from its own paragraph down, and never overlapping.
    assert one["left"] >= text["right"] and two["left"] >= text["right"]
    assert one["top"] >= page_box(blocks.nth(1))["top"] - 1
    assert two["top"] >= one["bottom"]
    assert two["top"] >= page_box(blocks.nth(2))["top"] - 1
    # Each scrolls on its own.
    assert first.evaluate("element => getComputedStyle(element).overflowY") == "auto"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert_accessible(page)

    # Escape closes the thread the focus is in and gives the focus back to its control.
    second.get_by_role("heading").focus()
    page.keyboard.press("Escape")
    expect(second).to_be_empty()
    count = blocks.nth(2).locator(".margin-count")
    expect(count).to_be_focused()
    expect(count).to_have_attribute("aria-expanded", "false")
    # Then the one opened before it; its control, pressed again, would have closed it too.
    page.keyboard.press("Escape")
    expect(first).to_be_empty()
    expect(blocks.nth(1).locator(".margin-count")).to_be_focused()
    open_thread(blocks.nth(1))
    blocks.nth(1).locator(".margin-count").click()
    expect(first).to_be_empty()
    assert page.evaluate(PARAGRAPH_TOPS) == before


def test_closing_a_thread_keeps_the_words_written_in_it(log_in, live_server, live_essay):
    page = log_in(make_user("drafter@example.org", "Draf Ter"))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + live_essay.get_absolute_url())
    block = page.locator(".essay-body > .block--paragraph").nth(1)
    box = open_thread(block).get_by_label("Your comment")
    box.fill("Half a thought")
    block.locator(".thread-panel").get_by_role("button", name=re.compile("^Close")).click()
    expect(block.locator(".thread-panel")).to_be_empty()
    expect(open_thread(block).get_by_label("Your comment")).to_have_value("Half a thought")
    block.locator(".margin-count").click()  # the control closes it too
    expect(block.locator(".thread-panel")).to_be_empty()
    expect(open_thread(block).get_by_label("Your comment")).to_have_value("Half a thought")


def test_below_1248_pixels_a_thread_opens_under_its_paragraph(page, live_server, live_essay):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + live_essay.get_absolute_url())
    block = page.locator(".essay-body > .block--paragraph").nth(1)
    panel = open_thread(block)
    assert page_box(panel)["top"] >= page_box(block.locator(".block-body"))["bottom"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)


def test_header_and_essay_share_one_grid(any_page, live_server, live_essay):
    page = any_page
    page.set_viewport_size({"width": 1280, "height": 800})
    for address in (live_essay.get_absolute_url(), "/"):
        page.goto(live_server.url + address)
        site = page_box(page.locator(".site-name"))
        heading = page_box(page.locator("main h1").first)
        assert abs(site["left"] - heading["left"]) <= 1, address
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + live_essay.get_absolute_url())
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)


def test_a_members_header_stays_compact_on_a_phone(log_in, live_server, live_essay):
    member = make_user("phone@example.org", "Wilhelmina Longname-Reader")
    page = log_in(member)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + live_essay.get_absolute_url())
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 60
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.get_by_role("link", name=re.compile("Notifications"))).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert_accessible(page)


def test_notes_keep_the_texts_measure_and_both_directions_leave_room_above(
    any_page, live_server, live_essay
):
    page = any_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + live_essay.get_absolute_url())
    text = page_box(page.locator(".essay-body"))
    note = page.locator("#fn-12")
    assert page_box(note)["right"] <= text["right"] + 1
    page.locator("#fnref-12").click()
    expect(page).to_have_url(re.compile(r"#fn-12$"))
    expect(note).to_be_in_viewport()
    assert note.bounding_box()["y"] >= 20  # not flush at the top edge
    background = note.evaluate("element => getComputedStyle(element).backgroundColor")
    page_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != page_background  # the note one lands on is marked
    note.locator(".footnote-backref").click()
    expect(page).to_have_url(re.compile(r"#fnref-12$"))
    reference = page.locator("#fnref-12")
    line = float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize) * 1.6"))
    # The line above the reference stays in view.
    assert reference.bounding_box()["y"] >= 1.5 * line
    assert_accessible(page)


def test_a_skip_link_reaches_the_whole_essays_discussion(page, live_server, live_essay):
    page.goto(live_server.url + live_essay.get_absolute_url())
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the discussion of the whole essay")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#discussion$"))
    expect(page.get_by_role("heading", name="Discussion of the whole essay")).to_be_in_viewport()


def test_margin_controls_are_collapsed_before_any_script(browser, live_server, live_essay):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + live_essay.get_absolute_url())
        counts = page.locator(".margin-count")
        assert counts.count() > 30
        assert set(counts.evaluate_all("all => all.map(c => c.ariaExpanded)")) == {"false"}
        # Without a script the control is a link to the paragraph's own page.
        counts.first.click()
        expect(page.get_by_role("heading", name=re.compile("^Discussion of a"))).to_be_visible()
    finally:
        context.close()


def quote_button_near_selection(page, block):
    button = block.get_by_role("button", name="Comment on this passage")
    expect(button).to_be_visible()
    selection = page.evaluate(
        """() => { const rects = window.getSelection().getRangeAt(0).getClientRects();
            return {bottom: rects[rects.length - 1].bottom}; }"""
    )
    box = button.bounding_box()
    assert selection["bottom"] - 2 <= box["y"] <= selection["bottom"] + 30
    return button


def test_a_passage_is_quoted_from_the_selection_in_whole_words(log_in, live_server, live_essay):
    page = log_in(make_user("quoter@example.org", "Quo Ter"))
    page.goto(live_server.url + live_essay.get_absolute_url())
    block = page.locator(".essay-body > .block").filter(has_text=FAMINES)
    page.locator("main").focus()  # where a click in the text puts the focus
    select_words(page, block, "famines in the Uk")
    button = quote_button_near_selection(page, block)
    # The selection now shows the whole words that will be quoted.
    assert page.evaluate("window.getSelection().toString()") == "famines in the Ukraine"
    page.keyboard.press("Tab")  # from the selection, the keyboard reaches the button
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    panel = block.locator(".thread-panel")
    expect(panel.get_by_label("Quote (optional)")).to_have_value("famines in the Ukraine")
    expect(panel.get_by_label("Your comment")).to_be_focused()
    panel.get_by_label("Your comment").fill("Applebaum counts these.")
    panel.get_by_role("button", name="Post comment").click()
    comment = panel.locator(".comment-card").filter(has_text="Applebaum counts these.")
    expect(comment.locator(".comment-quote")).to_have_text("famines in the Ukraine")
    assert_accessible(page)

    # On the paragraph's own page, the same.
    panel.get_by_role("link", name="Open on its own page").click()
    page.wait_for_load_state()  # its script has run
    focus = page.locator(".context-focus")
    select_words(page, focus, "kulaks (wealthy peas")
    quote_button_near_selection(page, focus).click()
    form = page.locator("form.comment-form").first
    expect(form.get_by_label("Quote (optional)")).to_have_value("kulaks (wealthy peasants")
    expect(focus.locator("mark.quote-highlight").filter(has_text="kulaks")).to_have_count(1)
    expect(form.get_by_label("Your comment")).to_be_focused()
    form.get_by_label("Your comment").fill("Who counted as one?")
    form.get_by_role("button", name="Post comment").click()
    comment = page.locator(".comment-card").filter(has_text="Who counted as one?")
    expect(comment.locator(".comment-quote")).to_have_text("kulaks (wealthy peasants")
    assert_accessible(page)


def test_discussed_passages_are_highlighted_until_the_reader_hides_them(
    page, live_server, live_essay
):
    famines = live_essay.paragraphs.get(text__startswith=FAMINES)
    author = make_user("writer@example.org", "Wri Ter")
    for body in ("Applebaum counts these.", "So does Conquest."):
        comment_post(
            author=author, essay=live_essay, paragraph=famines, body=body, quote="Soviet Union"
        )
    page.goto(live_server.url + live_essay.get_absolute_url())
    block = page.locator(f"#{famines.anchor}")
    mark = block.locator("mark.passage-mark")
    expect(mark).to_have_text("Soviet Union")  # without opening the thread
    expect(block).to_have_class(re.compile(r"block--heat-1"))
    shown = mark.evaluate("element => getComputedStyle(element).backgroundColor")
    toggle = page.get_by_role("button", name="Highlight discussed passages")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert_accessible(page)
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    hidden = mark.evaluate("element => getComputedStyle(element).backgroundColor")
    assert hidden != shown and hidden == "rgba(0, 0, 0, 0)"
    page.reload()  # the reader's choice is remembered
    expect(page.get_by_role("button", name="Highlight discussed passages")).to_have_attribute(
        "aria-pressed", "false"
    )


def shoot(page, folder, name):
    page.wait_for_timeout(100)  # a layout frame
    path = os.path.join(folder, name)
    page.screenshot(path=path)
    assert os.path.getsize(path) > 10_000


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_open_threads(browser, live_server, live_essay, output_path, scheme):
    """Saved for a person to look at: the essay with two threads open, wide and narrow."""
    famines = live_essay.paragraphs.get(text__startswith=FAMINES)
    comment_post(
        author=make_user("shot@example.org", "Sho Ter"),
        essay=live_essay,
        paragraph=famines,
        body="Applebaum's count is the higher one.",
        quote="between six and seven million people",
    )
    os.makedirs(output_path, exist_ok=True)
    for width, height in ((1280, 900), (360, 740)):
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=scheme
        )
        try:
            page = context.new_page()
            page.goto(live_server.url + live_essay.get_absolute_url())
            block = page.locator(f"#{famines.anchor}")
            # The discussed passage and the heat mark, every thread closed.
            block.evaluate("element => window.scrollTo(0, element.offsetTop - 120)")
            shoot(page, output_path, f"essay-passages-{width}-{scheme}.png")
            open_thread(page.locator(".essay-body > .block--paragraph").nth(1))
            panel = open_thread(block)
            # Wide: both threads beside their paragraphs; narrow: the end of the paragraph,
            # its thread under it.
            (block if width > 1000 else panel).evaluate(
                "element => window.scrollTo(0, element.getBoundingClientRect().top"
                " + window.scrollY - (window.innerWidth > 1000 ? 480 : 300))"
            )
            shoot(page, output_path, f"essay-threads-{width}-{scheme}.png")
            assert_accessible(page)
        finally:
            context.close()
