import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from forum.discussion import services
from forum.discussion.models import Comment, CommentRevision
from forum.discussion.signals import comment_published, comment_removed
from forum.refusals import Refused
from forum.subscriptions.models import Subscription
from tests.conftest import make_user, post


@pytest.fixture
def essay(make_essay):
    return make_essay("First.", "Second.", "Third.")


@pytest.fixture
def paragraph(essay):
    return essay.paragraphs.get(position=2)


def test_post_on_a_paragraph_renders_the_body_once(user, essay, paragraph):
    comment = post(user, essay, "Some *emphasis*.", paragraph=paragraph)
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.paragraph == paragraph and comment.root is None and comment.depth == 0
    assert comment.body_html == "<p>Some <em>emphasis</em>.</p>\n"


def test_a_reply_joins_its_parents_thread(user, other_user, essay, paragraph):
    top = post(user, essay, paragraph=paragraph)
    reply = post(other_user, essay, parent=top)
    deeper = post(user, essay, parent=reply)
    assert reply.paragraph == paragraph and reply.root == top and reply.depth == 1
    assert deeper.paragraph == paragraph and deeper.root == top and deeper.depth == 2


def test_a_reply_ignores_a_paragraph_other_than_its_parents(user, essay, paragraph):
    top = post(user, essay)  # on the whole essay
    reply = post(user, essay, parent=top, paragraph=paragraph)
    assert reply.paragraph is None


@pytest.mark.parametrize(
    "body, message",
    [("", "empty"), ("   \n\t ", "empty"), ("x" * 10_001, "10,001 characters long")],
)
def test_empty_and_overlong_bodies_are_refused(user, essay, body, message):
    with pytest.raises(Refused, match=message) as refusal:
        post(user, essay, body)
    assert refusal.value.status == 400
    assert not Comment.objects.exists()


def test_a_body_of_exactly_the_limit_is_accepted(user, essay):
    assert post(user, essay, "x" * 10_000).pk


def test_closed_essays_refuse_comments(user, essay):
    essay.comments_open = False
    essay.save()
    with pytest.raises(Refused, match="closed") as refusal:
        post(user, essay)
    assert refusal.value.status == 403


def test_anonymous_and_unverified_authors_are_refused(essay, unverified_user):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(Refused, match="Log in") as refusal:
        post(AnonymousUser(), essay)
    assert refusal.value.status == 403
    with pytest.raises(Refused, match="Confirm your email") as refusal:
        post(unverified_user, essay)
    assert refusal.value.status == 403
    assert not Comment.objects.exists()


def test_an_inactive_account_cannot_post(user, essay):
    user.is_active = False
    user.save()
    with pytest.raises(Refused, match="cannot post"):
        post(user, essay)


def test_replies_to_another_essay_or_to_a_deleted_comment_are_refused(user, essay, make_essay):
    other = make_essay("Elsewhere.", slug="other")
    foreign = post(user, other)
    with pytest.raises(Refused, match="another essay") as refusal:
        post(user, essay, parent=foreign)
    assert refusal.value.status == 400
    gone = post(user, essay)
    services.comment_delete(comment=gone, actor=user)
    with pytest.raises(Refused, match="no longer there") as refusal:
        post(user, essay, parent=gone)
    assert refusal.value.status == 409


def test_paragraphs_of_another_essay_headings_and_retired_ones_are_refused(user, essay, make_essay):
    other = make_essay("## A heading", "Body.", slug="other")
    with pytest.raises(Refused, match="another essay"):
        post(user, essay, paragraph=other.paragraphs.get(kind="paragraph"))
    with pytest.raises(Refused, match="cannot be discussed"):
        post(user, other, paragraph=other.paragraphs.get(kind="heading"))
    retired = essay.paragraphs.get(position=0)
    retired.retired_in = 2
    retired.save()
    with pytest.raises(Refused, match="cannot be discussed"):
        post(user, essay, paragraph=retired)


def test_posting_is_rate_limited_per_account(user, other_user, essay, settings):
    settings.COMMENT_RATE_LIMITS = [(3, 60)]
    for n in range(3):
        post(user, essay, f"Comment {n}.")
    with pytest.raises(Refused, match="Try again in") as refusal:
        post(user, essay, "One too many.")
    assert refusal.value.status == 429 and 0 < refusal.value.retry_after <= 61
    assert post(other_user, essay).pk  # another account has its own allowance
    assert Comment.objects.count() == 4


