"""Races between requests that arrive together, run for real: each step in its own thread with
its own database connection, all released at once by a barrier. The assertions are what must
hold whichever order the database let the steps run in.

Only PostgreSQL makes the steps wait for one another on a row lock (`select_for_update`), so
the concurrent tests need it; CI runs the suite on both databases. The same steps also run one
after the other, in each order, against the same assertions: those tests run on SQLite too.
"""

import threading
from dataclasses import dataclass
from functools import partial

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from essays.services import essay_import
from forum.discussion import services as discussion
from forum.discussion.models import Comment, CommentRevision
from forum.moderation import services as moderation
from forum.moderation.models import Decision, Flag
from forum.moderation.services import STATUS_LEFT_BY, latest_decision_on
from forum.refusals import Refused
from tests.conftest import essay_source, make_user

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Real concurrency needs PostgreSQL: SQLite has no row locks and lets one writer in "
    "at a time. CI runs these on PostgreSQL.",
)
concurrent = pytest.mark.django_db(transaction=True)

THANKS = "Thank you: your report was received."


# Running steps ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one step returned, or the exception it raised."""

    value: object = None
    error: Exception | None = None

    def get(self):
        """The value; a step that had to succeed re-raises what it raised."""
        if self.error is not None:
            raise self.error
        return self.value

    def refusal(self, kind=Refused) -> Refused:
        """The refusal the step answered with; anything else (or success) is re-raised."""
        if not isinstance(self.error, kind):
            self.get()
            raise AssertionError(f"expected a refusal, the step returned {self.value!r}")
        return self.error


def _outcome_of(step) -> Outcome:
    try:
        return Outcome(value=step())
    except Exception as error:
        return Outcome(error=error)


