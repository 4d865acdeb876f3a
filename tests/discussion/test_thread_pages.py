"""A discussion shows THREADS_PER_PAGE threads at a time: thousands of comments never render
in one response, and the rest are a link (or, with htmx, a click) away."""

import re

import pytest
from django.test import Client

from forum.discussion.threads import THREADS_PER_PAGE
from tests.conftest import add_comment, post

THREADS = THREADS_PER_PAGE * 2 + 5


@pytest.fixture
def busy_essay(make_essay):
    essay = make_essay("Text.", "More text.")
    for n in range(THREADS):
        root = add_comment(essay, body=f"Thread number {n}.")
        add_comment(essay, parent=root, body=f"A reply in thread {n}.")
    return essay


def threads_on(content: str) -> list[int]:
    return [int(n) for n in re.findall(r"Thread number (\d+)\.", content)]


def test_the_whole_essay_discussion_comes_a_page_at_a_time(busy_essay):
    url = busy_essay.get_absolute_url()
    first = Client().get(url).content.decode()
    assert threads_on(first) == list(range(THREADS_PER_PAGE))
    assert "A reply in thread 0." in first and "A reply in thread 20." not in first
    assert f'href="{url}?order=oldest&amp;page=2#discussion"' in first
    assert 'hx-select="#discussion-page-2"' in first
    last = Client().get(f"{url}?page=3").content.decode()
    assert threads_on(last) == list(range(THREADS_PER_PAGE * 2, THREADS))
    assert "More threads" not in last and "Earlier threads" in last
    newest = Client().get(f"{url}?order=newest").content.decode()
    assert threads_on(newest)[:2] == [THREADS - 1, THREADS - 2]


@pytest.mark.parametrize("page", ["0", "-1", "x", "²", "99999999999999999999"])
def test_a_page_number_that_is_not_one_is_the_first_page(busy_essay, page):
    response = Client().get(f"{busy_essay.get_absolute_url()}?page={page}")
    assert response.status_code == 200
    assert threads_on(response.content.decode())[:1] == [0]


def test_a_page_past_the_end_is_empty_not_an_error(busy_essay):
    response = Client().get(f"{busy_essay.get_absolute_url()}?page=50")
    assert response.status_code == 200 and threads_on(response.content.decode()) == []


def test_a_paragraphs_discussion_comes_a_page_at_a_time(make_essay):
    essay = make_essay("Text.")
    paragraph = essay.paragraphs.get()
    for n in range(THREADS_PER_PAGE + 3):
        add_comment(essay, paragraph=paragraph, body=f"Thread number {n}.")
    content = Client().get(paragraph.get_absolute_url()).content.decode()
    assert threads_on(content) == list(range(THREADS_PER_PAGE))
    assert "More threads" in content


def test_a_reply_deep_in_a_long_discussion_lands_on_its_page(busy_essay, user, reader_client):
    thread = busy_essay.comments.get(body="Thread number 30.")
    response = reader_client.post(f"/comments/{thread.pk}/reply/", {"body": "Late reply."})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{busy_essay.get_absolute_url()}?page=2#c-")
    assert "Late reply." in reader_client.get(response["Location"]).content.decode()
    # With htmx, the region answered is the page that holds it.
    response = reader_client.post(
        f"/comments/{thread.pk}/reply/", {"body": "An htmx reply."}, HTTP_HX_REQUEST="true"
    )
    content = response.content.decode()
    assert "An htmx reply." in content and threads_on(content)[0] == THREADS_PER_PAGE
    # A permalink leads to the same page.
    reply = post(user, busy_essay, body="Another late one.", parent=thread)
    permalink = Client().get(f"/comments/{reply.pk}/")
    assert permalink["Location"] == f"{busy_essay.get_absolute_url()}?page=2#c-{reply.pk}"


