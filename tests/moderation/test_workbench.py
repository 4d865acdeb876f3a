"""The moderation workbench: acting on a queue card in place, why a comment is in a queue,
its context and its author's record, earlier versions of an edited comment, the word lists,
the audit log's filters, and no side door through the admin."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from essays.models import Essay
from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation import services
from forum.moderation.models import Decision, Flag, WordRule
from forum.moderation.rules import HoldReason
from tests.conftest import make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def held(essay, third):
    """A newcomer's first comment, held for review, with a watched word."""
    WordRule.objects.create(word="scoundrel", kind=WordRule.Kind.WATCHED)
    newcomer = make_user("newcomer@example.org", "New Comer")
    return discussion.comment_post(
        author=newcomer, essay=essay, paragraph=third, body="You SCOUNDREL, read it again."
    )


# 1. Acting on the card ------------------------------------------------------------------


def test_approving_on_the_card_with_htmx_answers_the_outcome_and_its_undo(moderator_client, held):
    url = f"/moderation/comments/{held.pk}/approve/"
    on_queue = {**HTMX, "HTTP_HX_CURRENT_URL": "http://testserver/moderation/?queue=pending"}
    response = moderator_client.post(url, {"card": "1", "seen_status": "pending"}, **on_queue)
    assert response.status_code == 200
    page = text(response)
    assert 'name="next" value="/moderation/?queue=pending"' in page  # the undo comes back
    assert f'id="card-{held.pk}"' in page and "data-decided" in page
    assert "approved" in page and "Undo" in page
    held.refresh_from_db()
    assert held.status == Comment.Status.PUBLISHED
    decision = Decision.objects.get(comment=held, action=Decision.Action.APPROVE)
    assert f"/moderation/log/{decision.pk}/undo/" in page

    undone = moderator_client.post(f"/moderation/log/{decision.pk}/undo/", {"card": "1"}, **HTMX)
    assert undone.status_code == 200
    held.refresh_from_db()
    assert held.status == Comment.Status.PENDING
    assert "data-decided" not in text(undone) and "Approve" in text(undone)  # the card again


def test_removing_on_the_card_without_javascript_comes_back_to_the_queue_with_an_undo(
    moderator_client, held
):
    response = moderator_client.post(
        f"/moderation/comments/{held.pk}/remove/",
        {"reason_code": "abuse", "seen_status": "pending", "next": "/moderation/?queue=pending"},
    )
    assert response.status_code == 302 and response.url == "/moderation/?queue=pending"
    held.refresh_from_db()
    assert held.status == Comment.Status.REMOVED and held.removal_reason == "Harassment or abuse"
    page = text(moderator_client.get(response.url))
    decision = Decision.objects.get(comment=held, action=Decision.Action.REMOVE)
    assert "Your latest decisions" in page and "removed" in page
    assert f"/moderation/log/{decision.pk}/undo/" in page
    assert "Nothing here needs a decision." in page


def test_a_refusal_on_the_card_says_why_in_the_card_and_changes_nothing(
    moderator_client, moderator, held
):
    services.comment_approve(actor=moderator, comment=held)
    response = moderator_client.post(
        f"/moderation/comments/{held.pk}/remove/",
        {"card": "1", "reason_code": "spam", "seen_status": "pending"},
        **HTMX,
    )
    assert response.status_code == 409
    assert "Another decision was just made" in text(response)
    held.refresh_from_db()
    assert held.status == Comment.Status.PUBLISHED


def test_the_card_offers_ignore_reports_for_a_reported_comment_and_lists_the_keys(
    moderator_client, veteran, user, essay
):
    comment = discussion.comment_post(author=veteran, essay=essay, body="Fine, really.")
    services.flag_create(reporter=user, comment=comment, reason="spam")
    page = text(moderator_client.get("/moderation/?queue=reported"))
    assert "Ignore reports" in page and 'data-key="r"' in page
    assert "<kbd>j</kbd> / <kbd>k</kbd>" in page and "js/moderation.js" in page
    response = moderator_client.post(
        f"/moderation/comments/{comment.pk}/approve/", {"card": "1"}, **HTMX
    )
    assert response.status_code == 200
    assert not Flag.objects.open().filter(comment=comment).exists()


def test_a_reader_cannot_act_on_a_card(client, user, held):
    client.force_login(user)
    response = client.post(f"/moderation/comments/{held.pk}/approve/", {"card": "1"}, **HTMX)
    assert response.status_code == 403
    held.refresh_from_db()
    assert held.status == Comment.Status.PENDING