def run_together(steps: dict) -> dict:
    """Run every step at the same moment, each in its own thread with its own database
    connection; return each step's Outcome under its name."""
    barrier = threading.Barrier(len(steps))
    outcomes = {}

    def run(name, step):
        try:
            # Connect before the barrier, so that the steps themselves start together.
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[name] = _outcome_of(step)
        except Exception as error:
            outcomes[name] = Outcome(error=error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in steps.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a step never ended: a deadlock?"
    return outcomes


def run_in_order(steps: dict, order) -> dict:
    """The same steps one after the other, in `order`, on this thread's connection."""
    return {name: _outcome_of(steps[name]) for name in order}


# The world ------------------------------------------------------------------------------


@pytest.fixture
def site_rules(settings):
    """The site's moderation defaults (as in tests/moderation), and no rate-limit counts
    left over: they live in the cache, which every thread shares."""
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    settings.MODERATION_HIDE_THRESHOLD = 3
    settings.MODERATION_LINK_LIMIT = 3
    cache.clear()
    return settings


@pytest.fixture
def essay(site_rules):
    return essay_import(source=essay_source("First.", "Second.")).essay


@pytest.fixture
def moderators(site_rules):
    group = moderation.moderators_group()
    pair = [make_user("mod-a@example.org", "Moda One"), make_user("mod-b@example.org", "Modb Two")]
    for moderator in pair:
        moderator.groups.add(group)
    return pair


def fresh(instance):
    """The row as another request would load it: its own object, not one shared."""
    return type(instance).objects.get(pk=instance.pk)


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# 18. An author's edit racing a moderator's removal ------------------------------------------


def edit_and_removal(essay, moderator, trial):
    """A published comment, and the two steps: its author edits it, a moderator removes it.
    Each step holds the comment as its page loaded it, before either acted."""
    author = make_user(f"author{trial}@example.org", f"Author {trial}")
    comment = discussion.comment_post(author=author, essay=essay, body=f"Original {trial}.")
    assert comment.status == Comment.Status.PUBLISHED
    steps = {
        "edit": partial(
            discussion.comment_edit,
            comment=fresh(comment),
            editor=fresh(author),
            body=f"Edited {trial}.",
        ),
        "remove": partial(
            moderation.comment_remove,
            actor=fresh(moderator),
            comment=fresh(comment),
            reason_code="spam",
        ),
    }
    return comment, steps


def check_edit_and_removal(comment, outcomes, trial) -> None:
    """Removed, whatever the order, with the log and the author agreeing; the edit either
    came first (its text is kept, under the removal) or was refused, changing nothing."""
    # An edit leaves a veteran's comment published, so the removal always applies.
    removal = outcomes["remove"].get()
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED
    assert Decision.objects.filter(comment=comment, action=Decision.Action.REMOVE).count() == 1
    latest = latest_decision_on(comment)
    assert latest == removal and STATUS_LEFT_BY[latest.action] == comment.status
    edit = outcomes["edit"]
    if edit.error is None:
        assert edit.value.status == Comment.Status.PUBLISHED  # true when the author was told
        assert comment.body == f"Edited {trial}."
        assert removal.previous_state["status"] == Comment.Status.PUBLISHED
        assert comment.edited_at <= removal.created
        assert CommentRevision.objects.filter(comment=comment, body=f"Original {trial}.").exists()
    else:
        assert edit.refusal().status == 409
        assert comment.body == f"Original {trial}." and comment.edited_at is None
        assert not CommentRevision.objects.filter(comment=comment).exists()


@needs_postgresql
@concurrent
def test_an_edit_racing_a_removal_never_leaves_the_comment_published(essay, moderators, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0  # the authors are past the first review
    for trial in range(10):
        comment, steps = edit_and_removal(essay, moderators[0], trial)
        check_edit_and_removal(comment, run_together(steps), trial)


@pytest.mark.django_db
@pytest.mark.parametrize("order", [("edit", "remove"), ("remove", "edit")])
def test_an_edit_and_a_removal_one_after_the_other_agree(essay, moderators, settings, order):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    comment, steps = edit_and_removal(essay, moderators[0], 0)
    outcomes = run_in_order(steps, order)
    check_edit_and_removal(comment, outcomes, 0)
    assert (outcomes["edit"].error is None) == (order[0] == "edit")


# 19. Many readers reporting one comment ---------------------------------------------------


def reports_of_one_comment(essay, count):
    """A published comment and `count` verified readers, each with their own logged-in
    browser, about to report it as spam."""
    author = make_user("reported@example.org", "Rep Orted")
    paragraph = essay.paragraphs.get(position=0)
    comment = discussion.comment_post(
        author=author, essay=essay, paragraph=paragraph, body="Buy now."
    )
    assert comment.status == Comment.Status.PUBLISHED
    url = reverse("moderation:report", kwargs={"pk": comment.pk})
    steps = {}
    for n in range(count):
        client = logged_in_client(make_user(f"reporter{n}@example.org", f"Reporter {n}"))
        steps[n] = partial(client.post, url, {"reason": "spam"})
    return comment, steps


def check_reports(comment, outcomes, count) -> None:
    """Every report recorded and thanked (none told the comment is gone), the comment
    hidden once, at the threshold."""
    for outcome in outcomes.values():
        response = outcome.get()
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response.url == comment.get_absolute_url()
        thanks = [str(m) for m in get_messages(response.wsgi_request)]
        assert any(THANKS in message for message in thanks), thanks
    comment.refresh_from_db()
    assert Flag.objects.filter(comment=comment, reason="spam").count() == count
    hides = Decision.objects.filter(comment=comment, action=Decision.Action.HIDE)
    assert hides.count() == 1
    assert "3 readers" in hides.get().reason
    assert comment.status == Comment.Status.HIDDEN
    assert STATUS_LEFT_BY[latest_decision_on(comment).action] == comment.status


@needs_postgresql
@concurrent
def test_fifty_readers_reporting_at_once_are_all_recorded_and_hide_it_once(essay, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    comment, steps = reports_of_one_comment(essay, 50)
    check_reports(comment, run_together(steps), 50)


@pytest.mark.django_db
def test_readers_reporting_one_after_another_are_all_thanked(essay, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    comment, steps = reports_of_one_comment(essay, 5)
    check_reports(comment, run_in_order(steps, range(5)), 5)


# 20. The same post sent twice -------------------------------------------------------------


def the_same_post_twice_to_the_service(essay, trial):
    author = make_user(f"poster{trial}@example.org", f"Poster {trial}")
    body = f"My point, made once ({trial})."
    steps = {
        name: partial(discussion.comment_post, author=fresh(author), essay=fresh(essay), body=body)
        for name in ("first", "second")
    }
    return author, body, steps


def check_one_comment_answered_twice(author, body, outcomes) -> None:
    stored = Comment.objects.filter(author=author, body=body)
    assert stored.count() == 1
    assert {outcome.get().pk for outcome in outcomes.values()} == {stored.get().pk}


@needs_postgresql
@concurrent
def test_the_same_post_sent_twice_at_once_is_stored_once(essay, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    for trial in range(6):
        author, body, steps = the_same_post_twice_to_the_service(essay, trial)
        check_one_comment_answered_twice(author, body, run_together(steps))


@needs_postgresql
@concurrent
def test_the_same_form_posted_twice_at_once_redirects_both_to_one_comment(essay, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    paragraph = essay.paragraphs.get(position=1)
    url = reverse("discussion:paragraph_comment", kwargs={"slug": essay.slug, "key": paragraph.key})
    for trial in range(6):
        author = make_user(f"clicker{trial}@example.org", f"Clicker {trial}")
        body = f"A double click ({trial})."
        # One reader, two requests: each with its own connection, as two server workers.
        steps = {
            name: partial(logged_in_client(author).post, url, {"body": body})
            for name in ("first", "second")
        }
        responses = [outcome.get() for outcome in run_together(steps).values()]
        comment = Comment.objects.get(author=author, body=body)
        for response in responses:
            assert response.status_code == 302, response.content.decode()[:2000]
            assert response.url == comment.get_absolute_url()
            assert response.url.endswith(f"#c-{comment.pk}")


@pytest.mark.django_db
def test_the_same_post_sent_twice_in_a_row_is_stored_once(essay, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    author, body, steps = the_same_post_twice_to_the_service(essay, 0)
    check_one_comment_answered_twice(author, body, run_in_order(steps, ["first", "second"]))


# 21. Two moderators deciding on one pending comment ------------------------------------------


def two_decisions_on_a_held_comment(essay, moderators, trial):
    """A new account's first comment, held; one moderator approves it as another removes
    it, both from a page that showed it pending."""
    author = make_user(f"newcomer{trial}@example.org", f"Newcomer {trial}")
    comment = discussion.comment_post(author=author, essay=essay, body=f"My first ({trial}).")
    assert comment.status == Comment.Status.PENDING
    seen = Comment.Status.PENDING
    steps = {
        "approve": partial(
            moderation.comment_approve,
            actor=fresh(moderators[0]),
            comment=fresh(comment),
            seen_status=seen,
        ),
        "remove": partial(
            moderation.comment_remove,
            actor=fresh(moderators[1]),
            comment=fresh(comment),
            reason_code="spam",
            seen_status=seen,
        ),
    }
    return comment, steps


def check_one_decision_and_one_refusal(comment, outcomes) -> Decision:
    """Exactly one decision stands; the other moderator is told which, and nothing else
    changed. Returns the decision that was made."""
    made = [outcome for outcome in outcomes.values() if outcome.error is None]
    refused = [outcome for outcome in outcomes.values() if outcome.error is not None]
    assert len(made) == 1 and len(refused) == 1, outcomes
    decision = made[0].value
    refusal = refused[0].refusal(Refused)
    assert refusal.status == 409
    assert "Another decision was just made" in refusal.message
    assert f"(decision #{decision.pk})" in refusal.message
    assert decision.get_action_display() in refusal.message
    assert str(decision.actor) in refusal.message
    comment.refresh_from_db()
    decisions = Decision.objects.filter(comment=comment).exclude(action=Decision.Action.HOLD)
    assert list(decisions) == [decision]
    assert comment.status == STATUS_LEFT_BY[decision.action]
    return decision


@needs_postgresql
@concurrent
def test_two_moderators_deciding_at_once_make_one_decision(essay, moderators):
    for trial in range(10):
        comment, steps = two_decisions_on_a_held_comment(essay, moderators, trial)
        check_one_decision_and_one_refusal(comment, run_together(steps))


@needs_postgresql
@concurrent
def test_two_moderators_posting_decisions_at_once_one_is_told_of_the_other(essay, moderators):
    for trial in range(5):
        author = make_user(f"held{trial}@example.org", f"Held {trial}")
        comment = discussion.comment_post(author=author, essay=essay, body=f"Held ({trial}).")
        # What each moderator's page sends: the status it showed, in a hidden field.
        form = {"seen_status": Comment.Status.PENDING, "reason_code": "spam"}
        steps = {
            action: partial(
                logged_in_client(moderator).post,
                reverse("moderation:comment_action", kwargs={"pk": comment.pk, "action": action}),
                form,
            )
            for action, moderator in zip(("approve", "remove"), moderators, strict=True)
        }
        responses = {name: outcome.get() for name, outcome in run_together(steps).items()}
        decision = Decision.objects.exclude(action=Decision.Action.HOLD).get(comment=comment)
        assert responses[decision.action].status_code == 302
        loser = responses["remove" if decision.action == "approve" else "approve"]
        assert loser.status_code == 409
        assert "Another decision was just made" in loser.content.decode()
        assert f"decision #{decision.pk}" in loser.content.decode()
        comment.refresh_from_db()
        assert comment.status == STATUS_LEFT_BY[decision.action]


@pytest.mark.django_db
@pytest.mark.parametrize("order", [("approve", "remove"), ("remove", "approve")])
def test_the_second_of_two_decisions_from_a_stale_page_is_refused(essay, moderators, order):
    comment, steps = two_decisions_on_a_held_comment(essay, moderators, 0)
    decision = check_one_decision_and_one_refusal(comment, run_in_order(steps, order))
    assert decision.action == order[0]


# Two email tasks for one reader -----------------------------------------------------------


def two_email_tasks_for_one_reader(essay, settings, trial: int):
    """A reader with news waiting, and two email tasks for them (two workers, or a task run
    again after an outage) about to run."""
    from forum.subscriptions import services as subscriptions

    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    settings.NOTIFICATION_EMAIL_WINDOW = 0
    reader = make_user(f"reader{trial}@example.org", f"Reader {trial}")
    other = make_user(f"other{trial}@example.org", f"Other {trial}")
    thread = discussion.comment_post(author=reader, essay=essay, body=f"Thread {trial}.")
    for n in range(3):
        reply = discussion.comment_post(
            author=other, essay=essay, body=f"Reply {trial}.{n}", parent=thread
        )
        subscriptions.fan_out(reply.pk)
    send = partial(subscriptions.send_pending_email, reader.pk)
    return reader, {"first": send, "second": send}


def check_each_notification_emailed_once(reader, outcomes, mailbox) -> None:
    sent = [outcome.get() for outcome in outcomes.values()]
    assert sorted(sent) == [0, 3], "one task sends the three notifications, the other nothing"
    to_reader = [message for message in mailbox if reader.email in message.to]
    assert len(to_reader) == 1


@needs_postgresql
@concurrent
def test_two_email_tasks_for_one_reader_at_once_send_one_email(essay, settings, mailoutbox):
    for trial in range(4):
        reader, steps = two_email_tasks_for_one_reader(essay, settings, trial)
        check_each_notification_emailed_once(reader, run_together(steps), mailoutbox)


@pytest.mark.django_db
def test_two_email_tasks_for_one_reader_in_a_row_send_one_email(essay, settings, mailoutbox):
    reader, steps = two_email_tasks_for_one_reader(essay, settings, 0)
    check_each_notification_emailed_once(
        reader, run_in_order(steps, ["first", "second"]), mailoutbox
    )
