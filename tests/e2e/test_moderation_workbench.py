"""A moderator clears a queue of 20 reported and held comments from the keyboard without
leaving the queue page: with JavaScript, by the page's keys (each card answers in place,
with its undo); without it, by Tab and Enter on each card's forms, which come back to the
queue with the outcome and its undo."""

import pytest
from playwright.sync_api import expect

from forum.discussion.models import Comment
from forum.moderation.models import Decision, Flag
from forum.moderation.services import moderators_group
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import assert_accessible
from tests.moderation.queues import fill_queue

QUEUE_SIZE = 20


@pytest.fixture
def queue(live_essay, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    settings.MODERATION_HIDE_THRESHOLD = 2
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]
    settings.MODERATION_NEW_COMMENTS_PER_HOUR = 1000
    settings.REPORT_RATE_LIMITS = [(1000, 60)]
    moderator = make_user("mod@example.org", "Mo Derator")
    moderator.groups.add(moderators_group())
    comments = fill_queue(essay=live_essay, moderator=moderator, count=QUEUE_SIZE)
    return moderator, comments


@pytest.fixture(params=[True, False], ids=["with-js", "without-js"])
def moderator_page(request, browser, live_server, queue):
    moderator, _comments = queue
    context = browser.new_context(java_script_enabled=request.param)
    page = context.new_page()
    page.javascript = request.param
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email:").fill(moderator.email)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("link", name=moderator.display_name)).to_be_visible()
    yield page
    context.close()


def should_remove(number: int) -> bool:
    """Every third comment goes; the others stay."""
    return number % 3 == 0


def focused_is(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, locator, limit=20):
    """Press Tab until `locator` has the focus, as a keyboard user would."""
    for _press in range(limit):
        if focused_is(locator):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def decide_with_keys(page, number: int, comment) -> None:
    """The focused card is `comment`'s: approve it with "a", or remove it with "r", "o"
    (Off-topic) and Enter. The card then shows the outcome, and focus moves on."""
    card = page.locator(f"#card-{comment.pk}")
    expect(card).to_be_focused()
    if should_remove(number):
        page.keyboard.press("r")
        expect(card.get_by_label("Public reason")).to_be_focused()
        page.keyboard.press("o")
        page.keyboard.press("Enter")
        expect(card).to_contain_text("removed (Off-topic)")
    else:
        page.keyboard.press("a")
        expect(card).to_contain_text("approved")
    expect(card).to_have_attribute("data-decided", "")


def decide_with_forms(page, number: int, comment) -> None:
    """Tab from the card's checkbox to its buttons, and Enter: a plain form, and back."""
    card = page.locator(f"#card-{comment.pk}")
    card.get_by_role("checkbox").focus()
    if should_remove(number):
        tab_to(page, card.get_by_label("Public reason"))
        page.keyboard.press("o")
        tab_to(page, card.get_by_role("button", name="Remove"))
    else:
        tab_to(
            page,
            card.get_by_role("button", name="Approve").or_(
                card.get_by_role("button", name="Publish, ignoring reports")
            ),
        )
    page.keyboard.press("Enter")
    expect(page.locator(".latest-decisions")).to_contain_text(f"Comment #{comment.pk}")
    expect(card).to_have_count(0)


def test_a_moderator_clears_a_mixed_queue_of_20_from_the_keyboard(
    moderator_page, live_server, queue
):
    page = moderator_page
    _moderator, comments = queue
    queue_url = live_server.url + "/moderation/?queue=all"
    page.goto(queue_url)
    expect(page.get_by_role("heading", name="Everything waiting for a decision")).to_be_visible()
    expect(page.locator(".queue [data-card]")).to_have_count(QUEUE_SIZE)
    expect(page.locator(".shortcuts")).to_contain_text("next / previous card")
    expect(page.locator(".why--held").first).to_contain_text("Held because")
    expect(page.locator(".why--reported").first).to_contain_text("Spam × 1")
    assert_accessible(page)

    if page.javascript:
        page.keyboard.press("j")
        for number, comment in enumerate(comments):
            decide_with_keys(page, number, comment)
            if number == 1:
                # Back to the card just decided, undo, and decide it again (once the focus
                # has moved on to the next card, as a moderator sees it do).
                expect(page.locator(f"#card-{comments[number + 1].pk}")).to_be_focused()
                page.keyboard.press("k")
                page.keyboard.press("u")
                card = page.locator(f"#card-{comment.pk}")
                expect(card).not_to_have_attribute("data-decided", "")
                assert_accessible(page)
                decide_with_keys(page, number, comment)
        assert page.url == queue_url  # never left the page
    else:
        for number, comment in enumerate(comments):
            decide_with_forms(page, number, comment)
            if number == 1:
                latest = page.locator(".latest-decisions li").first
                tab_to(page, latest.get_by_role("button", name="Undo"), limit=60)
                page.keyboard.press("Enter")
                expect(page.locator(f"#card-{comment.pk}")).to_be_visible()
                assert_accessible(page)
                decide_with_forms(page, number, comment)
            assert page.url == queue_url

    page.goto(queue_url)
    expect(page.get_by_text("Nothing here needs a decision.")).to_be_visible()
    assert_accessible(page)
    statuses = dict(
        Comment.objects.filter(pk__in=[c.pk for c in comments]).values_list("pk", "status")
    )
    for number, comment in enumerate(comments):
        expected = Comment.Status.REMOVED if should_remove(number) else Comment.Status.PUBLISHED
        assert statuses[comment.pk] == expected, (number, comment.body)
    assert not Flag.objects.open().exists()
    assert Decision.objects.filter(action=Decision.Action.UNDO).count() == 1
