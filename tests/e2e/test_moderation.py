"""Moderation in a real browser: reports hide a comment, a moderator removes it with a
reason and undoes that from the log, and a newcomer's first comment waits for approval."""

import re

import pytest
from playwright.sync_api import expect

from forum.discussion import services as discussion
from forum.moderation.services import moderators_group
from tests.conftest import make_user
from tests.e2e.conftest import assert_accessible


@pytest.fixture
def people(live_essay, settings):
    settings.MODERATION_HIDE_THRESHOLD = 1
    author = make_user("author@example.org", "Ann Author")
    reader = make_user("reader@example.org", "Rea Der")
    moderator = make_user("mod@example.org", "Mo Derator")
    moderator.groups.add(moderators_group())
    return {"author": author, "reader": reader, "moderator": moderator}


def test_report_hide_remove_with_reason_and_undo_from_the_log(
    log_in, browser, live_server, live_essay, people
):
    comment = discussion.comment_post(
        author=people["author"], essay=live_essay, body="Buy cheap watches here."
    )
    discussion.comment_post(
        author=people["moderator"],
        essay=live_essay,
        body="Please keep to the essay.",
        parent=comment,
    )
    essay_url = live_server.url + live_essay.get_absolute_url()

    reader = log_in(people["reader"])
    reader.goto(essay_url)
    card = reader.locator(f"#c-{comment.pk} > article")
    card.get_by_role("link", name=re.compile("^Report")).click()
    expect(reader.get_by_role("heading", name="Report a comment")).to_be_visible()
    assert_accessible(reader)
    reader.get_by_label("Spam").check()
    reader.get_by_role("button", name="Send report").click()
    expect(reader.locator(".messages")).to_contain_text("your report was received")
    expect(card).to_contain_text("Hidden pending review")
    expect(card).not_to_contain_text("Buy cheap watches")
    expect(reader.get_by_text("Please keep to the essay.")).to_be_visible()

    moderator = log_in(people["moderator"])
    moderator.get_by_role("link", name="Moderation").click()
    expect(moderator.get_by_role("heading", name="Reported comments")).to_be_visible()
    expect(moderator.locator(".queue")).to_contain_text("Buy cheap watches here.")
    expect(moderator.locator(".queue")).to_contain_text("Spam")
    assert_accessible(moderator)
    moderator.get_by_role("link", name=f"Act on comment #{comment.pk}").click()
    assert_accessible(moderator)
    moderator.locator("#remove-reason").fill("Advertising")
    moderator.get_by_label("Public reason", exact=True).select_option("spam")
    moderator.get_by_role("button", name="Remove").click()
    expect(moderator.locator(".messages")).to_contain_text("Done: removed")

    reader.reload()
    expect(card).to_contain_text("Removed by a moderator: Spam")
    expect(reader.get_by_text("Please keep to the essay.")).to_be_visible()

    moderator.get_by_role("link", name="Audit log").click()
    expect(moderator.get_by_role("heading", name="Audit log")).to_be_visible()
    assert_accessible(moderator)
    row = moderator.locator("tr").filter(has_text="Advertising")
    row.get_by_role("button", name=re.compile("^Undo")).click()
    expect(moderator.locator(".messages")).to_contain_text("Undone: removed")
    expect(moderator.locator("tr").filter(has_text="Advertising")).to_contain_text("undone")

    reader.reload()
    expect(card).to_contain_text("Hidden pending review")  # exactly as before the removal
    expect(card).not_to_contain_text("Removed by a moderator")


def test_a_new_accounts_first_comment_waits_in_pending_until_approved(
    log_in, browser, live_server, live_essay, people, settings
):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    essay_url = live_server.url + live_essay.get_absolute_url()
    newcomer = make_user("newcomer@example.org", "New Comer")
    author = log_in(newcomer)
    author.goto(essay_url + "#discussion")
    author.locator("#discussion").get_by_label("Your comment").fill("My very first words here.")
    author.locator("#discussion").get_by_role("button", name="Post comment").click()
    mine = author.locator(".comment-card").filter(has_text="My very first words here.")
    expect(mine).to_contain_text("Awaiting review")

    reader = log_in(people["reader"])
    reader.goto(essay_url)
    expect(reader.get_by_text("My very first words here.")).to_have_count(0)

    moderator = log_in(people["moderator"])
    moderator.goto(live_server.url + "/moderation/?queue=pending")
    expect(moderator.get_by_role("heading", name="Comments awaiting review")).to_be_visible()
    assert_accessible(moderator)
    moderator.get_by_label(re.compile(r"Comment #\d+ by New Comer")).check()
    moderator.get_by_role("button", name="Approve ticked").click()
    expect(moderator.locator(".messages")).to_contain_text("1 comments done")
    expect(moderator.get_by_text("Nothing here needs a decision.")).to_be_visible()

    reader.reload()
    expect(reader.get_by_text("My very first words here.")).to_be_visible()
    author.goto(live_server.url + "/moderation/notices/")
    expect(author.locator("main")).to_contain_text("approved")
    assert_accessible(author)