def test_a_long_thread_shows_its_first_replies_and_continues_on_its_own_page(make_essay, user):
    from forum.discussion.threads import REPLIES_PER_PAGE, REPLIES_SHOWN

    essay = make_essay("Text.")
    root = add_comment(essay, body="The first word.")
    parent = root
    for n in range(REPLIES_PER_PAGE + 15):
        # Half answer the previous reply, half the first comment.
        parent = add_comment(essay, parent=parent if n % 2 else root, body=f"Reply number {n}.")
    content = Client().get(essay.get_absolute_url()).content.decode()
    shown = [int(n) for n in re.findall(r"Reply number (\d+)\.", content)]
    assert len(shown) == REPLIES_SHOWN
    hidden = REPLIES_PER_PAGE + 15 - REPLIES_SHOWN
    assert f"{hidden}\n    more replies in this thread" in content
    thread_url = f"/comments/{root.pk}/thread/"
    assert f'href="{thread_url}"' in content
    first = Client().get(thread_url).content.decode()
    assert "The first word." in first
    assert [int(n) for n in re.findall(r"Reply number (\d+)\.", first)] == list(
        range(REPLIES_PER_PAGE)
    )
    assert "in reply to" in first and "Later replies" in first
    last = Client().get(f"{thread_url}?page=2").content.decode()
    assert [int(n) for n in re.findall(r"Reply number (\d+)\.", last)] == list(
        range(REPLIES_PER_PAGE, REPLIES_PER_PAGE + 15)
    )
    # From any of its comments, the thread's page is its first comment's.
    reply = essay.comments.get(body="Reply number 3.")
    assert Client().get(f"/comments/{reply.pk}/thread/")["Location"] == thread_url


def test_a_threads_first_written_replies_are_shown_and_its_size_costs_nothing(
    make_essay, django_assert_num_queries
):
    from forum.discussion.threads import REPLIES_SHOWN, thread_page

    essay = make_essay("Text.")
    root = add_comment(essay, body="The first word.")
    first = add_comment(essay, parent=root, body="Reply number 0.")
    for n in range(1, 60):
        add_comment(essay, parent=root, body=f"Reply number {n}.")
    # Written last, in answer to the first reply: not among the first written.
    add_comment(essay, parent=first, body="A late answer.")
    with django_assert_num_queries(2):  # the moderators' ids, the comments
        page = thread_page(essay=essay)
    (thread,) = page.threads
    assert [node.comment.body for node in thread.replies] == [
        f"Reply number {n}." for n in range(REPLIES_SHOWN)
    ]
    assert thread.replies[0].replies == []
    assert thread.hidden_replies == 61 - REPLIES_SHOWN


def test_a_reply_past_those_shown_is_found_on_its_threads_page(make_essay, user, reader_client):
    from forum.discussion.threads import REPLIES_PER_PAGE, REPLIES_SHOWN

    essay = make_essay("Text.")
    root = add_comment(essay, body="The first word.")
    for n in range(REPLIES_PER_PAGE + 5):
        add_comment(essay, parent=root, body=f"Reply number {n}.")
    early = essay.comments.get(body="Reply number 0.")
    thread_url = f"/comments/{root.pk}/thread/"
    # A permalink to a reply shown with its discussion leads there; a later one to its
    # thread's page, on the page of it that holds it.
    assert (
        Client().get(f"/comments/{early.pk}/")["Location"] == f"/essays/{essay.slug}/#c-{early.pk}"
    )
    later = essay.comments.get(body=f"Reply number {REPLIES_SHOWN}.")
    assert Client().get(f"/comments/{later.pk}/")["Location"] == f"{thread_url}#c-{later.pk}"
    last = essay.comments.get(body=f"Reply number {REPLIES_PER_PAGE + 4}.")
    location = Client().get(f"/comments/{last.pk}/")["Location"]
    assert location == f"{thread_url}?page=2#c-{last.pk}"
    assert f'id="c-{last.pk}"' in Client().get(location).content.decode()
    # Posting one: without JavaScript, a redirect there; with htmx, the same address.
    response = reader_client.post(f"/comments/{root.pk}/reply/", {"body": "Mine, late."})
    mine = essay.comments.get(body="Mine, late.")
    assert response["Location"] == f"{thread_url}?page=2#c-{mine.pk}"
    response = reader_client.post(
        f"/comments/{root.pk}/reply/", {"body": "Mine again."}, HTTP_HX_REQUEST="true"
    )
    again = essay.comments.get(body="Mine again.")
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{thread_url}?page=2#c-{again.pk}"
    assert "Mine again." in reader_client.get(response["HX-Redirect"]).content.decode()