def test_only_the_author_can_edit_and_earlier_versions_are_kept(user, other_user, essay):
    comment = post(user, essay, "First version.")
    with pytest.raises(Refused, match="Only its author") as refusal:
        services.comment_edit(comment=comment, editor=other_user, body="Hijacked.")
    assert refusal.value.status == 403
    edited = services.comment_edit(comment=comment, editor=user, body="Second **version**.")
    assert edited.edited_at is not None
    assert edited.body_html == "<p>Second <strong>version</strong>.</p>\n"
    revision = CommentRevision.objects.get(comment=comment)
    assert revision.body == "First version." and revision.body_html == "<p>First version.</p>\n"
    comment.refresh_from_db()
    assert comment.body == "Second **version**."


def test_editing_to_an_empty_body_is_refused_and_changes_nothing(user, essay):
    comment = post(user, essay, "Keep me.")
    with pytest.raises(Refused, match="empty"):
        services.comment_edit(comment=comment, editor=user, body="  ")
    comment.refresh_from_db()
    assert comment.body == "Keep me." and comment.edited_at is None


def test_only_the_author_can_delete_and_replies_stay(user, other_user, essay):
    comment = post(user, essay)
    reply = post(other_user, essay, parent=comment)
    with pytest.raises(Refused, match="Only its author"):
        services.comment_delete(comment=comment, actor=other_user)
    services.comment_delete(comment=comment, actor=user)
    comment.refresh_from_db()
    reply.refresh_from_db()
    assert comment.status == Comment.Status.DELETED
    assert reply.status == Comment.Status.PUBLISHED and reply.parent == comment
    with pytest.raises(Refused, match="has been deleted"):
        services.comment_edit(comment=comment, editor=user, body="Back from the dead.")


def test_published_is_sent_in_the_transaction_and_removed_after_commit(
    user, essay, django_capture_on_commit_callbacks
):
    """A comment is published with what its receivers write (one commit); its removal is
    announced once committed."""
    received = []

    def listener(sender, comment, **kwargs):
        received.append((comment.pk, comment.status, connection.in_atomic_block))

    comment_published.connect(listener)
    comment_removed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            comment = post(user, essay)
            assert received == [(comment.pk, "published", True)]
        with django_capture_on_commit_callbacks(execute=True):
            services.comment_delete(comment=comment, actor=user)
            assert len(received) == 1  # nothing before commit
    finally:
        comment_published.disconnect(listener)
        comment_removed.disconnect(listener)
    assert received[1][:2] == (comment.pk, "deleted")


def test_a_post_whose_announcement_fails_leaves_nothing(user, essay):
    """The comment, its author's follow and its queued fan-out commit together, or not at all."""

    def failing(sender, comment, **kwargs):
        raise RuntimeError("a receiver failed")

    comment_published.connect(failing)
    try:
        with pytest.raises(RuntimeError):
            post(user, essay, "Never stored.")
    finally:
        comment_published.disconnect(failing)
    assert not Comment.objects.filter(body="Never stored.").exists()
    assert not Subscription.objects.filter(user=user).exists()
    assert not DBTaskResult.objects.exists()


def test_release_author_deletes_or_keeps_comments_as_chosen(essay):
    leaving = make_user("leaving@example.org", "Leaving")
    staying = make_user("staying@example.org", "Staying")
    top = post(leaving, essay, "Mine.")
    reply = post(staying, essay, parent=top)
    services.comment_edit(comment=top, editor=leaving, body="Mine, edited.")
    services.comments_release_author(author=leaving, delete=True)
    top.refresh_from_db()
    assert top.status == Comment.Status.DELETED and top.author is None and top.body == ""
    assert not CommentRevision.objects.exists()
    reply.refresh_from_db()
    assert reply.parent == top and reply.status == Comment.Status.PUBLISHED

    kept = post(staying, essay, "Keep this.")
    services.comments_release_author(author=staying, delete=False)
    kept.refresh_from_db()
    assert kept.author is None and kept.status == Comment.Status.PUBLISHED
    assert kept.author_display == "A former member"


def test_a_body_that_renders_to_nothing_is_refused(user, essay):
    with pytest.raises(Refused, match="no text to show"):
        post(user, essay, "[label]: https://example.org")
