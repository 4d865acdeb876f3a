import pytest
from django.utils import timezone

from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation import services
from forum.moderation.models import Decision, Flag, Restriction, WordRule
from forum.moderation.undo import decision_undo
from forum.refusals import Refused
from tests.conftest import make_user, post


def readers(count):
    return [make_user(f"r{n}@example.org", f"Reader {n}") for n in range(count)]


# Holding --------------------------------------------------------------------------------


def test_a_new_accounts_first_comment_is_held_and_logged(user, essay, third):
    comment = post(user, essay, paragraph=third)
    assert comment.status == Comment.Status.PENDING
    hold = Decision.objects.get(comment=comment)
    assert hold.action == Decision.Action.HOLD and hold.actor is None
    assert "first comments" in hold.reason


def test_once_approved_the_next_comment_publishes(user, moderator, essay):
    first = post(user, essay)
    services.comment_approve(actor=moderator, comment=first)
    assert post(user, essay).status == Comment.Status.PUBLISHED


def test_premoderated_essay_author_links_and_watched_words_hold(
    veteran, moderator, essay, settings
):
    assert post(veteran, essay).status == Comment.Status.PUBLISHED
    WordRule.objects.create(word="miracle", kind=WordRule.Kind.WATCHED)
    assert post(veteran, essay, "A MIRACLE cure!").status == Comment.Status.PENDING
    many = " ".join(f"https://e{n}.example" for n in range(4))
    assert post(veteran, essay, many).status == Comment.Status.PENDING
    services.user_restrict(actor=moderator, user=veteran, kind=Restriction.Kind.PREMODERATION)
    assert post(veteran, essay, "Now under pre-moderation.").status == Comment.Status.PENDING
    services.user_restriction_lift(
        actor=moderator, user=veteran, kind=Restriction.Kind.PREMODERATION
    )
    essay.premoderated = True
    essay.save()
    assert post(veteran, essay, "On a pre-moderated essay.").status == Comment.Status.PENDING


def test_blocked_words_refuse_the_comment(veteran, essay):
    WordRule.objects.create(word="forbidden phrase", kind=WordRule.Kind.BLOCKED)
    with pytest.raises(Refused, match="forbidden phrase"):
        post(veteran, essay, "This has a Forbidden Phrase in it.")
    assert not Comment.objects.exists()


def test_editing_a_held_comment_or_under_premoderation_sends_it_back(veteran, moderator, essay):
    held = post(veteran, essay, "Look: " + " ".join(f"https://e{n}.example" for n in range(4)))
    edited = discussion.comment_edit(comment=held, editor=veteran, body="Now no links.")
    assert edited.status == Comment.Status.PENDING
    published = post(veteran, essay, "Fine.")
    services.user_restrict(actor=moderator, user=veteran, kind=Restriction.Kind.PREMODERATION)
    again = discussion.comment_edit(comment=published, editor=veteran, body="Changed.")
    assert again.status == Comment.Status.PENDING


def test_held_comments_are_invisible_to_others_on_every_page_and_count(
    client, user, other_user, moderator, essay, third
):
    held = post(user, essay, "Waiting quietly.", paragraph=third)
    pages = [essay.get_absolute_url(), third.get_absolute_url(), "/", f"/members/{user.pk}/"]
    for page in pages:
        assert "Waiting quietly." not in client.get(page).content.decode()
    reading = client.get(essay.get_absolute_url()).content.decode()
    assert "1 comment on this paragraph" not in reading
    client.force_login(other_user)
    assert "Waiting quietly." not in client.get(third.get_absolute_url()).content.decode()
    client.force_login(user)
    own = client.get(third.get_absolute_url()).content.decode()
    assert "Waiting quietly." in own and "Awaiting review" in own
    client.force_login(moderator)
    assert "Waiting quietly." in client.get(third.get_absolute_url()).content.decode()
    assert f"#{held.pk}" in client.get("/moderation/?queue=pending").content.decode()


# Reports -------------------------------------------------------------------------------


