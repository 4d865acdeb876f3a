"""Moderation decisions that must not contradict each other, the hierarchy of who may
restrict whom, and what authors are told. Each test failed on the code before it."""

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from essays.services import essay_import
from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation import services
from forum.moderation.models import Decision, Flag, ReasonCode, Restriction
from forum.moderation.services import moderators_group
from forum.moderation.undo import decision_undo
from forum.refusals import Refused
from forum.subscriptions.models import Notification
from tests.conftest import essay_source, make_user, post


@pytest.fixture
def owner(db):
    user = make_user("owner@example.org", "Site Owner")
    user.is_superuser = user.is_staff = True
    user.save()
    return user


@pytest.fixture
def second_moderator(db):
    user = make_user("mod2@example.org", "Second Mod")
    user.groups.add(moderators_group())
    return user


# Undo ------------------------------------------------------------------------------------


def test_undoing_a_hold_does_not_republish_a_comment_removed_since(user, moderator, essay):
    held = post(user, essay, "Held first.")  # a new account's first comment is held
    hold = Decision.objects.get(comment=held, action=Decision.Action.HOLD)
    services.comment_remove(actor=moderator, comment=held, reason_code="spam")
    with pytest.raises(Refused, match="“removed” by") as refusal:
        decision_undo(actor=moderator, decision=hold)
    assert refusal.value.status == 409 and f"#{hold.pk + 1}" in refusal.value.message
    held.refresh_from_db()
    assert held.status == Comment.Status.REMOVED


def test_an_authors_deletion_is_final(user, moderator, essay, django_capture_on_commit_callbacks):
    held = post(user, essay, "Held, then deleted.")
    hold = Decision.objects.get(comment=held, action=Decision.Action.HOLD)
    discussion.comment_delete(comment=held, actor=user)
    with django_capture_on_commit_callbacks(execute=True):
        for act in (
            lambda: decision_undo(actor=moderator, decision=hold),
            lambda: services.comment_approve(actor=moderator, comment=held),
            lambda: services.comment_restore(actor=moderator, comment=held),
        ):
            with pytest.raises(Refused):
                act()
    held.refresh_from_db()
    assert held.status == Comment.Status.DELETED
    assert not Notification.objects.filter(comment=held, reason="essay").exists()
    assert mail.outbox == []


def test_suspend_lift_and_their_undos_agree_with_the_log(veteran, moderator, essay):
    suspend = services.user_restrict(
        actor=moderator, user=veteran, kind="suspension", reason="Flooding"
    )
    lift = services.user_restriction_lift(actor=moderator, user=veteran, kind="suspension")
    with pytest.raises(Refused, match="lifted suspension") as refusal:
        decision_undo(actor=moderator, decision=suspend)
    assert f"#{lift.pk}" in refusal.value.message
    decision_undo(actor=moderator, decision=lift)
    # The suspension stands again, and the log does not say it was undone.
    assert veteran.restrictions.active().filter(kind="suspension").exists()
    assert not hasattr(Decision.objects.get(pk=suspend.pk), "undone_by")
    # Now undoing the suspension itself works.
    decision_undo(actor=moderator, decision=Decision.objects.get(pk=suspend.pk))
    assert not veteran.restrictions.active().exists()


def test_an_undo_applies_again_once_the_later_decision_is_undone(veteran, moderator, essay):
    comment = post(veteran, essay, "Kept, removed, restored.")
    remove = services.comment_remove(actor=moderator, comment=comment, reason_code="spam")
    restore = services.comment_restore(actor=moderator, comment=comment)
    with pytest.raises(Refused):
        decision_undo(actor=moderator, decision=remove)
    decision_undo(actor=moderator, decision=restore)
    decision_undo(actor=moderator, decision=Decision.objects.get(pk=remove.pk))
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_undoing_a_reattach_takes_the_replies_posted_since_with_the_thread(
    veteran, user, moderator, make_essay, client
):
    essay = make_essay("Alpha stays.", "Beta goes away.", "Gamma stays.")
    beta = essay.paragraphs.get(position=1)
    root = post(veteran, essay, "About beta.", paragraph=beta)
    essay_import(source=essay_source("Alpha stays.", "Gamma stays."))
    gamma = essay.paragraphs.live().get(text="Gamma stays.")
    reattach = services.thread_reattach(actor=moderator, comment=root, paragraph=gamma)
    reply = post(veteran, essay, "A reply posted on gamma.", parent=root)
    assert reply.paragraph_id == gamma.pk
    decision_undo(actor=moderator, decision=reattach)
    reply.refresh_from_db()
    assert reply.paragraph_id == beta.pk  # with its thread, not left behind
    page = client.get(essay.get_absolute_url()).content.decode()
    assert "A reply posted on gamma." in page  # under "On earlier versions"
    margin = client.get(gamma.get_absolute_url()).content.decode()
    assert "A reply posted on gamma." not in margin


