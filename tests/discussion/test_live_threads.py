"""Live threads: an open discussion asks whether others have written in it since it was
rendered ("2 new comments: Show"); a 304 while nothing changed costs no database query."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from essays.models import Essay
from essays.services import essay_import
from forum.discussion.models import Comment
from forum.moderation.services import moderators_group
from tests.conftest import add_comment, essay_source, make_user, post

OPENING = "The opening paragraph, which readers discuss."
SECOND = "The second paragraph."


@pytest.fixture
def essay(db) -> Essay:
    return essay_import(source=essay_source("## A heading", OPENING, SECOND)).essay


@pytest.fixture
def paragraphs(essay):
    heading, opening, second = essay.paragraphs.order_by("position")
    return {"heading": heading, "opening": opening, "second": second}


@pytest.fixture
def moderator(db):
    user = make_user("mod@example.org", "Mo Derator")
    user.groups.add(moderators_group())
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def live_urls(client, url, region_id) -> tuple[str, str]:
    """The poll address and the "Show" address the discussion `region_id` carries on the
    page at `url`, as discussion.js reads them."""
    page = client.get(url).content.decode()
    section = re.search(rf'<section class="discussion" id="{region_id}"[^>]*>', page).group(0)
    poll = re.search(r'data-live-url="([^"]+)"', section).group(1)
    reload = re.search(r'data-live-reload="([^"]+)"', section).group(1)
    return html.unescape(poll), html.unescape(reload)


def since_now(client, poll) -> str:
    """The address to ask from now on, as discussion.js learns it with its first question."""
    first = client.get(poll)
    assert first.status_code == 204 and first.content == b""
    return f"{poll}?since={first['X-Live-Since']}"


def paragraph_poll(client, paragraph) -> str:
    poll, _reload = live_urls(client, paragraph.get_absolute_url(), f"discussion-{paragraph.key}")
    return since_now(client, poll)


def said(response) -> str:
    return " ".join(response.content.decode().split())


def test_a_comment_by_another_reader_is_announced_then_a_second(
    essay, paragraphs, user, other_user
):
    reader = signed_in(user)
    poll = paragraph_poll(reader, paragraphs["opening"])
    assert reader.get(poll).status_code == 204  # nothing since the page was rendered
    post(other_user, essay, "A reply from elsewhere.", paragraph=paragraphs["opening"])
    response = reader.get(poll)
    assert response.status_code == 200
    assert said(response).startswith("1 new comment: <button")
    assert "data-live-show" in said(response)
    assert "A reply from elsewhere." not in said(response)  # a count, never a text
    post(other_user, essay, "And another.", paragraph=paragraphs["opening"])
    assert said(reader.get(poll)).startswith("2 new comments:")


def test_comments_written_before_the_discussion_was_rendered_are_not_new(
    essay, paragraphs, other_user
):
    post(other_user, essay, "Already there.", paragraph=paragraphs["opening"])
    poll = paragraph_poll(Client(), paragraphs["opening"])
    post(other_user, essay, "On the whole essay.")  # the essay's version moves on
    response = Client().get(poll)
    assert response.status_code == 204 and response.content == b""


def test_a_readers_own_comments_are_not_new_to_them(essay, paragraphs, user, other_user):
    reader = signed_in(user)
    poll = paragraph_poll(reader, paragraphs["opening"])
    post(user, essay, "My own thought.", paragraph=paragraphs["opening"])
    assert reader.get(poll).status_code == 204
    # ... but they are to everyone else.
    assert said(signed_in(other_user).get(poll)).startswith("1 new comment:")
    assert said(Client().get(poll)).startswith("1 new comment:")


@pytest.mark.parametrize("status", ["pending", "hidden", "removed", "deleted"])
def test_what_a_reader_may_not_read_is_never_counted(essay, paragraphs, user, other_user, status):
    reader = signed_in(user)
    poll = paragraph_poll(reader, paragraphs["opening"])
    add_comment(essay, paragraph=paragraphs["opening"], author=other_user, status=status)
    assert reader.get(poll).status_code == 204
    assert Client().get(poll).status_code == 204


def test_a_moderator_counts_what_waits_for_them_but_not_what_was_taken_down(
    essay, paragraphs, other_user, moderator
):
    """Moderators' threads show every comment: the new ones that are published, awaiting
    review or hidden after reports are new to them; removed and deleted ones are not."""
    moderating = signed_in(moderator)
    poll = paragraph_poll(moderating, paragraphs["opening"])
    for status in ("published", "pending", "hidden", "removed", "deleted"):
        add_comment(essay, paragraph=paragraphs["opening"], author=other_user, status=status)
    assert said(moderating.get(poll)).startswith("3 new comments:")
    assert said(Client().get(poll)).startswith("1 new comment:")


def test_a_readers_own_comment_awaiting_review_is_not_new_to_them_either(essay, paragraphs, user):
    reader = signed_in(user)
    poll = paragraph_poll(reader, paragraphs["opening"])
    add_comment(essay, paragraph=paragraphs["opening"], author=user, status="pending")
    assert reader.get(poll).status_code == 204


def test_each_discussion_counts_only_its_own_comments(essay, paragraphs, other_user):
    client = Client()
    opening = paragraph_poll(client, paragraphs["opening"])
    whole = live_urls(client, essay.get_absolute_url(), "discussion")[0]
    assert whole == reverse("discussion:essay_new_comments", args=[essay.slug])
    whole = since_now(client, whole)
    post(other_user, essay, "On the second.", paragraph=paragraphs["second"])
    assert client.get(opening).status_code == 204
    assert client.get(whole).status_code == 204
    first = post(other_user, essay, "On the whole essay.")
    post(other_user, essay, "A reply there.", parent=first)
    assert client.get(opening).status_code == 204
    assert said(client.get(whole)).startswith("2 new comments:")


def test_an_unchanged_discussion_is_answered_304_without_a_database_query(
    essay, paragraphs, user, other_user, django_assert_num_queries
):
    for n, client in enumerate((Client(), signed_in(user))):
        poll = paragraph_poll(client, paragraphs["opening"])
        first = client.get(poll)
        assert first.status_code == 204
        etag = first["ETag"]
        with django_assert_num_queries(0):
            again = client.get(poll, headers={"if-none-match": etag})
        assert again.status_code == 304 and again["ETag"] == etag
        # A change: the answer is counted again, with a new tag.
        post(other_user, essay, f"Something new, {n}.", paragraph=paragraphs["opening"])
        changed = client.get(poll, headers={"if-none-match": etag})
        assert changed.status_code == 200 and changed["ETag"] != etag
        with django_assert_num_queries(0):
            assert client.get(poll, headers={"if-none-match": changed["ETag"]}).status_code == 304


def test_the_first_question_names_the_moment_to_count_from_without_a_query(
    essay, paragraphs, django_assert_num_queries
):
    """A page carries no clock (it must read the same each time it is served): the first
    question learns the moment to count from, from the server's clock."""
    client = Client()
    poll, _reload = live_urls(
        client, paragraphs["opening"].get_absolute_url(), f"discussion-{paragraphs['opening'].key}"
    )
    assert "?" not in poll
    client.get(poll)  # the essay's state and its paragraphs' keys are remembered
    before = timezone.now()
    with django_assert_num_queries(0):
        first = client.get(poll)
    assert first.status_code == 204
    moment = datetime.fromtimestamp(int(first["X-Live-Since"]) / 1_000_000, tz=UTC)
    assert abs(moment - before) < timedelta(seconds=5)
    assert "ETag" not in first  # nothing to compare: the next question names its moment


