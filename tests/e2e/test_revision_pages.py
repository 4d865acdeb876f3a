"""An editor previews a revision of the seed essay, publishes it, and readers see what
changed: the changed words marked, visibly and for screen readers."""

from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.e2e.conftest import assert_accessible

OLD_WORDS = "state terror and convict slave labour"
NEW_WORDS = "state terror and forced convict labour"
REMOVED_START = "Poles and Balts incarcerated"


def _revised(source: str) -> str:
    paragraphs = source.split("\n\n")
    kept = [p for p in paragraphs if not p.startswith(REMOVED_START)]
    revised = "\n\n".join(kept).replace(OLD_WORDS, NEW_WORDS, 1)
    return revised.replace("\n\nReviving a bourgeois", "\n\n* * *\n\nReviving a bourgeois", 1)


def _pseudo_content(page, selector: str, pseudo: str) -> str:
    return page.eval_on_selector(
        selector, f"(el) => getComputedStyle(el, '{pseudo}').getPropertyValue('content')"
    )


def test_an_editor_previews_and_publishes_a_revision_then_readers_see_the_words_marked(
    log_in, browser, live_server, live_essay
):
    editor = make_user("editor@example.org", "Ed Itor")
    editor.user_permissions.add(Permission.objects.get(codename="change_essay"))
    page = log_in(editor)
    page.goto(live_server.url + f"/essays/{live_essay.slug}/publish/")
    page.get_by_label("Markdown source").fill(_revised(live_essay.source))
    page.get_by_role("button", name="Preview").click()

    preview = page.locator(".revision-preview")
    expect(preview.locator("ins", has_text="forced")).to_be_visible()
    expect(preview.locator("del", has_text="slave")).to_be_visible()
    expect(preview.get_by_role("heading", name="Removed")).to_have_count(1)
    # Not colour alone: struck through and underlined; and words for screen readers.
    del_line = page.eval_on_selector(
        ".revision-preview del", "(el) => getComputedStyle(el).textDecorationLine"
    )
    assert del_line == "line-through"
    assert _pseudo_content(page, ".revision-preview del", "::before") == '" [deleted: "'
    assert _pseudo_content(page, ".revision-preview ins", "::before") == '" [inserted: "'
    assert_accessible(page)

    page.get_by_role("button", name="Publish this revision").click()
    expect(page.locator(".essay-revised")).to_be_visible()
    expect(page.locator("hr.separator")).to_have_count(1)
    page.get_by_role("link", name="what changed").click()
    expect(page.locator("ins", has_text="forced")).to_be_visible()
    expect(page.locator(".change-text", has_text=REMOVED_START)).to_be_visible()
    assert_accessible(page)
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"the changes page scrolls sideways at {width} px"
