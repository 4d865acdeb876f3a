"""Edits after approval: an edit of a published comment goes back to review when its author is
always pre-moderated or had a comment removed recently, and, for everyone, when it brings in
a watched word or links past the limit. What was already approved does not send it back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation import services
from forum.moderation.models import Decision, Restriction, WordRule
from forum.moderation.rules import HoldReason
from tests.conftest import post


@pytest.fixture(autouse=True)
def limits(settings):
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]
    settings.MODERATION_RECENT_REMOVAL_DAYS = 30


def edit(comment, body):
    return discussion.comment_edit(comment=comment, editor=comment.author, body=body)


def test_an_edit_by_an_author_with_a_recent_removal_goes_back_to_review(veteran, moderator, essay):
    kept = post(veteran, essay, "A fair point.")
    removed = post(veteran, essay, "An unfair one.")
    services.comment_remove(actor=moderator, comment=removed, reason_code="abuse")
    edited = edit(kept, "A fair point, rephrased.")
    assert edited.status == Comment.Status.PENDING
    assert edited.hold_reasons == [HoldReason.RECENT_REMOVAL]
    # The queue says why (the rules' hold is logged with its reason).
    hold = Decision.objects.filter(comment=kept, action=Decision.Action.HOLD).get()
    assert HoldReason.RECENT_REMOVAL in hold.facts["reasons"]


def test_a_removal_long_ago_no_longer_sends_edits_back(veteran, moderator, essay):
    kept = post(veteran, essay, "A fair point.")
    removed = post(veteran, essay, "An unfair one.")
    services.comment_remove(actor=moderator, comment=removed, reason_code="abuse")
    Decision.objects.filter(action=Decision.Action.REMOVE).update(
        created=timezone.now() - timedelta(days=31)
    )
    assert edit(kept, "A fair point, rephrased.").status == Comment.Status.PUBLISHED


def test_an_edit_under_premoderation_goes_back_to_review(veteran, moderator, essay):
    comment = post(veteran, essay, "Fine.")
    services.user_restrict(actor=moderator, user=veteran, kind=Restriction.Kind.PREMODERATION)
    assert edit(comment, "Changed.").hold_reasons == [HoldReason.AUTHOR_PREMODERATED]


def test_an_edit_that_brings_in_a_watched_word_goes_back_to_review(veteran, essay):
    comment = post(veteran, essay, "A calm remark.")
    WordRule.objects.create(word="idiot", kind=WordRule.Kind.WATCHED)
    edited = edit(comment, "A calm remark, idiot.")
    assert edited.status == Comment.Status.PENDING
    assert edited.hold_reasons == [HoldReason.WATCHED_WORD]


def test_an_approved_watched_word_does_not_send_a_later_edit_back(veteran, moderator, essay):
    WordRule.objects.create(word="idiot", kind=WordRule.Kind.WATCHED)
    comment = post(veteran, essay, "Quoting the villain: idiot.")
    assert comment.status == Comment.Status.PENDING
    services.comment_approve(actor=moderator, comment=comment)
    comment.refresh_from_db()
    assert edit(comment, "Quoting the villain: “idiot”.").status == Comment.Status.PUBLISHED


def test_an_edit_that_adds_links_past_the_limit_goes_back_to_review(veteran, moderator, essay):
    comment = post(veteran, essay, "One source: https://a.example")
    body = "Sources: " + " ".join(f"https://s{n}.example" for n in range(4))
    edited = edit(comment, body)
    assert edited.status == Comment.Status.PENDING
    assert edited.hold_reasons == [HoldReason.TOO_MANY_LINKS]
    # Approved with its links, it may then be edited without adding any.
    services.comment_approve(actor=moderator, comment=edited)
    edited.refresh_from_db()
    assert edit(edited, body + " (all checked)").status == Comment.Status.PUBLISHED


def test_an_approved_first_comment_is_not_reviewed_again_for_being_new(
    settings, user, moderator, essay
):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 3
    comment = post(user, essay, "My first words.")
    services.comment_approve(actor=moderator, comment=comment)
    comment.refresh_from_db()
    assert edit(comment, "My first words, corrected.").status == Comment.Status.PUBLISHED


def test_an_edit_of_a_held_comment_still_waits(user, essay, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    comment = post(user, essay, "Waiting.")
    edited = edit(comment, "Still waiting.")
    assert edited.status == Comment.Status.PENDING
    assert HoldReason.EDITED_WHILE_HELD in edited.hold_reasons


def test_the_author_is_told_why_an_edit_went_back_to_review(client, veteran, essay):
    comment = post(veteran, essay, "A calm remark.")
    WordRule.objects.create(word="idiot", kind=WordRule.Kind.WATCHED)
    client.force_login(veteran)
    response = client.post(
        f"/comments/{comment.pk}/edit/", {"body": "A calm remark, idiot."}, follow=True
    )
    assert "it uses a word the moderators review" in response.content.decode()


def test_an_edit_sent_back_to_review_keeps_the_replies_under_it_for_everyone(
    veteran, user, moderator, essay, client
):
    """Others' answers stay on the page: the edited comment waits as a placeholder (its
    new text only for its author and moderators), never taking its replies with it."""
    from django.core.cache import cache
    from django.test import Client

    from forum.discussion.models import Comment as Model

    third = essay.paragraphs.get(position=2)
    claim = post(veteran, essay, "A claim.", paragraph=third)
    rebuttal = post(user, essay, "A rebuttal.", parent=claim)
    services.user_restrict(actor=moderator, user=veteran, kind=Restriction.Kind.PREMODERATION)
    edit(claim, "A claim, now with an insult.")
    assert Model.objects.get(pk=claim.pk).status == Comment.Status.PENDING
    pages = [third.get_absolute_url(), f"/comments/{claim.pk}/thread/", essay.get_absolute_url()]
    for who in ("visitor", "reader", "author", "moderator"):
        cache.clear()
        viewer = Client()
        if who != "visitor":
            viewer.force_login({"reader": user, "author": veteran, "moderator": moderator}[who])
        page = viewer.get(third.get_absolute_url(), follow=True).content.decode()
        assert "A rebuttal." in page, who
        shows_new_text = "A claim, now with an insult." in page
        assert shows_new_text == (who in ("author", "moderator")), who
        if who in ("visitor", "reader"):
            assert "Awaiting review" in page, who
            thread = viewer.get(pages[1], follow=True).content.decode()
            assert "A rebuttal." in thread and "now with an insult" not in thread, who
    # A comment held with no reply is still nobody's business but its author's.
    cache.clear()
    placeholders = Client().get(third.get_absolute_url()).content.decode().count("Awaiting")
    held = post(veteran, essay, "A held remark.", paragraph=third)
    assert Model.objects.get(pk=held.pk).status == Comment.Status.PENDING
    cache.clear()
    page = Client().get(third.get_absolute_url()).content.decode()
    assert page.count("Awaiting") == placeholders and "A held remark." not in page
    assert f'id="c-{rebuttal.pk}"' in page
