"""Queries made once per process (forum/compiled.py): the SQL made with stand-ins answers
as the queryset itself does, on this database, for every shape the site uses."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum.compiled import CompiledQuery
from forum.discussion import services, threads
from forum.discussion.models import Comment
from forum.discussion.policy import policy
from forum.moderation.models import Restriction
from tests.conftest import add_comment, make_user


@pytest.fixture
def discussion(make_essay, user, other_user):
    """Threads on a paragraph and on the whole essay, with replies, in every state a
    count must tell apart: published, pending (the author's own, and answered), removed."""
    essay = make_essay("First.", "Second.")
    paragraph = essay.paragraphs.get(position=1)
    comments = []
    for n in range(6):
        author = user if n % 2 else other_user
        root = add_comment(essay, paragraph=paragraph, author=author, body=f"Thread {n}.")
        comments.append(root)
        for m in range(3):
            comments.append(
                add_comment(essay, parent=root, author=other_user, body=f"Reply {n}.{m}.")
            )
        comments.append(add_comment(essay, author=author, body=f"On the essay {n}."))
    Comment.objects.filter(pk=comments[4].pk).update(status=Comment.Status.PENDING)
    Comment.objects.filter(pk=comments[9].pk).update(status=Comment.Status.PENDING)
    Comment.objects.filter(pk=comments[13].pk).update(status=Comment.Status.REMOVED)
    return essay, paragraph, list(Comment.objects.order_by("pk"))


def the_orm_says(compiled: CompiledQuery, shape, **values):
    return [tuple(row) for row in compiled.build(shape, **values)]


def test_every_count_a_post_lands_on_answers_as_the_orm_does(discussion, user):
    essay, paragraph, comments = discussion
    for kind in [(False, False), (False, True), (True, False)]:
        for on_paragraph in (True, False):
            for newest in (True, False):
                shape = (kind, on_paragraph, newest)
                for comment in comments:
                    values = {
                        "viewer_id": user.pk,
                        "essay_id": essay.pk,
                        "paragraph_id": paragraph.pk,
                        "root_id": comment.thread_root_id,
                    }
                    compiled = threads.THREADS_BEFORE.rows(shape=shape, **values)
                    assert compiled == the_orm_says(threads.THREADS_BEFORE, shape, **values)
        for comment in comments:
            values = {"viewer_id": user.pk, "root_id": comment.thread_root_id}
            values["comment_id"] = comment.pk
            compiled = threads.REPLIES_BEFORE.rows(shape=kind, **values)
            assert compiled == the_orm_says(threads.REPLIES_BEFORE, kind, **values)
    # Each shape was made once, as SQL (none fell back to building the queryset).
    assert threads.THREADS_BEFORE._made and None not in threads.THREADS_BEFORE._made.values()
    assert threads.REPLIES_BEFORE._made and None not in threads.REPLIES_BEFORE._made.values()


def test_a_members_own_comment_awaiting_review_counts_for_them_alone(discussion, user, other_user):
    essay, paragraph, comments = discussion
    own = add_comment(essay, paragraph=paragraph, author=user, body="Mine, held.")
    Comment.objects.filter(pk=own.pk).update(status=Comment.Status.PENDING)
    later = add_comment(essay, paragraph=paragraph, author=other_user, body="Later.")
    assert threads.page_number_of(later, viewer=user) == 1
    before_for = {
        reader: threads.THREADS_BEFORE.rows(
            shape=(threads._viewer_kind(reader), True, False),
            viewer_id=reader.pk,
            essay_id=essay.pk,
            paragraph_id=paragraph.pk,
            root_id=later.pk,
        )[0][0]
        for reader in (user, other_user)
    }
    assert before_for[user] == before_for[other_user] + 1


def test_the_same_post_is_found_only_where_and_when_it_was_made(discussion, user):
    essay, paragraph, comments = discussion
    mine = Comment.objects.filter(author=user).order_by("-pk").first()
    now = timezone.now()
    for since in (now - timedelta(days=1), now + timedelta(days=1)):
        for body, quote in [(mine.body, mine.quote), (mine.body + "!", ""), ("", "")]:
            values = {"author_id": user.pk, "since": since, "body": body, "quote": quote}
            compiled = services.RECENT_POSTS_ALIKE.rows(**values)
            assert compiled == the_orm_says(services.RECENT_POSTS_ALIKE, None, **values)
            assert bool(compiled) == (body == mine.body and since < mine.created)
    assert None not in services.RECENT_POSTS_ALIKE._made.values()


@pytest.mark.django_db(transaction=True)
def test_the_authors_standing_answers_as_the_orm_does(make_essay):
    """Suspended, suspended until a moment past, lifted; address confirmed or not; essay
    open or closed (the query locks, so it runs in a transaction of its own)."""
    from django.db import transaction

    essay = make_essay("First.")
    closed = make_essay("Second.", slug="closed")
    closed.comments_open = False
    closed.save()
    members = {
        "free": make_user("free@example.org", "Free"),
        "unconfirmed": make_user("unconfirmed@example.org", "Unconfirmed", verified=False),
        "suspended": make_user("suspended@example.org", "Suspended"),
        "was suspended": make_user("was@example.org", "Was"),
        "lifted": make_user("lifted@example.org", "Lifted"),
    }
    now = timezone.now()
    Restriction.objects.create(user=members["suspended"], kind=Restriction.Kind.SUSPENSION)
    Restriction.objects.create(
        user=members["was suspended"],
        kind=Restriction.Kind.SUSPENSION,
        until=now - timedelta(minutes=1),
    )
    Restriction.objects.create(
        user=members["lifted"], kind=Restriction.Kind.SUSPENSION, lifted_at=now
    )
    expected = {
        "free": (True, False, True),
        "unconfirmed": (True, False, False),
        "suspended": (True, True, True),
        "was suspended": (True, False, True),
        "lifted": (True, False, True),
    }
    for name, member in members.items():
        for place, is_open in ((essay, True), (closed, False)):
            values = {"author_id": member.pk, "essay_id": place.pk, "now": now}
            with transaction.atomic():
                compiled = services.AUTHOR_STANDING.rows(shape=policy(), **values)
                orm = the_orm_says(services.AUTHOR_STANDING, policy(), **values)
            assert [tuple(map(bool, row)) for row in compiled] == [
                tuple(map(bool, row)) for row in orm
            ]
            assert tuple(map(bool, compiled[0])) == (is_open, *expected[name][1:]), name
    assert None not in services.AUTHOR_STANDING._made.values()
    # A deactivated account: no row, so no post.
    members["free"].is_active = False
    members["free"].save()
    with transaction.atomic():
        assert not services.AUTHOR_STANDING.rows(
            shape=policy(), author_id=members["free"].pk, essay_id=essay.pk, now=now
        )


def test_a_query_that_writes_a_value_into_its_sql_is_built_every_time(db, user, other_user):
    """A stand-in the SQL holds itself (not as a parameter) cannot be replaced: the query is
    then built and run by Django each time, and still answers right."""

    def build(shape, *, author_id):
        # An int written into the SQL: what this test needs, and nothing a reader sends.
        written = RawSQL(str(int(author_id)), [])  # noqa: S611
        return Comment.objects.filter(author_id=written).values_list("pk")

    compiled = CompiledQuery(build, author_id=-7_340_999)
    first = add_comment_for(user)
    second = add_comment_for(other_user)
    assert compiled.rows(author_id=user.pk) == [(first.pk,)]
    assert compiled.rows(author_id=other_user.pk) == [(second.pk,)]
    assert compiled._made == {("default", None): None}


def test_a_value_the_shape_does_not_use_is_allowed(db, user):
    def build(shape, *, author_id, unused):
        return Comment.objects.filter(author_id=author_id).values_list("pk")

    compiled = CompiledQuery(build, author_id=-7_340_998, unused=datetime(1901, 1, 1, tzinfo=UTC))
    comment = add_comment_for(user)
    assert compiled.rows(author_id=user.pk, unused=timezone.now()) == [(comment.pk,)]
    assert compiled._made[("default", None)] is not None


def test_a_compiled_query_is_one_query_and_counted_as_one(discussion, user):
    essay, paragraph, comments = discussion
    threads.page_number_of(comments[0], viewer=user)  # who moderates, now in the cache
    del user._is_moderator
    with CaptureQueriesContext(connection) as queries:
        number = threads.page_number_of(comments[-1], viewer=user)
    assert number == 1
    assert len(queries.captured_queries) == 1
    assert "GROUP BY" in queries.captured_queries[0]["sql"]


def add_comment_for(author):
    from essays.models import Essay

    essay = Essay.objects.first()
    if essay is None:
        from essays.services import essay_import
        from tests.conftest import essay_source

        essay = essay_import(source=essay_source("First.")).essay
    return add_comment(essay, author=author, body=f"By {author.pk}.")


def same_row(loaded, read_by_the_orm) -> None:
    """Every field the ORM read, read alike (values converted as the ORM converts them)."""
    assert type(loaded) is type(read_by_the_orm)
    assert loaded._state.db == read_by_the_orm._state.db and not loaded._state.adding
    for field in read_by_the_orm._meta.concrete_fields:
        if field.attname in read_by_the_orm.get_deferred_fields():
            assert field.attname in loaded.get_deferred_fields()
            continue
        mine, theirs = getattr(loaded, field.attname), getattr(read_by_the_orm, field.attname)
        assert (type(mine), mine) == (type(theirs), theirs), field.name


def test_a_comment_is_loaded_with_its_essay_paragraph_and_author_as_select_related_does(
    discussion, user, other_user
):
    from forum.discussion.access import COMMENT_ON_PUBLISHED_ESSAY

    essay, paragraph, comments = discussion
    on_the_essay = next(comment for comment in comments if comment.paragraph_id is None)
    reply = next(comment for comment in comments if comment.parent_id is not None)
    orphaned_by_a_deletion = add_comment(essay, paragraph=paragraph, author=other_user, body="X")
    Comment.objects.filter(pk=orphaned_by_a_deletion.pk).update(author=None, author_name="Gone")
    for comment in (comments[0], on_the_essay, reply, orphaned_by_a_deletion, comments[13]):
        loaded = COMMENT_ON_PUBLISHED_ESSAY.get(comment_id=comment.pk, now=timezone.now())
        read = (
            Comment.objects.select_related("essay", "paragraph", "author")
            .defer("essay__source")
            .get(pk=comment.pk)
        )
        with CaptureQueriesContext(connection) as queries:
            same_row(loaded, read)
            same_row(loaded.essay, read.essay)
            for relation in ("paragraph", "author"):
                if getattr(read, relation) is None:
                    assert getattr(loaded, relation) is None
                else:
                    same_row(getattr(loaded, relation), getattr(read, relation))
        assert not queries.captured_queries, "everything was loaded with the comment"
        assert loaded.essay.get_deferred_fields() == {"source"}
        assert loaded.essay.source == essay.source  # read when asked for, as the ORM would
    assert COMMENT_ON_PUBLISHED_ESSAY.get(comment_id=0, now=timezone.now()) is None
    assert None not in COMMENT_ON_PUBLISHED_ESSAY.query._made.values()


def test_nothing_on_an_essay_not_published_yet_or_any_more(discussion):
    from forum.discussion.access import COMMENT_ON_PUBLISHED_ESSAY, PARAGRAPH_TO_DISCUSS

    essay, paragraph, comments = discussion
    now = timezone.now()

    def found(at):
        return (
            COMMENT_ON_PUBLISHED_ESSAY.get(comment_id=comments[0].pk, now=at) is not None,
            PARAGRAPH_TO_DISCUSS.get(slug=essay.slug, key=paragraph.key, now=at) is not None,
        )

    assert found(now) == (True, True)
    essay.published_at = now + timedelta(hours=1)
    essay.save()
    # The time is the caller's, not the one the SQL was made with: scheduled, then out.
    assert found(now) == (False, False)
    assert found(now + timedelta(hours=2)) == (True, True)
    essay.status = essay.Status.DRAFT
    essay.save()
    assert found(now + timedelta(hours=2)) == (False, False)


def test_the_paragraph_to_discuss_is_loaded_as_select_related_does(discussion):
    from essays.models import Paragraph
    from forum.discussion.access import PARAGRAPH_TO_DISCUSS

    essay, paragraph, comments = discussion
    loaded = PARAGRAPH_TO_DISCUSS.get(slug=essay.slug, key=paragraph.key, now=timezone.now())
    read = Paragraph.objects.select_related("essay").defer("essay__source").get(pk=paragraph.pk)
    same_row(loaded, read)
    same_row(loaded.essay, read.essay)
    assert PARAGRAPH_TO_DISCUSS.get(slug=essay.slug, key="nosuchkey", now=timezone.now()) is None
    assert PARAGRAPH_TO_DISCUSS.get(slug="nope", key=paragraph.key, now=timezone.now()) is None
    assert None not in PARAGRAPH_TO_DISCUSS.query._made.values()


@pytest.mark.django_db(transaction=True)
def test_the_parent_of_a_reply_is_read_locked_with_its_paragraph_and_thread(make_essay, user):
    from django.db import transaction

    essay = make_essay("First.", "Second.")
    paragraph = essay.paragraphs.get(position=1)
    root = add_comment(essay, paragraph=paragraph, author=user, body="Root.")
    reply = add_comment(essay, parent=root, author=user, body="Reply.")
    Comment.objects.filter(pk=root.pk).update(locked_at=timezone.now())
    for comment in (root, reply):
        with transaction.atomic():
            loaded = services.PARENT_LOCKED.get(comment_id=comment.pk)
        read = Comment.objects.select_related("paragraph", "root").get(pk=comment.pk)
        same_row(loaded, read)
        same_row(loaded.paragraph, read.paragraph)
        if read.root is None:
            assert loaded.root is None
        else:
            same_row(loaded.root, read.root)
            assert loaded.root.locked_at is not None
    assert None not in services.PARENT_LOCKED.query._made.values()


def test_an_address_with_a_number_no_column_holds_is_not_found(client, discussion):
    too_big = 2**70
    assert client.get(f"/comments/{too_big}/reply/").status_code == 404
    assert client.get(f"/comments/{too_big}/").status_code == 404


@pytest.mark.parametrize("tail", ["p/%00/comment/", "p/a%00b/comment/", "p/%00/", "p/x%00/thread/"])
def test_a_paragraph_key_no_paragraph_can_have_is_not_found(client, discussion, user, tail):
    """(A NUL byte, which PostgreSQL refuses in text, is never asked of it.)"""
    essay, paragraph, comments = discussion
    client.force_login(user)
    assert client.get(f"/essays/{essay.slug}/{tail}").status_code == 404
    assert client.post(f"/essays/{essay.slug}/{tail}", {"body": "Kept?"}).status_code == 404


def test_a_value_sent_in_another_form_than_its_stand_in_answers_right(db, user, other_user):
    """However the database's adapter sends a value (plain, or wrapped for its type), the
    rows are the ORM's: a stand-in found in a form it cannot replace makes no SQL."""
    from django.db.models import IntegerField, Value

    def build(shape, *, number):
        return (
            Comment.objects.annotate(number=Value(number, output_field=IntegerField()))
            .filter(author_id=number)
            .values_list("pk", "number")
        )

    compiled = CompiledQuery(build, number=-7_340_997)
    mine, theirs = add_comment_for(user), add_comment_for(other_user)
    assert compiled.rows(number=user.pk) == [(mine.pk, user.pk)]
    assert compiled.rows(number=other_user.pk) == [(theirs.pk, other_user.pk)]
