"""The reads behind the moderation pages cost a constant number of queries, however long
the queue or the log."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from forum.discussion.models import Comment
from forum.moderation import reads, services
from tests.moderation.queues import fill_queue


@pytest.fixture(autouse=True)
def generous_limits(settings):
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]
    settings.MODERATION_NEW_COMMENTS_PER_HOUR = 1000
    settings.MODERATION_NEW_STRANGER_REPLIES_PER_HOUR = 1000
    settings.REPORT_RATE_LIMITS = [(1000, 60)]
    settings.MODERATION_HIDE_THRESHOLD = 5


def queries_of(read) -> int:
    with CaptureQueriesContext(connection) as captured:
        read()
    return len(captured)


def render_cards(page):
    """Render every card as the queue page does: the templates must not query."""
    for comment in page.object_list:
        render_to_string("moderation/_queue_item.html", {"comment": comment})


@pytest.mark.parametrize("queue", ["pending", "reported", "all"])
def test_a_queue_page_costs_the_same_queries_with_2_or_20_comments(
    queue, moderator, essay, django_assert_num_queries
):
    fill_queue(essay=essay, moderator=moderator, count=2, prefix="a")
    few = queries_of(lambda: render_cards(reads.queue_page(queue, 1)))
    fill_queue(essay=essay, moderator=moderator, count=20, prefix="b")
    with django_assert_num_queries(few):
        page = reads.queue_page(queue, 1)
        render_cards(page)
    assert len(page.object_list) == (22 if queue == "all" else 11)  # one and ten of each kind


def test_the_queue_page_itself_costs_the_same_queries_with_2_or_20_comments(
    client, moderator, essay, django_assert_num_queries
):
    client.force_login(moderator)
    client.get("/moderation/")  # the signed-in account is read once, then kept in the cache
    fill_queue(essay=essay, moderator=moderator, count=2, prefix="a")
    few = {q: queries_of(lambda q=q: client.get(f"/moderation/?queue={q}")) for q in QUEUES}
    fill_queue(essay=essay, moderator=moderator, count=20, prefix="b")
    for queue in QUEUES:
        with django_assert_num_queries(few[queue]):
            response = client.get(f"/moderation/?queue={queue}")
        assert response.status_code == 200


QUEUES = ["pending", "reported", "all"]


def test_authors_records_cost_five_queries_for_any_number_of_authors(
    moderator, essay, django_assert_num_queries
):
    ids = [c.pk for c in fill_queue(essay=essay, moderator=moderator, count=12)]
    comments = list(Comment.objects.filter(pk__in=ids).select_related("author"))
    # Counts, decisions, restrictions; for the trust levels, removals and manual levels.
    with django_assert_num_queries(5):
        histories = reads.author_histories(comments)
    assert len(histories) == 7  # six newcomers and the regular


def test_the_log_filters_cost_the_same_queries_however_many_decisions(
    client, moderator, essay, django_assert_num_queries
):
    client.force_login(moderator)
    url = "/moderation/log/?moderator=site&action=hold&since=2000-01-01"
    fill_queue(essay=essay, moderator=moderator, count=2, prefix="a")
    client.get(url)  # the signed-in account is read once, then kept in the cache
    few = queries_of(lambda: client.get(url))
    comments = fill_queue(essay=essay, moderator=moderator, count=20, prefix="b")
    services.comment_remove(actor=moderator, comment=comments[1], reason_code="spam")
    with django_assert_num_queries(few):
        assert client.get(url).status_code == 200