# 2. Why is this here? -------------------------------------------------------------------


def test_a_hold_records_its_reasons_the_watched_words_and_the_links(held):
    hold = Decision.objects.get(comment=held, action=Decision.Action.HOLD)
    assert hold.facts == {
        "reasons": [HoldReason.NEW_ACCOUNT, HoldReason.WATCHED_WORD],
        "watched_words": ["scoundrel"],
        "link_count": 0,
    }


def test_a_pending_card_says_why_it_was_held_and_marks_the_watched_words(moderator_client, held):
    page = text(moderator_client.get("/moderation/?queue=pending"))
    assert "Held because</strong> a new account&#x27;s first comments are reviewed" in page
    assert "it uses a word the moderators review" in page
    assert "Watched words: <mark>scoundrel</mark>" in page
    assert "You <mark>SCOUNDREL</mark>, read it again." in page  # as written, marked
    assert "Links: 0." in page


def test_a_card_names_a_premoderated_essay_and_author(moderator_client, moderator, veteran, essay):
    services.essay_premoderation_set(actor=moderator, essay=essay, premoderated=True)
    services.user_restrict(actor=moderator, user=veteran, kind="premoderation")
    essay.refresh_from_db()
    discussion.comment_post(author=veteran, essay=essay, body="Held twice over.")
    page = text(moderator_client.get("/moderation/?queue=pending")).replace("&#x27;", "'")
    assert "the author's comments are always reviewed" in page
    assert "comments on this essay are reviewed before publication" in page


def test_a_hold_logged_before_facts_were_kept_still_gives_its_reasons(moderator_client, held):
    Decision.objects.filter(comment=held).update(facts={})
    page = text(moderator_client.get("/moderation/?queue=pending"))
    assert "it uses a word the moderators review" in page
    assert "Watched words" not in page


def test_a_reported_card_groups_and_counts_the_reports_with_their_notes(
    moderator_client, veteran, essay, settings
):
    settings.MODERATION_HIDE_THRESHOLD = 10
    comment = discussion.comment_post(author=veteran, essay=essay, body="Buy now.")
    for n, reason in enumerate(["spam", "spam", "abuse"]):
        reporter = make_user(f"r{n}@example.org", f"Reporter {n}")
        services.flag_create(reporter=reporter, comment=comment, reason=reason, note=f"note {n}")
    page = text(moderator_client.get("/moderation/?queue=reported"))
    assert "Reported</strong> 3 times" in page
    assert page.index("Spam × 2") < page.index("Harassment or abuse × 1")
    assert "“note 0” (Reporter 0" in page and "“note 2” (Reporter 2" in page


# 3. Context on the card -----------------------------------------------------------------


def test_the_card_quotes_the_paragraph_as_it_was_when_the_comment_was_written(
    moderator_client, held, third
):
    type(third).objects.filter(pk=third.pk).update(text="Third, rewritten since.")
    page = text(moderator_client.get("/moderation/?queue=pending"))
    assert "as it read when the comment was written (it has changed since): <q>Third.</q>" in page
    assert "rewritten since" not in page


def test_the_card_shows_the_parent_and_the_replies(moderator_client, moderator, veteran, essay):
    parent = discussion.comment_post(author=veteran, essay=essay, body="The parent.")
    reported = discussion.comment_post(author=veteran, essay=essay, body="Middle.", parent=parent)
    discussion.comment_post(author=moderator, essay=essay, body="A reply below.", parent=reported)
    reporter = make_user("rep@example.org", "Rep Orter")
    services.flag_create(reporter=reporter, comment=reported, reason="spam")
    page = text(moderator_client.get("/moderation/?queue=reported"))
    assert "In reply to Vet Eran: <q>The parent.</q>" in page
    assert "Replies:" in page and "<q>A reply below.</q>" in page