def test_reports_from_distinct_readers_hide_the_comment_at_the_threshold(veteran, essay, client):
    comment = post(veteran, essay, "Provocative.")
    reply = post(veteran, essay, "A reply below.", parent=comment)
    first, second, third_reader = readers(3)
    services.flag_create(reporter=first, comment=comment, reason="spam")
    services.flag_create(reporter=second, comment=comment, reason="abuse")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    services.flag_create(reporter=third_reader, comment=comment, reason="other", note="Bait.")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    hide = Decision.objects.get(action=Decision.Action.HIDE)
    assert hide.actor is None and "3 readers" in hide.reason
    page = client.get(essay.get_absolute_url()).content.decode()
    assert "Hidden pending review" in page and "Provocative." not in page
    assert "A reply below." in page  # the placeholder keeps the reply in place
    reply.refresh_from_db()
    assert reply.status == Comment.Status.PUBLISHED


def test_a_reader_reports_once_with_a_reason_and_never_their_own(veteran, user, essay):
    comment = post(veteran, essay)
    with pytest.raises(Refused, match="Choose a reason"):
        services.flag_create(reporter=user, comment=comment, reason="boring")
    with pytest.raises(Refused, match="few words"):
        services.flag_create(reporter=user, comment=comment, reason="other")
    services.flag_create(reporter=user, comment=comment, reason="spam")
    with pytest.raises(Refused, match="already reported") as refusal:
        services.flag_create(reporter=user, comment=comment, reason="spam")
    assert refusal.value.status == 409
    with pytest.raises(Refused, match="your own"):
        services.flag_create(reporter=veteran, comment=comment, reason="spam")
    assert Flag.objects.count() == 1


def test_unverified_and_suspended_readers_cannot_report(veteran, unverified_user, suspended, essay):
    comment = post(veteran, essay)
    with pytest.raises(Refused, match="Confirm your email"):
        services.flag_create(reporter=unverified_user, comment=comment, reason="spam")
    with pytest.raises(Refused, match="suspended"):
        services.flag_create(reporter=suspended, comment=comment, reason="spam")


def test_reporting_is_rate_limited(veteran, user, essay, settings):
    settings.REPORT_RATE_LIMITS = [(2, 3600)]
    comments = [post(veteran, essay, f"Comment {n}.") for n in range(3)]
    services.flag_create(reporter=user, comment=comments[0], reason="spam")
    services.flag_create(reporter=user, comment=comments[1], reason="spam")
    with pytest.raises(Refused, match="Try again in") as refusal:
        services.flag_create(reporter=user, comment=comments[2], reason="spam")
    assert refusal.value.status == 429


# Decisions and undo -------------------------------------------------------------------------


def snapshot(comment):
    comment.refresh_from_db()
    return (
        comment.status,
        comment.removal_reason,
        sorted(comment.flags.open().values_list("pk", flat=True)),
    )


def test_approve_keeps_the_comment_and_clears_reports_and_undo_restores_them(
    veteran, user, moderator, essay
):
    comment = post(veteran, essay)
    services.flag_create(reporter=user, comment=comment, reason="spam")
    before = snapshot(comment)
    decision = services.comment_approve(actor=moderator, comment=comment, reason="Fine.")
    assert snapshot(comment) == (Comment.Status.PUBLISHED, "", [])
    decision_undo(actor=moderator, decision=decision)
    assert snapshot(comment) == before


def test_remove_shows_the_public_reason_and_undo_restores_exactly(
    client, veteran, user, moderator, essay
):
    comment = post(veteran, essay, "Buy my stuff.")
    services.flag_create(reporter=user, comment=comment, reason="spam")
    before = snapshot(comment)
    decision = services.comment_remove(
        actor=moderator, comment=comment, reason_code="spam", reason="Ads"
    )
    assert snapshot(comment) == (Comment.Status.REMOVED, "Spam", [])
    post(
        veteran,
        essay,
        "Reply kept.",
        parent=Comment.objects.create(essay=essay, author=veteran, body="x", body_html="<p>x</p>"),
    )  # unrelated thread
    page = client.get(essay.get_absolute_url()).content.decode()
    assert "Buy my stuff." not in page
    undo = decision_undo(actor=moderator, decision=decision, reason="Too hasty")
    assert snapshot(comment) == before
    assert undo.undoes == decision and undo.action == Decision.Action.UNDO
    with pytest.raises(Refused, match="already been undone"):
        decision_undo(actor=moderator, decision=decision)


def test_a_removed_comment_with_replies_leaves_a_placeholder_with_the_reason(
    client, veteran, moderator, essay
):
    comment = post(veteran, essay, "Rude words.")
    post(veteran, essay, "A civil reply.", parent=comment)
    services.comment_remove(actor=moderator, comment=comment, reason_code="abuse")
    page = client.get(essay.get_absolute_url()).content.decode()
    assert "Removed by a moderator: Harassment or abuse" in page
    assert "Rude words." not in page and "A civil reply." in page


