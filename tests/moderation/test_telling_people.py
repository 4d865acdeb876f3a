"""Issue 14, item 7: hides after reports, suspensions (with their end and reason), lifts and
undos reach the author as a notification and an email, with the public reason only; readers
who reported a comment learn the outcome, never who decided nor the private note."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from forum.discussion.models import Comment
from forum.discussion.services import DEFAULT_GUIDELINES, guidelines_edit
from forum.moderation import services
from forum.moderation.models import Decision, ReasonCode, Restriction
from forum.moderation.undo import decision_undo
from forum.subscriptions.models import Notification
from forum.subscriptions.services import send_pending_email
from tests.conftest import make_user, post

Reason = Notification.Reason
PRIVATE = "PRIVATE-NOTE-never-shown"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://essays.example.org"
    settings.NOTIFICATION_EMAIL_WINDOW = 0


@pytest.fixture
def guidelines(db):
    from forum.accounts.models import User

    owner = User.objects.create_superuser(email="owner@example.org", password="x" * 20)
    return guidelines_edit(editor=owner, body=DEFAULT_GUIDELINES)


@pytest.fixture
def author(veteran):
    return make_user("author@example.org", "Ann Author")


@pytest.fixture
def reporters(db):
    return [make_user(f"r{n}@example.org", f"Reporter {n}") for n in range(3)]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Do a moderation step as a request would: commit, then what follows the commit."""

    def run(step, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return step(**kwargs)

    return run


def email_to(user):
    """Send what `user` has not been told yet, and return that email."""
    mail.outbox.clear()
    assert send_pending_email(user.pk) >= 1
    [message] = mail.outbox
    return message


def whole(message) -> str:
    return message.subject + message.body + message.alternatives[0][0]


def news(user):
    return list(Notification.objects.filter(recipient=user).order_by("id"))


def test_hiding_after_reports_tells_the_author_and_the_reporters(
    run, author, reporters, essay, guidelines, moderator
):
    comment = post(author, essay, "A sharp remark.")
    for reader in reporters:
        run(services.flag_create, reporter=reader, comment=comment, reason=ReasonCode.ABUSE)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    [told] = news(author)
    assert told.reason == Reason.HIDDEN and "until a moderator looks at it" in told.detail
    message = email_to(author)
    assert message.subject == (
        "[Margins] Your comment was hidden after readers’ reports, on “A test essay”"
    )
    text = whole(message)
    assert "https://essays.example.org/guidelines/" in text
    # The rules' own note (how many reported it) and the reporters stay unsaid.
    assert "readers reported it" not in text and "Reporter" not in text
    for reader in reporters:
        [answer] = news(reader)
        assert answer.reason == Reason.REPORT_HIDDEN
    assert "A comment you reported is hidden" in email_to(reporters[0]).subject


def test_a_removal_tells_the_author_its_public_reason_and_section_and_the_reporters(
    run, author, reporters, essay, guidelines, moderator
):
    comment = post(author, essay, "Buy my pills.")
    run(services.flag_create, reporter=reporters[0], comment=comment, reason=ReasonCode.SPAM)
    run(
        services.comment_remove,
        actor=moderator,
        comment=comment,
        reason_code=ReasonCode.SPAM,
        reason=PRIVATE,
    )
    [told] = news(author)
    assert (told.reason, told.detail, told.guidelines_section) == (Reason.REMOVED, "Spam", "spam")
    text = whole(email_to(author))
    assert "Reason: Spam." in text and "https://essays.example.org/guidelines/#spam" in text
    assert PRIVATE not in text and "Mo Derator" not in text
    [answer] = news(reporters[0])
    assert answer.reason == Reason.REPORT_REMOVED
    reporter_text = whole(email_to(reporters[0]))
    assert "A comment you reported was removed" in reporter_text
    assert "/guidelines/#spam" in reporter_text
    assert PRIVATE not in reporter_text and "Mo Derator" not in reporter_text
    assert "Buy my pills" not in reporter_text  # removed: its text is no longer shown


def test_a_reason_without_a_section_points_to_the_whole_guidelines(
    run, author, essay, guidelines, moderator
):
    guidelines_edit(editor=guidelines_owner(), body="## Be kind\n\nPlease.")
    comment = post(author, essay, "Buy my pills.")
    run(services.comment_remove, actor=moderator, comment=comment, reason_code=ReasonCode.SPAM)
    [told] = news(author)
    assert told.guidelines_section == "" and told.guidelines_url == reverse("discussion:guidelines")


def guidelines_owner():
    from forum.accounts.models import User

    return User.objects.get(email="owner@example.org")


def test_keeping_a_reported_comment_tells_the_reporters_and_not_the_author(
    run, author, reporters, essay, moderator
):
    comment = post(author, essay, "An unpopular view.")
    run(services.flag_create, reporter=reporters[0], comment=comment, reason=ReasonCode.OFF_TOPIC)
    run(services.comment_approve, actor=moderator, comment=comment, reason=PRIVATE)
    assert news(author) == []
    [answer] = news(reporters[0])
    assert answer.reason == Reason.REPORT_KEPT and answer.detail == ""
    text = whole(email_to(reporters[0]))
    assert "A comment you reported was kept" in text and "within the guidelines" in text
    assert PRIVATE not in text and "Mo Derator" not in text
    assert "An unpopular view." in text  # still published: the reporter may read it


def test_restoring_a_removed_comment_tells_those_who_reported_it(
    run, author, reporters, essay, moderator
):
    comment = post(author, essay, "A sharp but fair view.")
    run(services.flag_create, reporter=reporters[0], comment=comment, reason=ReasonCode.ABUSE)
    run(services.comment_remove, actor=moderator, comment=comment, reason_code=ReasonCode.ABUSE)
    run(services.comment_restore, actor=moderator, comment=comment, reason=PRIVATE)
    told = news(reporters[0])
    assert [n.reason for n in told] == [Reason.REPORT_REMOVED, Reason.REPORT_KEPT]
    assert PRIVATE not in whole(email_to(reporters[0]))


def test_a_suspension_tells_its_end_and_public_reason_and_a_lift_says_so(
    run, author, moderator, client
):
    decision = run(
        services.user_restrict,
        actor=moderator,
        user=author,
        kind=Restriction.Kind.SUSPENSION,
        length="7d",
        reason="Repeated insults",
        note=PRIVATE,
    )
    [told] = news(author)
    assert told.reason == Reason.SUSPENDED and told.comment is None
    assert told.detail == "Repeated insults"
    assert abs(told.until - (decision.created + timedelta(days=7))) < timedelta(seconds=5)
    message = email_to(author)
    assert message.subject == "[Margins] You are suspended from posting"
    text = whole(message)
    assert "Reason: Repeated insults." in text and "Until " in text
    assert timezone.localtime(told.until).strftime("%Y") in text
    assert "https://essays.example.org/guidelines/" in text
    assert PRIVATE not in text and "Mo Derator" not in text
    # The notifications page shows it, and opening it leads to the guidelines.
    client.force_login(author)
    page = client.get(reverse("subscriptions:notifications")).content.decode()
    assert "You are suspended from posting" in page and "Repeated insults" in page
    opened = client.get(reverse("subscriptions:open", kwargs={"pk": told.pk}))
    assert opened.status_code == 302 and opened["Location"].startswith("/guidelines/")

    run(
        services.user_restriction_lift,
        actor=moderator,
        user=author,
        kind=Restriction.Kind.SUSPENSION,
        public_reason="You apologised",
        reason=PRIVATE,
    )
    lifted = news(author)[-1]
    assert lifted.reason == Reason.LIFTED and lifted.detail == "You apologised"
    text = whole(email_to(author))
    assert "Your suspension was lifted" in text and "You can comment again" in text
    assert PRIVATE not in text


def test_a_suspension_until_lifted_says_so(run, author, moderator):
    run(
        services.user_restrict,
        actor=moderator,
        user=author,
        kind=Restriction.Kind.SUSPENSION,
        reason="Spam",
    )
    [told] = news(author)
    assert told.until is None
    assert "Until a moderator lifts it." in whole(email_to(author))


def test_always_premoderating_an_author_sends_no_suspension_notice(run, author, moderator):
    run(
        services.user_restrict,
        actor=moderator,
        user=author,
        kind=Restriction.Kind.PREMODERATION,
        reason="",
    )
    assert news(author) == []


def test_undoing_a_removal_or_a_suspension_tells_the_author(run, author, essay, moderator):
    comment = post(author, essay, "Fine after all.")
    removal = run(
        services.comment_remove, actor=moderator, comment=comment, reason_code=ReasonCode.HATE
    )
    run(
        decision_undo,
        actor=moderator,
        decision=removal,
        public_reason="Our mistake",
        reason=PRIVATE,
    )
    restored = news(author)[-1]
    assert restored.reason == Reason.RESTORED and restored.detail == "Our mistake"
    assert "Your comment was restored" in whole(email_to(author))

    suspension = run(
        services.user_restrict,
        actor=moderator,
        user=author,
        kind=Restriction.Kind.SUSPENSION,
        length="1d",
        reason="Heat of the moment",
    )
    run(decision_undo, actor=moderator, decision=suspension)
    assert news(author)[-1].reason == Reason.LIFTED
    assert PRIVATE not in whole(email_to(author))


def test_undoing_a_lift_tells_the_author_the_suspension_is_back_with_its_end(
    run, author, moderator
):
    run(
        services.user_restrict,
        actor=moderator,
        user=author,
        kind=Restriction.Kind.SUSPENSION,
        length="30d",
        reason="Threats",
    )
    lift = run(
        services.user_restriction_lift,
        actor=moderator,
        user=author,
        kind=Restriction.Kind.SUSPENSION,
    )
    run(decision_undo, actor=moderator, decision=lift)
    back = news(author)[-1]
    assert back.reason == Reason.SUSPENDED and back.detail == "Threats"
    assert back.until == Restriction.objects.get(user=author).until


def test_undoing_an_approval_tells_the_author_their_comment_is_hidden_again(
    run, author, reporters, essay, moderator
):
    comment = post(author, essay, "Contested.")
    for reader in reporters:
        run(services.flag_create, reporter=reader, comment=comment, reason=ReasonCode.ABUSE)
    approval = run(services.comment_approve, actor=moderator, comment=comment)
    assert news(author)[-1].reason == Reason.APPROVED
    run(decision_undo, actor=moderator, decision=approval)
    again = news(author)[-1]
    assert again.reason == Reason.HIDDEN
    assert Decision.objects.filter(action=Decision.Action.UNDO).count() == 1


def test_no_notification_carries_a_private_note(run, author, reporters, essay, moderator):
    """Every way a decision reaches people, with a private note on each step."""
    comment = post(author, essay, "Borderline.")
    run(
        services.flag_create,
        reporter=reporters[0],
        comment=comment,
        reason=ReasonCode.OTHER,
        note="reporter's own words",
    )
    removal = run(
        services.comment_remove,
        actor=moderator,
        comment=comment,
        reason_code=ReasonCode.OTHER,
        reason=PRIVATE,
    )
    run(decision_undo, actor=moderator, decision=removal, reason=PRIVATE)
    run(
        services.user_restrict,
        actor=moderator,
        user=author,
        kind=Restriction.Kind.SUSPENSION,
        reason="Told",
        note=PRIVATE,
    )
    assert Notification.objects.count() >= 4
    for notification in Notification.objects.all():
        assert PRIVATE not in notification.summary + notification.detail
    assert "reporter's own words" not in whole(email_to(author))


def test_the_notices_page_links_a_removal_to_its_section_of_the_guidelines(
    run, author, essay, guidelines, moderator, client
):
    comment = post(author, essay, "Buy my pills.")
    run(services.comment_remove, actor=moderator, comment=comment, reason_code=ReasonCode.SPAM)
    client.force_login(author)
    page = client.get(reverse("moderation:notices")).content.decode()
    assert 'href="/guidelines/#spam"' in page