def test_the_authors_record_counts_and_restrictions_leave_out_locked_threads(
    moderator_client, moderator, veteran, user, essay
):
    veteran.date_joined = timezone.now() - datetime.timedelta(days=40)
    veteran.save()
    kept = discussion.comment_post(author=veteran, essay=essay, body="Kept.")
    removed = discussion.comment_post(author=veteran, essay=essay, body="Gone.")
    services.comment_remove(actor=moderator, comment=removed, reason_code="spam")
    for _n in range(3):  # three lock/unlock entries name the thread's author
        services.thread_lock_set(actor=moderator, comment=kept, locked=True)
        services.thread_lock_set(actor=moderator, comment=kept, locked=False)
    services.user_restrict(actor=moderator, user=veteran, kind="premoderation")
    services.flag_create(reporter=user, comment=kept, reason="spam")
    page = text(moderator_client.get("/moderation/?queue=reported"))
    assert "account 1 month, 1 week old" in page
    assert "1 published · 0 held · 1 removed · 1 reported" in page
    assert "Always pre-moderated" in page
    assert "locked thread" not in page and "unlocked thread" not in page
    assert "removed" in page
    record = text(moderator_client.get(f"/moderation/authors/{veteran.pk}/"))
    assert "locked thread" not in record and "removed" in record


# 4. Earlier versions --------------------------------------------------------------------


def test_a_moderator_who_is_not_staff_sees_an_edited_comments_versions_with_changes_marked(
    moderator_client, moderator, veteran, essay
):
    assert not moderator.is_staff
    comment = discussion.comment_post(author=veteran, essay=essay, body="A kind remark.")
    discussion.comment_edit(comment=comment, editor=veteran, body="A cruel remark, idiot.")
    page = text(moderator_client.get(f"/moderation/comments/{comment.pk}/"))
    assert "Earlier versions (edited 1 time)" in page
    assert "Version 1" in page and "A kind remark." in page
    assert "<del>kind</del><ins>cruel</ins>" in page
    assert "<del>remark.</del><ins>remark, idiot.</ins>" in page
    thread = text(moderator_client.get(essay.get_absolute_url()))
    assert f'/moderation/comments/{comment.pk}/#versions-heading">Earlier versions' in thread


def test_an_unedited_comment_has_no_versions_section(moderator_client, veteran, essay):
    comment = discussion.comment_post(author=veteran, essay=essay, body="Never edited.")
    assert "Earlier versions" not in text(
        moderator_client.get(f"/moderation/comments/{comment.pk}/")
    )


# 6. Word lists ---------------------------------------------------------------------------


def test_moderators_add_move_and_remove_words_and_each_change_is_logged(
    moderator_client, moderator
):
    response = moderator_client.post(
        "/moderation/words/", {"word": "  Spam  Link ", "kind": "watched"}
    )
    assert response.status_code == 302
    rule = WordRule.objects.get()
    assert (rule.word, rule.kind) == ("Spam Link", "watched")
    moderator_client.post("/moderation/words/", {"word": "spam link", "kind": "blocked"})
    rule.refresh_from_db()
    assert rule.kind == "blocked"
    moderator_client.post(f"/moderation/words/{rule.pk}/remove/", {"reason": "too broad"})
    assert not WordRule.objects.exists()
    log = list(Decision.objects.filter(actor=moderator).order_by("id"))
    assert [d.action for d in log] == ["word-add", "word-change", "word-remove"]
    assert log[1].facts == {"word": "Spam Link", "kind": "blocked", "was": "watched"}
    assert log[2].reason == "too broad"
    page = text(moderator_client.get("/moderation/words/"))
    assert "“Spam Link” (was blocked)" in page


def test_a_word_list_refuses_blanks_and_repeats_with_a_message(moderator_client):
    assert (
        moderator_client.post("/moderation/words/", {"word": " ", "kind": "watched"}).status_code
        == 400
    )
    assert (
        moderator_client.post("/moderation/words/", {"word": "x", "kind": "bogus"}).status_code
        == 400
    )
    moderator_client.post("/moderation/words/", {"word": "ugh", "kind": "watched"})
    again = moderator_client.post("/moderation/words/", {"word": "UGH", "kind": "watched"})
    assert again.status_code == 409 and "already on that list" in text(again)
    assert WordRule.objects.count() == 1 and Decision.objects.count() == 1


def test_readers_cannot_change_the_word_lists(client, user, db):
    rule = WordRule.objects.create(word="keep", kind=WordRule.Kind.BLOCKED)
    client.force_login(user)
    assert client.get("/moderation/words/").status_code == 403
    assert client.post("/moderation/words/", {"word": "x", "kind": "watched"}).status_code == 403
    assert client.post(f"/moderation/words/{rule.pk}/remove/").status_code == 403
    assert list(WordRule.objects.values_list("word", flat=True)) == ["keep"]
    with pytest.raises(services.Refused):
        services.word_rule_set(actor=user, word="x", kind="watched")