def test_restore_brings_back_a_removed_comment(veteran, moderator, essay):
    comment = post(veteran, essay)
    services.comment_remove(actor=moderator, comment=comment, reason_code="off-topic")
    services.comment_restore(actor=moderator, comment=comment)
    assert snapshot(comment)[0] == Comment.Status.PUBLISHED
    with pytest.raises(Refused):
        services.comment_restore(actor=moderator, comment=comment)


def test_lock_stops_replies_anywhere_in_the_thread_and_undo_reopens_it(veteran, moderator, essay):
    root = post(veteran, essay)
    reply = post(veteran, essay, parent=root)
    decision = services.thread_lock_set(
        actor=moderator, comment=reply, locked=True, reason="Heated"
    )
    with pytest.raises(Refused, match="locked") as refusal:
        post(veteran, essay, parent=reply)
    assert refusal.value.status == 403
    decision_undo(actor=moderator, decision=decision)
    assert post(veteran, essay, parent=reply).pk


def test_closing_an_essay_and_undoing_it(veteran, moderator, essay):
    decision = services.essay_comments_set(actor=moderator, essay=essay, open_=False)
    with pytest.raises(Refused, match="closed"):
        post(veteran, essay)
    decision_undo(actor=moderator, decision=decision)
    essay.refresh_from_db()
    assert essay.comments_open


def test_suspension_blocks_posting_tells_until_when_and_why_and_can_be_lifted(
    veteran, moderator, essay
):
    with pytest.raises(Refused, match="Say why"):
        services.user_restrict(
            actor=moderator, user=veteran, kind=Restriction.Kind.SUSPENSION, length="7d"
        )
    decision = services.user_restrict(
        actor=moderator,
        user=veteran,
        kind=Restriction.Kind.SUSPENSION,
        length="7d",
        reason="Insults",
    )
    restriction = Restriction.objects.get(user=veteran)
    assert (
        timezone.timedelta(days=6, hours=23)
        < restriction.until - timezone.now()
        <= timezone.timedelta(days=7)
    )
    with pytest.raises(Refused, match="suspended from posting until .* Reason: Insults") as refusal:
        post(veteran, essay)
    assert refusal.value.status == 403
    decision_undo(actor=moderator, decision=decision)
    assert post(veteran, essay).pk
    services.user_restrict(
        actor=moderator, user=veteran, kind=Restriction.Kind.SUSPENSION, reason="Again"
    )
    with pytest.raises(Refused, match="until a moderator lifts it"):
        post(veteran, essay)
    lift = services.user_restriction_lift(
        actor=moderator, user=veteran, kind=Restriction.Kind.SUSPENSION
    )
    assert post(veteran, essay).pk
    decision_undo(actor=moderator, decision=lift)  # undoing a lift suspends again
    with pytest.raises(Refused, match="suspended"):
        post(veteran, essay)


def test_an_expired_suspension_no_longer_applies(veteran, moderator, essay):
    Restriction.objects.create(
        user=veteran,
        kind=Restriction.Kind.SUSPENSION,
        reason="Old",
        until=timezone.now() - timezone.timedelta(minutes=1),
        created_by=moderator,
    )
    assert post(veteran, essay).pk


def test_undoing_a_hold_publishes_the_comment(user, moderator, essay):
    comment = post(user, essay)
    hold = Decision.objects.get(comment=comment, action=Decision.Action.HOLD)
    decision_undo(actor=moderator, decision=hold)
    assert snapshot(comment)[0] == Comment.Status.PUBLISHED


def test_the_audit_log_records_each_step_and_is_append_only(veteran, user, moderator, essay):
    comment = post(veteran, essay)
    remove = services.comment_remove(
        actor=moderator, comment=comment, reason_code="spam", reason="Ads"
    )
    undo = decision_undo(actor=moderator, decision=remove)
    services.comment_approve(actor=moderator, comment=comment)
    actions = list(Decision.objects.order_by("id").values_list("action", "actor", "reason"))
    assert actions == [
        ("remove", moderator.pk, "Ads"),
        ("undo", moderator.pk, ""),
        ("approve", moderator.pk, ""),
    ]
    assert remove.subject_user == veteran and remove.essay == essay and undo.undoes == remove
    with pytest.raises(ValueError, match="append-only"):
        remove.reason = "Rewritten history"
        remove.save()
    with pytest.raises(ValueError, match="append-only"):
        remove.delete()


