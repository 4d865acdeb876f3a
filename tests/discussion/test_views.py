"""Posting, replying, editing and deleting through the views, with and without htmx."""

import re
from urllib.parse import unquote

import pytest
from django.test import Client

from forum.discussion import services
from forum.discussion.models import Comment
from tests.conftest import PASSWORD, add_comment

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def essay(make_essay):
    return make_essay("First.", "Second.", "Third.")


@pytest.fixture
def third(essay):
    return essay.paragraphs.get(position=2)


def paragraph_post_url(paragraph):
    return f"/essays/{paragraph.essay.slug}/p/{paragraph.key}/comment/"


def test_posting_without_javascript_redirects_to_the_new_comments_permalink(reader_client, third):
    response = reader_client.post(paragraph_post_url(third), {"body": "On the third."})
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response.url == f"{third.get_absolute_url()}#c-{comment.pk}"
    assert comment.paragraph == third and comment.body == "On the third."
    page = reader_client.get(response.url).content.decode()
    assert f'id="c-{comment.pk}"' in page and "On the third." in page


def test_posting_with_htmx_returns_the_thread_in_place_and_the_new_margin_count(
    reader_client, third
):
    response = reader_client.post(paragraph_post_url(third), {"body": "In place."}, **HTMX)
    comment = Comment.objects.get()
    content = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#discussion-{third.key}"
    assert f'id="c-{comment.pk}"' in content and "In place." in content
    assert re.search(r'<article[^>]*tabindex="-1" autofocus', content)  # focus moves to it
    assert f'id="count-{third.key}"' in content and 'hx-swap-oob="true"' in content
    assert "1 comment on this paragraph" in content
    assert "Your comment is published." in content


def test_refused_forms_of_two_regions_never_share_an_id(reader_client, essay, third):
    """Two threads open on one page, both refused: each form keeps ids of its own (the
    preview, the labels and the error's description must find their own form)."""
    second = essay.paragraphs.get(position=1)
    ids = []
    for paragraph in (second, third):
        response = reader_client.post(paragraph_post_url(paragraph), {"body": ""}, **HTMX)
        assert response.status_code == 400
        page = response.content.decode()
        assert f'id="discussion-{paragraph.key}-body"' in page
        ids.append(set(re.findall(r'\bid="([^"]+)"', page)))
    assert not ids[0] & ids[1], ids[0] & ids[1]


def test_posting_on_the_whole_essay(reader_client, essay):
    response = reader_client.post(f"/essays/{essay.slug}/comment/", {"body": "Overall."})
    comment = Comment.objects.get()
    assert comment.paragraph is None
    assert response.url == f"{essay.get_absolute_url()}#c-{comment.pk}"


def test_a_logged_out_reader_keeps_the_text_and_gets_it_back_after_logging_in(client, user, third):
    response = client.post(paragraph_post_url(third), {"body": "Written before login."})
    content = response.content.decode()
    assert response.status_code == 403
    assert "Log in to post. Your text is kept here." in content
    assert "Written before login." in content
    login_link = re.search(r'href="(/accounts/login/\?next=[^"]+)">Log in to post', content)
    next_url = unquote(login_link.group(1).split("next=", 1)[1])
    assert next_url == f"{third.get_absolute_url()}#discussion-{third.key}"
    assert not Comment.objects.exists()

    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302 and response.url == next_url
    page = client.get(third.get_absolute_url()).content.decode()
    assert "Written before login." in page  # the draft is in the form again


