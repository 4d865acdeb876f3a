"""A long discussion in the browser: "More threads" loads the next page in place, and
focus goes to the threads it brought."""

from playwright.sync_api import expect

from forum.discussion.threads import THREADS_PER_PAGE
from tests.conftest import add_comment
from tests.e2e.conftest import assert_accessible


def test_more_threads_loads_the_next_page_in_place(page, live_server, live_essay):
    existing = live_essay.comments.filter(paragraph=None, parent=None).count()
    for n in range(THREADS_PER_PAGE + 5):
        add_comment(live_essay, body=f"Thread number {n}.")
    page.goto(live_server.url + live_essay.get_absolute_url())
    threads = page.locator("#discussion .comment-body", has_text="Thread number")
    expect(threads).to_have_count(THREADS_PER_PAGE - existing)
    page.get_by_role("link", name="More threads").click()
    expect(threads).to_have_count(THREADS_PER_PAGE + 5)
    expect(page.locator("#discussion-page-2")).to_be_focused()
    expect(page.get_by_role("link", name="More threads")).to_have_count(0)
    assert page.url.endswith(live_essay.get_absolute_url())  # the same page, grown
    assert_accessible(page)