def test_only_moderators_can_take_decisions(veteran, user, staff, essay):
    comment = post(veteran, essay)
    for actor in (user, staff, veteran):
        with pytest.raises(Refused, match="Only moderators") as refusal:
            services.comment_remove(actor=actor, comment=comment, reason_code="spam")
        assert refusal.value.status == 403
        with pytest.raises(Refused, match="Only moderators"):
            services.user_restrict(
                actor=actor, user=veteran, kind=Restriction.Kind.SUSPENSION, reason="x"
            )
    assert snapshot(comment)[0] == Comment.Status.PUBLISHED
    assert not Decision.objects.exists()


ANCHOR_FIELDS = ["paragraph_id", "anchor_status", "anchor_text", "anchor_revision"]
ANCHOR_FIELDS += ["quote_lost", "reattached_at"]


def anchors(*comments) -> list[tuple]:
    return [
        tuple(getattr(Comment.objects.get(pk=c.pk), name) for name in ANCHOR_FIELDS)
        for c in comments
    ]


def test_a_moderator_reattaches_an_orphaned_thread_and_can_undo_it(veteran, moderator, essay):
    from essays.services import essay_import
    from tests.conftest import essay_source

    third = essay.paragraphs.get(position=2)
    written_about = third.text
    root = post(veteran, essay, "On the third.", paragraph=third)
    reply = post(veteran, essay, "A reply.", parent=root)
    essay_import(source=essay_source("First.", "Second."))
    root.refresh_from_db()
    assert root.anchor_status == "orphaned"
    orphaned = anchors(root, reply)
    second = essay.paragraphs.get(text="Second.")
    with pytest.raises(Refused):
        services.thread_reattach(actor=moderator, comment=root, paragraph=third)  # retired
    decision = services.thread_reattach(
        actor=moderator, comment=reply, paragraph=second, reason="Moved text"
    )
    for comment in (root, reply):
        comment.refresh_from_db()
        # On its new paragraph, still answering the text it was written about.
        assert comment.paragraph == second and comment.anchor_status == "moved"
        assert comment.anchor_text == written_about and comment.anchor_revision == 1
        assert comment.reattached_at is not None
    assert root.shows_old_anchor_text and not reply.shows_old_anchor_text
    assert decision.action == Decision.Action.REATTACH and decision.comment == root
    decision_undo(actor=moderator, decision=decision)
    assert anchors(root, reply) == orphaned  # exactly as it was


def test_a_thread_reattached_to_the_same_text_shows_no_old_text(veteran, moderator, essay):
    from essays.services import essay_import
    from tests.conftest import essay_source

    third = essay.paragraphs.get(position=2)
    root = post(veteran, essay, "On the third.", paragraph=third)
    # The third paragraph's text comes back as a new paragraph the matcher did not pair.
    essay_import(source=essay_source("First.", "Second."))
    essay_import(source=essay_source("First.", "Second.", third.text))
    again = essay.paragraphs.live().get(text=third.text)
    assert again.pk != third.pk
    services.thread_reattach(actor=moderator, comment=root, paragraph=again)
    root.refresh_from_db()
    assert root.anchor_status == "placed" and not root.shows_old_anchor_text


def test_undoing_a_second_reattach_puts_back_the_first(veteran, moderator, essay):
    from essays.services import essay_import
    from tests.conftest import essay_source

    third = essay.paragraphs.get(position=2)
    root = post(veteran, essay, "On the third.", paragraph=third)
    essay_import(source=essay_source("First.", "Second."))
    first, second = essay.paragraphs.live().order_by("position")
    services.thread_reattach(actor=moderator, comment=root, paragraph=first)
    after_first = anchors(root)
    second_decision = services.thread_reattach(actor=moderator, comment=root, paragraph=second)
    assert anchors(root) != after_first
    decision_undo(actor=moderator, decision=second_decision)
    assert anchors(root) == after_first


