"""Comment on a chosen passage, see it highlighted, and find it again after a revision."""

import re

from playwright.sync_api import expect

from essays.services import essay_import
from tests.conftest import SEED_SOURCE, make_user
from tests.e2e.conftest import assert_accessible

PASSAGE = "penal colonies"
OLD_SENTENCE = (
    "Stalin greatly expanded Lenin and Trotsky’s original kontslager (concentration camps) "
    "and penal colonies under his first industrialization"
)
NEW_SENTENCE = (
    "Stalin greatly expanded Lenin and Trotsky’s original kontslager (concentration camps) "
    "and exile settlements under his first industrialization"
)


def select_words(page, block, words):
    page.evaluate(
        """([id, words]) => {
            const body = document.getElementById(id).querySelector('.block-body');
            const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const node = walker.currentNode, at = node.data.indexOf(words);
                if (at === -1) continue;
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + words.length);
                const selection = window.getSelection();
                selection.removeAllRanges();
                selection.addRange(range);
                document.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
                return;
            }
            throw new Error('words not found');
        }""",
        [block.get_attribute("id"), words],
    )


def test_comment_on_a_passage_then_see_it_survive_a_revision(
    log_in, browser, live_server, live_essay
):
    reader = make_user("quoter@example.org", "Quo Ter")
    page = log_in(reader)
    page.goto(live_server.url + live_essay.get_absolute_url())
    third = page.locator(".block").nth(2)
    select_words(page, third, PASSAGE)
    page.get_by_role("button", name="Comment on this passage").click()
    panel = third.locator(".thread-panel")
    expect(panel.get_by_label("Quote (optional)")).to_have_value(PASSAGE)
    expect(third.locator("mark.quote-highlight")).to_have_text(PASSAGE)
    expect(panel.get_by_label("Your comment")).to_be_focused()
    panel.get_by_label("Your comment").fill("Penal colonies were older than the Bolsheviks.")
    panel.get_by_role("button", name="Post comment").click()
    comment = panel.locator(".comment-card").filter(has_text="Penal colonies were older")
    expect(comment.locator(".comment-quote")).to_have_text(PASSAGE)
    expect(third.locator("mark.quote-highlight")).to_have_text(PASSAGE)
    assert_accessible(page)

    source = SEED_SOURCE.read_text(encoding="utf-8")
    assert OLD_SENTENCE in source
    result = essay_import(source=source.replace(OLD_SENTENCE, NEW_SENTENCE))
    assert result.revised

    page.reload()
    expect(page.locator(".essay-revised")).to_contain_text("revision 2")
    third = page.locator(".block").nth(2)
    expect(third).to_contain_text("exile settlements")
    third.locator(".margin-count").click()
    comment = third.locator(".thread-panel .comment-card").filter(
        has_text="Penal colonies were older"
    )
    expect(comment.locator(".comment-quote")).to_have_text(PASSAGE)
    expect(comment).to_contain_text("This passage is no longer in the paragraph")
    notice = comment.locator(".anchor-notice")
    expect(notice).to_contain_text("This paragraph has changed since this comment was written")
    notice.locator("summary").click()
    expect(notice.locator("blockquote")).to_contain_text("and penal colonies under his first")
    expect(third.locator("mark.quote-highlight")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("link", name="what changed").click()
    expect(page.get_by_role("heading", name="What changed in revision 2")).to_be_visible()
    expect(page.locator("main")).to_contain_text("1 changed")
    assert_accessible(page)
    page.get_by_role("link", name="Read revision 1").click()
    expect(page.locator("main")).to_contain_text("and penal colonies under his first")
    assert re.search(r"/r/1/$", page.url)
    assert_accessible(page)