# Hierarchy -------------------------------------------------------------------------------


def test_only_the_site_owner_restricts_moderators_and_staff(
    moderator, second_moderator, staff, owner, essay
):
    for target in (owner, second_moderator, staff):
        with pytest.raises(Refused) as refusal:
            services.user_restrict(actor=moderator, user=target, kind="suspension", reason="x")
        assert refusal.value.status == 403
    assert not Restriction.objects.exists()
    services.user_restrict(actor=owner, user=moderator, kind="suspension", reason="Abuse")
    assert moderator.restrictions.active().exists()


def test_a_restricted_moderator_cannot_moderate_or_lift_their_own_suspension(
    moderator, owner, veteran, essay
):
    comment = post(veteran, essay, "A comment to lock.")
    services.user_restrict(actor=owner, user=moderator, kind="suspension", reason="Abuse")
    for act in (
        lambda: services.thread_lock_set(actor=moderator, comment=comment, locked=True),
        lambda: services.user_restriction_lift(actor=moderator, user=moderator, kind="suspension"),
        lambda: services.user_restrict(
            actor=moderator, user=veteran, kind="suspension", reason="x"
        ),
    ):
        with pytest.raises(Refused):
            act()
    client = Client()
    client.force_login(moderator)
    assert client.get("/moderation/").status_code == 403
    assert client.post(f"/moderation/comments/{comment.pk}/lock/").status_code == 403
    comment.refresh_from_db()
    assert comment.locked_at is None and moderator.restrictions.active().exists()


# What authors are told -----------------------------------------------------------------


def test_private_notes_never_reach_the_author(veteran, moderator, essay):
    comment = post(veteran, essay, "A comment.")
    services.comment_remove(
        actor=moderator, comment=comment, reason_code="spam", reason="PRIVATE-remove"
    )
    restore = services.comment_restore(
        actor=moderator, comment=comment, reason="PRIVATE-restore", public_reason="On appeal"
    )
    decision_undo(actor=moderator, decision=restore, reason="PRIVATE-undo")
    services.comment_approve(actor=moderator, comment=comment, reason="PRIVATE-approve")
    client = Client()
    client.force_login(veteran)
    page = client.get("/moderation/notices/").content.decode()
    assert "PRIVATE-" not in page
    assert "Spam" in page and "On appeal" in page
    moderator_client = Client()
    moderator_client.force_login(moderator)
    log = moderator_client.get("/moderation/log/").content.decode()
    assert "PRIVATE-remove" in log and "On appeal" in log


def test_removed_text_leaves_read_notifications_and_queued_emails(
    user, other_user, moderator, veteran, essay, settings, django_capture_on_commit_callbacks
):
    from forum.subscriptions.services import send_pending_email, subscription_set

    subscription_set(user=other_user, essay=essay, level="follow")
    with django_capture_on_commit_callbacks(execute=True):
        comment = post(veteran, essay, "SECRET-soon-removed")
    from forum.subscriptions.services import fan_out

    fan_out(comment.pk)
    notification = Notification.objects.get(recipient=other_user, comment=comment)
    client = Client()
    client.force_login(other_user)
    client.get(f"/notifications/{notification.pk}/")  # read it
    services.comment_remove(actor=moderator, comment=comment, reason_code="abuse")
    assert "SECRET-soon-removed" not in client.get("/notifications/").content.decode()
    # A queued email sent after the removal does not carry the text.
    Notification.objects.filter(pk=notification.pk).update(read_at=None, emailed_at=None)
    mail.outbox = []
    send_pending_email(other_user.pk)
    assert all("SECRET-soon-removed" not in m.body for m in mail.outbox)
    assert all("SECRET-soon-removed" not in str(m.alternatives) for m in mail.outbox)


# Reports and decisions at the same moment (sequential forms; tests/test_concurrency.py
# runs them concurrently on PostgreSQL) --------------------------------------------------