def test_anonymous_attempts_are_rate_limited_per_address(client, third, settings):
    settings.ANONYMOUS_POST_RATE_LIMITS = [(2, 600)]
    for _ in range(2):
        assert client.post(paragraph_post_url(third), {"body": "Spam?"}).status_code == 403
    response = client.post(paragraph_post_url(third), {"body": "Spam?"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many attempts from your address" in response.content.decode()


def test_an_unverified_reader_is_told_to_confirm_and_keeps_the_text(client, unverified_user, third):
    client.force_login(unverified_user)
    response = client.post(paragraph_post_url(third), {"body": "Not yet confirmed."})
    content = response.content.decode()
    assert response.status_code == 403
    assert "Confirm your email address before your first comment" in content
    assert "Not yet confirmed." in content
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "body, status, message",
    [
        ("   ", 400, "Your comment is empty."),
        ("y" * 10_001, 400, "Your comment is 10,001 characters long; the limit is 10,000."),
        ("[only]: https://example.org", 400, "Your comment has no text to show."),
        ("nul \x00 byte", 400, "Null characters are not allowed."),
    ],
)
def test_bad_bodies_come_back_with_a_message_and_the_text(
    reader_client, third, body, status, message
):
    for headers in ({}, HTMX):
        response = reader_client.post(paragraph_post_url(third), {"body": body}, **headers)
        content = response.content.decode()
        assert response.status_code == status
        assert message in content
        assert body.replace("\x00", "\ufffd") in content or body in content
        assert 'aria-invalid="true"' in content
    assert not Comment.objects.exists()


def test_closed_essays_refuse_with_403_and_keep_the_text(reader_client, essay, third):
    essay.comments_open = False
    essay.save()
    response = reader_client.post(paragraph_post_url(third), {"body": "Too late."})
    assert response.status_code == 403
    content = response.content.decode()
    assert "Comments are closed on this essay." in content and "Too late." in content
    page = reader_client.get(essay.get_absolute_url()).content.decode()
    assert "Comments are closed on this essay." in page and "Post comment" not in page


def test_posting_too_fast_answers_429_with_when_to_retry_and_keeps_the_text(
    reader_client, third, settings
):
    settings.COMMENT_RATE_LIMITS = [(1, 60)]
    assert reader_client.post(paragraph_post_url(third), {"body": "One."}).status_code == 302
    response = reader_client.post(paragraph_post_url(third), {"body": "Two, too soon."})
    content = response.content.decode()
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 61
    assert re.search(r"Try again in \d+ seconds", content) and "Two, too soon." in content


def test_replying_to_a_deleted_comment_is_refused_with_409(reader_client, user, essay, third):
    parent = services.comment_post(author=user, essay=essay, body="Parent.", paragraph=third)
    services.comment_delete(comment=parent, actor=user)
    response = reader_client.post(f"/comments/{parent.pk}/reply/", {"body": "Hello?"})
    assert response.status_code == 409
    content = response.content.decode()
    assert "no longer there to reply to" in content and "Hello?" in content
    assert reader_client.get(f"/comments/{parent.pk}/reply/").status_code == 404


def test_a_reply_without_javascript_lands_on_its_permalink_in_the_thread(
    reader_client, other_user, essay, third
):
    parent = services.comment_post(author=other_user, essay=essay, body="Parent.", paragraph=third)
    form_page = reader_client.get(f"/comments/{parent.pk}/reply/")
    assert form_page.status_code == 200 and "Your reply to Otto Ther" in form_page.content.decode()
    response = reader_client.post(f"/comments/{parent.pk}/reply/", {"body": "A reply."})
    reply = Comment.objects.get(parent=parent)
    assert response.url == f"{third.get_absolute_url()}#c-{reply.pk}"


def test_a_reply_with_htmx_replaces_the_whole_region(reader_client, other_user, essay, third):
    parent = services.comment_post(author=other_user, essay=essay, body="Parent.", paragraph=third)
    form = reader_client.get(f"/comments/{parent.pk}/reply/", **HTMX).content.decode()
    assert "<html" not in form and 'hx-target="closest .reply-slot"' in form
    response = reader_client.post(f"/comments/{parent.pk}/reply/", {"body": "Inline."}, **HTMX)
    assert response["HX-Retarget"] == f"#discussion-{third.key}"
    assert "Inline." in response.content.decode()
    error = reader_client.post(f"/comments/{parent.pk}/reply/", {"body": ""}, **HTMX)
    assert error.status_code == 400 and "HX-Retarget" not in error
    assert "Your comment is empty." in error.content.decode()


def test_preview_shows_exactly_what_will_be_published_and_stores_nothing(reader_client, third):
    body = "**Bold** and [a link](https://example.org)"
    response = reader_client.post(paragraph_post_url(third), {"body": body, "preview": "1"})
    content = response.content.decode()
    assert response.status_code == 200
    expected = services.render_comment(body)
    assert expected.strip() in content and body in content
    fragment = reader_client.post("/comments/preview/", {"body": body}, **HTMX)
    assert expected.strip() in fragment.content.decode()
    assert not Comment.objects.exists()


def test_every_unsafe_request_needs_a_csrf_token(user, essay, third):
    comment = services.comment_post(author=user, essay=essay, body="Mine.", paragraph=third)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    for url, data in [
        (paragraph_post_url(third), {"body": "x"}),
        (f"/essays/{essay.slug}/comment/", {"body": "x"}),
        (f"/comments/{comment.pk}/reply/", {"body": "x"}),
        (f"/comments/{comment.pk}/edit/", {"body": "x"}),
        (f"/comments/{comment.pk}/delete/", {}),
        ("/comments/preview/", {"body": "x"}),
        ("/accounts/settings/", {"display_name": "x"}),
        ("/accounts/export/", {}),
        ("/accounts/delete/", {"comments": "keep", "password": PASSWORD}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert Comment.objects.count() == 1


def test_only_the_author_can_edit_or_delete(client, user, other_user, essay, third):
    comment = services.comment_post(author=user, essay=essay, body="Mine.", paragraph=third)
    edit, delete = f"/comments/{comment.pk}/edit/", f"/comments/{comment.pk}/delete/"
    for url in (edit, delete):
        response = client.post(url, {"body": "Changed."})
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(other_user)
    for url in (edit, delete):
        assert client.get(url).status_code == 403
        response = client.post(url, {"body": "Changed."})
        assert response.status_code == 403
        assert "Only its author can change this comment." in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "Mine." and comment.status == Comment.Status.PUBLISHED
    page = client.get(third.get_absolute_url()).content.decode()
    assert f"/comments/{comment.pk}/edit/" not in page


def test_the_author_edits_and_deletes_and_readers_see_the_marks(
    reader_client, other_user, essay, third
):
    user = reader_client.get("/accounts/settings/").wsgi_request.user
    comment = services.comment_post(author=user, essay=essay, body="Before.", paragraph=third)
    services.comment_post(author=other_user, essay=essay, body="A reply.", parent=comment)
    response = reader_client.post(f"/comments/{comment.pk}/edit/", {"body": "After."})
    assert response.status_code == 302 and response.url.endswith(f"#c-{comment.pk}")
    page = reader_client.get(third.get_absolute_url()).content.decode()
    assert "After." in page and "Before." not in page and "edited" in page
    assert reader_client.get(f"/comments/{comment.pk}/delete/").status_code == 200
    reader_client.post(f"/comments/{comment.pk}/delete/")
    page = reader_client.get(third.get_absolute_url()).content.decode()
    assert "Deleted by its author" in page and "After." not in page and "A reply." in page


def test_login_next_never_leads_off_site(client, user):
    for next_url in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        response = client.post(
            "/accounts/login/", {"login": user.email, "password": PASSWORD, "next": next_url}
        )
        assert response.status_code == 302
        assert "evil" not in response.url
        client.logout()


def test_threads_sort_oldest_or_newest_and_deep_replies_name_their_parent(
    client, user, essay, third
):
    first = add_comment(essay, paragraph=third, body="Oldest thread.", author=user)
    add_comment(essay, paragraph=third, body="Newest thread.", author=user)
    node = first
    for depth in range(1, 6):
        node = add_comment(essay, parent=node, body=f"Depth {depth}.", author=user)
    oldest = client.get(third.get_absolute_url()).content.decode()
    newest = client.get(third.get_absolute_url() + "?order=newest").content.decode()
    assert oldest.index("Oldest thread.") < oldest.index("Newest thread.")
    assert newest.index("Newest thread.") < newest.index("Oldest thread.")
    assert newest.index("Depth 1.") < newest.index("Depth 2.")  # replies stay chronological
    assert oldest.count("in reply to Rea Der") == 2  # depths 4 and 5


def test_the_thread_fragment_redirects_plain_requests_to_the_paragraph_page(client, third):
    url = f"/essays/{third.essay.slug}/p/{third.key}/thread/"
    assert client.get(url).url == third.get_absolute_url()
    fragment = client.get(url, **HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()


def test_pages_keep_a_constant_query_count_for_a_logged_in_reader(
    reader_client, user, essay, third, django_assert_max_num_queries
):
    url = essay.get_absolute_url()
    # With nothing in the cache: the session, the account, the reader's facts (who moderates
    # and their permissions, restrictions, email, comments awaiting review, follow states,
    # the bell's count) and the page's own reads. A constant; once kept, far fewer
    # (tests/discussion/test_reading_page.py).
    with django_assert_max_num_queries(17) as few:
        reader_client.get(url)
    for index in range(40):
        add_comment(essay, paragraph=third if index % 2 else None, author=user)
    # One more, whatever their number: the reader's own comments, whose actions are theirs.
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        reader_client.get(url)
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        reader_client.get(third.get_absolute_url())