def test_an_undo_logged_before_reattachments_were_dated_still_applies(veteran, moderator, essay):
    """A decision stored before the snapshot kept the re-attachment's date has four values
    per comment: undoing it puts the thread back, not re-attached."""
    from essays.services import essay_import
    from tests.conftest import essay_source

    third = essay.paragraphs.get(position=2)
    root = post(veteran, essay, "On the third.", paragraph=third)
    essay_import(source=essay_source("First.", "Second."))
    root.refresh_from_db()
    old = Comment.objects.filter(pk=root.pk)
    old_state = {"comments": {str(root.pk): [third.pk, "orphaned", root.anchor_text, False]}}
    second = essay.paragraphs.get(text="Second.")
    old.update(paragraph=second, anchor_status="placed", anchor_text=second.text)
    decision = Decision.objects.create(
        actor=moderator,
        action=Decision.Action.REATTACH,
        comment=root,
        essay=essay,
        previous_state=old_state,
    )
    decision_undo(actor=moderator, decision=decision)
    root.refresh_from_db()
    assert (root.paragraph_id, root.anchor_status, root.reattached_at) == (
        third.pk,
        "orphaned",
        None,
    )


@pytest.mark.parametrize(
    ("until_days", "lifted"),
    [(None, False), (1, False), (-1, False), (None, True), (1, True)],
)
def test_the_restriction_rule_in_force_is_the_tested_rule(veteran, moderator, until_days, lifted):
    """`RestrictionQuerySet.active` (what the site asks) and `rules.restriction_is_active`
    (what test_rules.py checks) must agree, or those tests assure nothing."""
    from datetime import timedelta

    from django.utils import timezone

    from forum.moderation import rules

    now = timezone.now()
    restriction = Restriction.objects.create(
        user=veteran,
        kind=Restriction.Kind.SUSPENSION,
        until=None if until_days is None else now + timedelta(days=until_days),
        lifted_at=now if lifted else None,
        created_by=moderator,
    )
    in_force = Restriction.objects.active().filter(pk=restriction.pk).exists()
    assert in_force == rules.restriction_is_active(
        until=restriction.until, lifted_at=restriction.lifted_at, now=timezone.now()
    )
    assert in_force == restriction.is_active


def test_threads_reattached_before_the_text_was_kept_get_it_back(veteran, moderator, essay):
    """The migration that gives threads re-attached by the earlier service (which wrote the
    new paragraph's text over the old) back the text they were written about."""
    import importlib

    from django.apps import apps

    from essays.services import essay_import
    from tests.conftest import essay_source

    migration = importlib.import_module(
        "forum.moderation.migrations.0004_reattached_threads_keep_their_text"
    )
    third = essay.paragraphs.get(position=2)
    written_about = third.text
    root = post(veteran, essay, "On the third.", paragraph=third)
    reply = post(veteran, essay, "A reply.", parent=root)
    essay_import(source=essay_source("First.", "Second."))
    second = essay.paragraphs.get(text="Second.")
    # What the earlier service did: four values per comment, the new paragraph's text.
    decision = Decision.objects.create(
        actor=moderator,
        action=Decision.Action.REATTACH,
        comment=root,
        essay=essay,
        previous_state={
            "comments": {
                str(c.pk): [third.pk, "orphaned", written_about, False] for c in (root, reply)
            }
        },
    )
    Comment.objects.filter(pk__in=[root.pk, reply.pk]).update(
        paragraph=second, anchor_status="placed", anchor_text=second.text
    )
    later = post(veteran, essay, "Written since.", parent=root)
    migration.restore_written_about(apps, None)
    for comment in (root, reply, later):
        comment.refresh_from_db()
        assert comment.anchor_text == written_about and comment.anchor_status == "moved"
        assert comment.reattached_at == decision.created
    decision_undo(actor=moderator, decision=decision)
    root.refresh_from_db()
    assert (root.paragraph_id, root.anchor_status, root.reattached_at) == (
        third.pk,
        "orphaned",
        None,
    )


def test_a_suspended_reader_is_told_of_the_suspension_whatever_their_text(suspended, essay):
    """Their standing is asked before their text is judged: an empty or blocked text is
    not what stops them."""
    WordRule.objects.create(word="forbidden", kind=WordRule.Kind.BLOCKED)
    for body in ("", "   ", "A forbidden word.", "A fine thought."):
        with pytest.raises(Refused) as refused:
            discussion.comment_post(author=suspended, essay=essay, body=body)
        assert refused.value.status == 403
        assert "suspended" in refused.value.message and "Spamming" in refused.value.message
    assert not Comment.objects.filter(author=suspended).exists()