def test_a_report_on_a_comment_hidden_a_moment_ago_is_recorded_and_thanked(
    veteran, essay, settings
):
    settings.MODERATION_HIDE_THRESHOLD = 2
    comment = post(veteran, essay, "Reported by many.")
    readers = [make_user(f"r{n}@example.org", f"Reader {n}") for n in range(4)]
    for reader in readers:
        client = Client()
        client.force_login(reader)
        response = client.post(f"/comments/{comment.pk}/report/", {"reason": "spam"})
        assert response.status_code == 302, reader
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    assert Flag.objects.filter(comment=comment).count() == 4
    assert Decision.objects.filter(comment=comment, action=Decision.Action.HIDE).count() == 1


def test_a_second_moderator_is_told_a_decision_was_just_made(
    user, moderator, second_moderator, essay
):
    held = post(user, essay, "Waiting.")
    services.comment_approve(actor=moderator, comment=held, seen_status="pending")
    with pytest.raises(Refused, match="just made") as refusal:
        services.comment_remove(
            actor=second_moderator, comment=held, reason_code="spam", seen_status="pending"
        )
    assert refusal.value.status == 409 and "“approved” by Mo Derator" in refusal.value.message
    held.refresh_from_db()
    assert held.status == Comment.Status.PUBLISHED
    # Through the page: the hidden field carries what the moderator saw.
    client = Client()
    client.force_login(second_moderator)
    response = client.post(
        f"/moderation/comments/{held.pk}/remove/",
        {"reason_code": "spam", "seen_status": "pending"},
    )
    assert response.status_code == 409 and "just made" in response.content.decode()


def test_a_bulk_action_is_all_or_nothing(veteran, user, moderator, essay):
    comments = [post(veteran, essay, f"Bulk {n}.") for n in range(5)]
    discussion.comment_delete(comment=comments[3], actor=veteran)
    client = Client()
    client.force_login(moderator)
    before = Decision.objects.count()
    response = client.post(
        "/moderation/bulk/",
        {"comments": [c.pk for c in comments], "action": "remove", "reason_code": "spam"},
    )
    assert response.status_code == 409
    assert f"#{comments[3].pk}" in response.content.decode()
    assert Decision.objects.count() == before
    assert Comment.objects.filter(status=Comment.Status.REMOVED).count() == 0


def test_bad_ids_answer_400(user, moderator, essay, veteran):
    comment = post(veteran, essay, "Somewhere.")
    client = Client()
    client.force_login(user)
    for data in ({"essay": "abc"}, {"essay": essay.pk, "paragraph": "abc"}, {"essay": ""}):
        assert client.post("/subscriptions/set/", {**data, "level": "follow"}).status_code == 400
    client.force_login(moderator)
    response = client.post(f"/moderation/comments/{comment.pk}/reattach/", {"paragraph": "abc"})
    assert response.status_code == 400


def test_following_a_thread_that_is_not_published_is_refused(user, moderator, veteran, essay):
    comment = post(veteran, essay, "Soon removed.")
    services.comment_remove(actor=moderator, comment=comment, reason_code=ReasonCode.SPAM)
    client = Client()
    client.force_login(user)
    response = client.post(
        "/subscriptions/set/", {"essay": essay.pk, "thread": comment.pk, "level": "follow"}
    )
    assert response.status_code == 404
    assert not user.subscriptions.exists()


def test_a_bulk_action_does_not_override_a_decision_made_since_the_queue_was_shown(
    user, other_user, moderator, owner, essay
):
    first, second = post(user, essay, "Held one."), post(other_user, essay, "Held two.")
    client = Client()
    client.force_login(moderator)
    queue = client.get("/moderation/?queue=pending").content.decode()
    assert f'name="seen-{first.pk}" value="pending"' in queue
    services.comment_remove(actor=owner, comment=first, reason_code="abuse")
    response = client.post(
        "/moderation/bulk/",
        {
            "comments": [first.pk, second.pk],
            "action": "approve",
            f"seen-{first.pk}": "pending",
            f"seen-{second.pk}": "pending",
        },
    )
    assert response.status_code == 409 and "Site Owner" in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("removed", "pending")


@pytest.mark.parametrize("bad", ["²", "١", "99999999999999999999999", "-1", " 1"])
def test_ids_in_other_digits_or_out_of_range_answer_400(user, moderator, veteran, essay, bad):
    comment = post(veteran, essay, "Somewhere.")
    client = Client()
    client.force_login(user)
    for name in ("essay", "paragraph", "thread"):
        data = {"essay": essay.pk, "level": "follow", name: bad}
        assert client.post("/subscriptions/set/", data).status_code == 400, name
    client.force_login(moderator)
    reattach = f"/moderation/comments/{comment.pk}/reattach/"
    assert client.post(reattach, {"paragraph": bad}).status_code == 400
    bulk = {"comments": [bad], "action": "approve"}
    assert client.post("/moderation/bulk/", bulk).status_code == 400
    assert not user.subscriptions.exists()