def test_one_viewers_tag_is_not_anothers(essay, paragraphs, user, other_user, moderator):
    """The tag names whose answer it is: a moderator (who counts more) sending a reader's tag
    is counted, not told "unchanged"."""
    reader, moderating = signed_in(user), signed_in(moderator)
    poll = paragraph_poll(reader, paragraphs["opening"])
    add_comment(essay, paragraph=paragraphs["opening"], author=other_user, status="pending")
    etag = reader.get(poll)["ETag"]
    assert reader.get(poll, headers={"if-none-match": etag}).status_code == 304
    response = moderating.get(poll, headers={"if-none-match": etag})
    assert response.status_code == 200 and said(response).startswith("1 new comment:")
    assert Client().get(poll, headers={"if-none-match": etag}).status_code == 204


def test_counting_costs_the_same_queries_whatever_the_number(essay, paragraphs, other_user):
    client = Client()
    poll = paragraph_poll(client, paragraphs["opening"])

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert client.get(poll).status_code == 200
        return len(context.captured_queries)

    add_comment(essay, paragraph=paragraphs["opening"], author=other_user)
    client.get(poll)  # the essay's state and its paragraphs' keys are remembered
    one = queries()
    Comment.objects.bulk_create(
        Comment(
            essay=essay,
            paragraph=paragraphs["opening"],
            author=other_user,
            body="Many.",
            body_html="<p>Many.</p>",
        )
        for _ in range(40)
    )
    assert said(client.get(poll)).startswith("41 new comments:")
    client.get(poll)
    # The essay, the paragraph and the count (the essay's state comes from the cache).
    assert queries() == one <= 3


def test_answers_are_private_checked_each_time_and_say_how_often_to_ask(
    essay, paragraphs, settings
):
    settings.LIVE_THREADS_POLL_SECONDS = 7
    response = Client().get(paragraph_poll(Client(), paragraphs["opening"]))
    assert response["X-Poll-Interval"] == "7"
    assert "private" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


