"""A refused post, in development (DEBUG on) as in production: the essay stays on the page,
the reader's text stays in the form, and the focus goes to the error."""

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect


@pytest.fixture
def development(settings):
    """`make run`'s settings: DEBUG on (under DEBUG, django-htmx's script used to write
    every 4xx answer over the page)."""
    settings.DEBUG = True
    return settings


def open_third_paragraph(page, live_server, essay):
    page.goto(live_server.url + essay.get_absolute_url())
    third = page.locator(".block").nth(2)
    third.locator(".margin-count").click()
    region = third.locator(".thread-panel")
    expect(region.get_by_label("Your comment")).to_be_visible()
    return region


def assert_refused_in_place(page, region, message):
    errors = region.locator(".form-errors")
    expect(errors).to_contain_text(message)
    expect(errors).to_be_focused()
    # The essay is still there, styled: the answer went into the form, not over the page.
    expect(page.locator("h1")).to_contain_text("Stalinism")
    expect(page.locator(".block")).to_have_count(53)
    assert page.evaluate("getComputedStyle(document.querySelector('.skip-link')).position") in (
        "absolute",
        "fixed",
    )


def test_a_logged_out_post_is_refused_in_place_under_debug(
    development, page, live_server, live_essay
):
    assert django_settings.DEBUG
    region = open_third_paragraph(page, live_server, live_essay)
    region.get_by_label("Your comment").fill("Kept while I log in.")
    region.get_by_role("button", name="Post comment").click()
    assert_refused_in_place(page, region, "Log in to post")
    expect(region.get_by_label("Your comment")).to_have_value("Kept while I log in.")


def test_an_empty_and_a_too_long_post_are_refused_in_place_under_debug(
    development, log_in, live_server, live_essay, user
):
    page = log_in(user)
    region = open_third_paragraph(page, live_server, live_essay)
    region.get_by_role("button", name="Post comment").click()
    assert_refused_in_place(page, region, "Your comment is empty")

    # Past the limit: nothing is cut without a word; the count says by how much.
    too_long = "x" * (django_settings.COMMENT_MAX_LENGTH + 1)
    region.get_by_label("Your comment").fill(too_long)
    expect(region.locator(".char-count")).to_have_text(
        "10,001 of 10,000 characters: 1 over the limit"
    )
    region.get_by_role("button", name="Post comment").click()
    assert_refused_in_place(page, region, "the limit is 10,000")
    expect(region.get_by_label("Your comment")).to_have_value(too_long)