def test_undoing_a_suspension_of_a_deleted_account_is_refused_not_a_crash(veteran, moderator):
    suspend = services.user_restrict(
        actor=moderator, user=veteran, kind="suspension", length="7d", reason="x"
    )
    veteran.delete()
    client = Client()
    client.force_login(moderator)
    response = client.post(f"/moderation/log/{suspend.pk}/undo/")
    assert response.status_code == 409
    assert "no longer exists" in response.content.decode()


def test_the_admin_cannot_restrict_around_the_hierarchy(owner, moderator, staff):
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__model="restriction", content_type__app_label="moderation"
        )
    )
    client = Client()
    client.force_login(staff)
    response = client.post(
        "/admin/moderation/restriction/add/",
        {"user": owner.pk, "kind": "suspension", "created_by": staff.pk, "reason": "x"},
    )
    assert response.status_code == 403
    assert not Restriction.objects.exists()


def test_one_can_let_go_of_a_retired_paragraph_or_a_removed_thread(
    user, moderator, veteran, make_essay
):
    from forum.subscriptions.services import subscription_set

    essay = make_essay("Alpha.", "Beta, soon gone.")
    beta = essay.paragraphs.get(position=1)
    thread = post(veteran, essay, "A thread.")
    subscription_set(user=user, essay=essay, paragraph=beta, level="follow")
    subscription_set(user=user, essay=essay, thread=thread, level="follow")
    essay_import(source=essay_source("Alpha."))
    services.comment_remove(actor=moderator, comment=thread, reason_code="spam")
    client = Client()
    client.force_login(user)
    for target in ({"paragraph": beta.pk}, {"thread": thread.pk}):
        response = client.post("/subscriptions/set/", {"essay": essay.pk, "level": "", **target})
        assert response.status_code == 302, target
    assert not user.subscriptions.exists()
    # Following them again is refused.
    for target in ({"paragraph": beta.pk}, {"thread": thread.pk}):
        data = {"essay": essay.pk, "level": "follow", **target}
        assert client.post("/subscriptions/set/", data).status_code == 404, target


def test_restrictions_and_lifts_keep_the_public_reason_apart_from_the_private_note(
    veteran, moderator
):
    client = Client()
    client.force_login(moderator)
    client.post(
        f"/moderation/authors/{veteran.pk}/restrict/",
        {"kind": "suspension", "length": "1d", "reason": "Flooding", "note": "PRIVATE-spa"},
    )
    client.post(
        f"/moderation/authors/{veteran.pk}/lift/suspension/",
        {"public_reason": "Served", "reason": "PRIVATE-lift"},
    )
    suspend, lift = Decision.objects.order_by("id")
    assert (suspend.public_reason, suspend.reason) == ("Flooding", "PRIVATE-spa")
    assert (lift.public_reason, lift.reason) == ("Served", "PRIVATE-lift")
    author = Client()
    author.force_login(veteran)
    notices = author.get("/moderation/notices/").content.decode()
    assert "Flooding" in notices and "Served" in notices and "PRIVATE-" not in notices


def test_a_rate_limited_report_says_when_to_try_again(veteran, user, essay, settings):
    settings.REPORT_RATE_LIMITS = [(1, 3600)]
    one, two = post(veteran, essay, "One."), post(veteran, essay, "Two.")
    client = Client()
    client.force_login(user)
    client.post(f"/comments/{one.pk}/report/", {"reason": "spam"})
    response = client.post(f"/comments/{two.pk}/report/", {"reason": "spam"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


@pytest.mark.parametrize("url", ["/moderation/log/", "/moderation/?queue=decided"])
def test_the_log_costs_the_same_queries_however_many_undos(
    url, veteran, moderator, essay, settings, django_assert_max_num_queries
):
    settings.COMMENT_RATE_LIMITS = [(100, 60)]
    client = Client()
    client.force_login(moderator)

    def remove_and_undo(count):
        for n in range(count):
            comment = post(veteran, essay, f"Undone {url} {n}.")
            decision = services.comment_remove(actor=moderator, comment=comment, reason_code="spam")
            decision_undo(actor=moderator, decision=decision)

    remove_and_undo(2)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    remove_and_undo(6)
    with django_assert_max_num_queries(len(few)):
        client.get(url)