def test_a_word_list_change_cannot_be_undone_from_the_log(moderator_client, moderator):
    decision = services.word_rule_set(actor=moderator, word="meh", kind="watched")
    response = moderator_client.post(f"/moderation/log/{decision.pk}/undo/")
    assert response.status_code == 409
    assert WordRule.objects.filter(word="meh").exists()


# 10. The audit log's filters -------------------------------------------------------------


def test_the_log_filters_by_action_by_date_and_by_the_sites_rules(
    moderator_client, moderator, veteran, held
):
    removal = services.comment_remove(
        actor=moderator, comment=held, reason_code="spam", reason="by-hand", seen_status="pending"
    )
    Decision.objects.filter(pk=removal.pk).update(
        created=timezone.now() - datetime.timedelta(days=10)
    )

    def logged(query):
        page = text(moderator_client.get(f"/moderation/log/?{query}"))
        return page[page.index("<table") :]  # the decisions, not the filters' choices

    site = logged("moderator=site")
    assert "held for review" in site and "by-hand" not in site
    removals = logged("action=remove")
    assert "by-hand" in removals and "held for review" not in removals
    recent = logged(f"since={timezone.localdate().isoformat()}")
    assert "held for review" in recent and "by-hand" not in recent
    older = logged(f"until={(timezone.localdate() - datetime.timedelta(days=10)).isoformat()}")
    assert "by-hand" in older and "held for review" not in older


def test_the_log_says_when_its_dates_are_the_wrong_way_round(moderator_client):
    response = moderator_client.get("/moderation/log/?since=2030-01-02&until=2030-01-01")
    assert response.status_code == 400  # nothing listed: see test_views.py
    assert "The first date comes after the second." in text(response)


# 11. No side door through the admin ------------------------------------------------------


@pytest.fixture
def owner_client(db):
    owner = make_user("owner@example.org", "Site Owner")
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client = Client()
    client.force_login(owner)
    return client


def test_the_admin_shows_but_does_not_change_an_essays_moderation_settings(owner_client, essay):
    url = f"/admin/essays/essay/{essay.pk}/change/"
    page = owner_client.get(url)
    assert page.status_code == 200
    fields = page.context["adminform"].form.fields
    assert "comments_open" not in fields and "premoderated" not in fields
    data = {
        "title": essay.title,
        "alternate_title": essay.alternate_title,
        "attribution": essay.attribution,
        "status": essay.status,
        "published_at_0": essay.published_at.date().isoformat(),
        "published_at_1": essay.published_at.time().isoformat(timespec="seconds"),
        "comments_open": "",
        "premoderated": "on",
        "paragraphs-TOTAL_FORMS": "0",
        "paragraphs-INITIAL_FORMS": "0",
    }
    owner_client.post(url, data)
    essay.refresh_from_db()
    assert essay.comments_open and not essay.premoderated


def test_the_admin_cannot_change_reports_or_word_lists(owner_client, veteran, user, essay):
    comment = discussion.comment_post(author=veteran, essay=essay, body="Reported.")
    flag = services.flag_create(reporter=user, comment=comment, reason="spam")
    rule = WordRule.objects.create(word="w", kind=WordRule.Kind.WATCHED)
    assert owner_client.get("/admin/moderation/wordrule/add/").status_code == 403
    owner_client.post(f"/admin/moderation/flag/{flag.pk}/change/", {"reason": "hate"})
    owner_client.post(
        f"/admin/moderation/wordrule/{rule.pk}/change/", {"word": "w", "kind": "blocked"}
    )
    flag.refresh_from_db()
    rule.refresh_from_db()
    assert flag.reason == "spam" and rule.kind == "watched"
    assert owner_client.get(f"/admin/moderation/wordrule/{rule.pk}/delete/").status_code == 403


def test_reviewing_an_essays_comments_is_a_logged_and_undoable_moderation_step(
    moderator_client, moderator, essay
):
    response = moderator_client.post(f"/moderation/essays/{essay.pk}/premoderate/")
    assert response.status_code == 302
    essay.refresh_from_db()
    assert essay.premoderated
    decision = Decision.objects.get(action=Decision.Action.ESSAY_PREMODERATE, essay=essay)
    again = moderator_client.post(f"/moderation/essays/{essay.pk}/premoderate/")
    assert again.status_code == 409
    moderator_client.post(f"/moderation/log/{decision.pk}/undo/")
    essay.refresh_from_db()
    assert not essay.premoderated
    assert Essay.objects.filter(pk=essay.pk, premoderated=False).exists()
