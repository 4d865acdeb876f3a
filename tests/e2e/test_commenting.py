"""The newcomer's journey, once with JavaScript (htmx) and once without: sign up, confirm the
email, comment on the third paragraph, reply, edit the reply, delete it."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible

PASSWORD = "a long enough passphrase"


@pytest.fixture(params=[True, False], ids=["with-js", "without-js"])
def journey_page(request, browser):
    context = browser.new_context(java_script_enabled=request.param)
    page = context.new_page()
    page.javascript = request.param
    yield page
    context.close()


def confirmation_path(message):
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body).group(1)


def sign_up_and_confirm(page, live_server, email="newcomer@example.org"):
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Sign Up")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email:").fill(email)
    page.get_by_label("Display name:").fill("New Comer")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.locator(".messages")).to_contain_text(f"Confirmation email sent to {email}")
    expect(page.get_by_role("link", name="New Comer")).to_be_visible()
    expect(page.locator(".block").nth(2)).to_be_visible()  # back where they started
    assert_accessible(page)
    [message] = [m for m in mail.outbox if m.to == [email]]
    page.goto(live_server.url + confirmation_path(message))
    expect(page.get_by_role("heading", name="Confirm Email Address")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("link", name="New Comer")).to_be_visible()  # logged in
    expect(page.locator(".block").nth(2)).to_be_visible()  # back where they started, again


def margin_count(block):
    return block.locator(".margin-count")


def test_newcomer_signs_up_and_discusses_the_third_paragraph(journey_page, live_server, live_essay):
    page = journey_page
    page.goto(live_server.url + live_essay.get_absolute_url())
    sign_up_and_confirm(page, live_server)

    page.goto(live_server.url + live_essay.get_absolute_url())
    third = page.locator(".block").nth(2)
    expect(third).to_contain_text("Stalin greatly expanded")
    expect(margin_count(third)).to_contain_text("Discuss this paragraph")

    # Comment on the third paragraph.
    margin_count(third).click()
    if page.javascript:
        region = third.locator(".thread-panel")
        expect(region.get_by_role("heading", name="Discussion of this paragraph")).to_be_focused()
    else:
        expect(page.get_by_role("heading", name="Discussion of a paragraph")).to_be_visible()
        region = page.locator(".discussion")
    assert_accessible(page)
    region.get_by_label("Your comment").fill("The *enclosures* comparison is apt.")
    region.get_by_role("button", name="Post comment").click()
    comment = region.locator(".comment-card").filter(has_text="The enclosures comparison is apt.")
    expect(comment).to_have_count(1)
    expect(comment.locator("em")).to_have_text("enclosures")
    if page.javascript:
        expect(comment).to_be_focused()
        expect(margin_count(third)).to_contain_text("1 comment on this paragraph")
        expect(page).to_have_url(re.compile(r"/essays/[^/]+/$"))  # never left the essay
    else:
        expect(page).to_have_url(re.compile(r"/p/[a-z0-9]+/#c-\d+$"))
    assert_accessible(page)

    # Reply to it.
    comment.get_by_role("link", name=re.compile("^Reply")).click()
    reply_box = page.get_by_label("Your reply to New Comer")
    if page.javascript:
        expect(reply_box).to_be_focused()
    assert_accessible(page)
    reply_box.fill("Replying to myself, for the record.")
    page.get_by_role("button", name="Post reply").click()
    reply = page.locator(".comment-card").filter(has_text="Replying to myself, for the record.")
    expect(reply).to_have_count(1)
    if page.javascript:
        expect(margin_count(third)).to_contain_text("2 comments on this paragraph")
    else:
        page.goto(live_server.url + live_essay.get_absolute_url())
        expect(margin_count(page.locator(".block").nth(2))).to_contain_text("2 comments")
        page.go_back()
    assert_accessible(page)

    # Edit the reply: in place with JavaScript, on its own page without.
    if page.javascript:
        # Cancelled, the form goes and the focus returns to the control that opened it.
        edit_link = reply.get_by_role("link", name=re.compile("^Edit"))
        edit_link.click()
        reply.get_by_role("button", name="Cancel").click()
        expect(reply.locator(".comment-edit-form")).to_have_count(0)
        expect(edit_link).to_be_focused()
    reply.get_by_role("link", name=re.compile("^Edit")).click()
    if page.javascript:
        edit_box = reply.get_by_label("Edit your comment")
        expect(edit_box).to_be_focused()
        expect(reply.locator(".char-count")).to_have_text("35 of 10,000 characters")
    else:
        expect(page.get_by_role("heading", name="Edit your comment")).to_be_visible()
        edit_box = page.get_by_label("Your comment")
    assert_accessible(page)
    edit_box.fill("Replying to myself, corrected.")
    page.get_by_role("button", name="Save changes").click()
    edited = page.locator(".comment-card").filter(has_text="Replying to myself, corrected.")
    expect(edited.locator(".comment-edited")).to_have_text("edited")
    expect(page.get_by_text("Replying to myself, for the record.")).to_have_count(0)
    if page.javascript:
        expect(edited).to_be_focused()
        expect(page).to_have_url(re.compile(r"/essays/[^/]+/$"))  # never left the essay
        expect(page.locator(".comment-edit-form")).to_have_count(0)

    # Delete it.
    edited.get_by_role("link", name=re.compile("^Delete")).click()
    expect(page.get_by_role("heading", name="Delete your comment?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Delete comment").click()
    expect(page.get_by_text("Replying to myself, corrected.")).to_have_count(0)
    expect(page.get_by_text("The enclosures comparison is apt.")).to_be_visible()
    assert_accessible(page)
    page.goto(live_server.url + live_essay.get_absolute_url())
    expect(margin_count(page.locator(".block").nth(2))).to_contain_text("1 comment on this")


def test_a_deleted_comment_with_a_reply_leaves_a_placeholder(journey_page, live_server, live_essay):
    page = journey_page
    page.goto(live_server.url + live_essay.get_absolute_url())
    sign_up_and_confirm(page, live_server, email="placeholder@example.org")
    page.goto(live_server.url + live_essay.get_absolute_url() + "#discussion")
    discussion = page.locator("#discussion")
    discussion.get_by_label("Your comment").fill("On the whole essay.")
    discussion.get_by_role("button", name="Post comment").click()
    top = page.locator(".comment-card").filter(has_text="On the whole essay.")
    top.get_by_role("link", name=re.compile("^Reply")).click()
    page.get_by_label("Your reply to New Comer").fill("An answer that must survive.")
    page.get_by_role("button", name="Post reply").click()
    expect(page.get_by_text("An answer that must survive.")).to_be_visible()
    top.get_by_role("link", name=re.compile("^Delete")).click()
    page.get_by_role("button", name="Delete comment").click()
    expect(page.get_by_text("Deleted by its author")).to_be_visible()
    expect(page.get_by_text("An answer that must survive.")).to_be_visible()
    expect(page.locator("#discussion .comment")).to_have_count(4)  # two responses + 2
    assert_accessible(page)


def test_logged_out_text_survives_logging_in(page, live_server, live_essay, django_user_model):
    from allauth.account.models import EmailAddress

    user = django_user_model.objects.create_user(
        email="back@example.org", password=PASSWORD, display_name="Back Again"
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    page.goto(live_server.url + live_essay.get_absolute_url())
    third = page.locator(".block").nth(2)
    margin_count(third).click()
    panel = third.locator(".thread-panel")
    panel.get_by_label("Your comment").fill("Typed while logged out.")
    panel.get_by_role("button", name="Post comment").click()
    expect(panel.get_by_role("alert")).to_contain_text("Log in to post")
    expect(panel.get_by_label("Your comment")).to_have_value("Typed while logged out.")
    panel.get_by_role("alert").get_by_role("link", name="Log in to post").click()
    assert_accessible(page)
    page.get_by_label("Email:").fill(user.email)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/p/[a-z0-9]+/#discussion-[a-z0-9]+$"))
    expect(page.get_by_label("Your comment")).to_have_value("Typed while logged out.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Typed while logged out.")).to_be_visible()