@pytest.mark.parametrize(
    "query",
    [
        "?since=",
        "?since=soon",
        "?since=-1",
        "?since=1.5",
        "?since=%C2%B2",  # "²": a digit to str.isdigit, not a number
        "?since=999999999999999999",  # past the year 9999
        "?since=1&since=x",  # the last one counts
    ],
)
def test_a_bad_question_is_refused_with_400(essay, paragraphs, query):
    url = reverse("discussion:paragraph_new_comments", args=[essay.slug, paragraphs["opening"].key])
    assert Client().get(url + query).status_code == 400
    assert (
        Client()
        .get(reverse("discussion:essay_new_comments", args=[essay.slug]) + query)
        .status_code
        == 400
    )


def test_no_such_discussion_is_404(essay, paragraphs):
    def statuses(slug, key=None) -> set[int]:
        """What the first question and a later one are answered."""
        if key is None:
            url = reverse("discussion:essay_new_comments", args=[slug])
        else:
            url = reverse("discussion:paragraph_new_comments", args=[slug, key])
        return {Client().get(url).status_code, Client().get(f"{url}?since=1").status_code}

    assert statuses("no-such-essay") == {404}
    assert statuses(essay.slug, "nosuchkey") == {404}
    assert statuses(essay.slug, paragraphs["heading"].key) == {404}  # headings: no discussion
    assert statuses(essay.slug, paragraphs["second"].key) == {204}
    essay_import(source=essay_source("## A heading", SECOND))  # the opening is retired
    assert statuses(essay.slug, paragraphs["opening"].key) == {404}
    essay.refresh_from_db()
    essay.status = Essay.Status.DRAFT  # taken back to draft, as the admin does it
    essay.save()
    assert statuses(essay.slug) == {404}
    assert statuses(essay.slug, paragraphs["second"].key) == {404}


def test_only_get_and_head(essay, paragraphs, user):
    poll = paragraph_poll(Client(), paragraphs["opening"])
    assert Client().head(poll).status_code == 204
    for client in (Client(), signed_in(user)):
        assert client.post(poll).status_code == 405
        assert client.put(poll).status_code == 405
        assert client.delete(poll).status_code == 405


def test_the_panel_and_the_pages_carry_where_to_ask_and_where_to_show(essay, paragraphs, user):
    opening = paragraphs["opening"]
    panel_url = reverse("discussion:paragraph_thread", args=[essay.slug, opening.key])
    panel = Client().get(panel_url + "?order=newest", headers={"hx-request": "true"})
    poll = re.search(r'data-live-url="([^"]+)"', panel.content.decode()).group(1)
    assert poll == reverse("discussion:paragraph_new_comments", args=[essay.slug, opening.key])
    # "Show" keeps the reader's order: the panel comes again from the panel's address.
    assert f'data-live-reload="{panel_url}?order=newest"' in panel.content.decode()
    _poll, reload = live_urls(
        signed_in(user), essay.get_absolute_url() + "?order=newest", "discussion"
    )
    assert reload == essay.get_absolute_url() + "?order=newest"
    _poll, reload = live_urls(Client(), opening.get_absolute_url(), f"discussion-{opening.key}")
    assert reload == opening.get_absolute_url() + "?order=oldest"


def test_nothing_that_needs_javascript_is_on_the_pages(essay, paragraphs, other_user):
    """Without JavaScript nothing changes: the pages carry two inert attributes and no
    control; the status line and its button are written by discussion.js alone."""
    post(other_user, essay, "Something.", paragraph=paragraphs["opening"])
    for url in (essay.get_absolute_url(), paragraphs["opening"].get_absolute_url()):
        page = Client().get(url).content.decode()
        assert "data-live-show" not in page and "live-notice" not in page
        assert "new comment" not in page


def test_a_closed_essay_or_a_later_page_of_threads_is_not_watched(essay, paragraphs):
    assert "data-live-url" in Client().get(essay.get_absolute_url()).content.decode()
    assert (
        "data-live-url" not in Client().get(essay.get_absolute_url() + "?page=2").content.decode()
    )
    Essay.objects.filter(pk=essay.pk).update(comments_open=False)
    cache.clear()
    for url in (essay.get_absolute_url(), paragraphs["opening"].get_absolute_url()):
        assert "data-live-url" not in Client().get(url).content.decode()


def test_a_discussion_longer_than_its_first_page_does_not_poll(essay, paragraphs, other_user):
    """Its newest threads are on a later page, which "Show" (page one, reloaded) would not
    show: a reader would be told of comments and shown none."""
    from forum.discussion.threads import THREADS_PER_PAGE

    opening = paragraphs["opening"]
    url, region = opening.get_absolute_url(), f"discussion-{opening.key}"
    live_urls(Client(), url, region)  # polls while the discussion fits its page
    for n in range(THREADS_PER_PAGE + 1):
        add_comment(essay, paragraph=opening, body=f"Thread {n}.", author=other_user)
    page = Client().get(url).content.decode()
    section = re.search(rf'<section class="discussion" id="{region}"[^>]*>', page).group(0)
    assert "data-live-url" not in section
