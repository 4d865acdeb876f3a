from datetime import UTC, datetime, timedelta

from forum.moderation import rules
from forum.moderation.rules import HoldReason

DEFAULTS = dict(
    body="Plain words.",
    author_published_count=5,
    first_comments_reviewed=1,
    author_premoderated=False,
    essay_premoderated=False,
    link_limit=2,
    watched_words=[],
)


def reasons(**changes):
    return rules.hold_reasons(**{**DEFAULTS, **changes})


def test_an_ordinary_comment_is_not_held():
    assert reasons() == []


def test_a_new_accounts_first_comments_are_held():
    assert reasons(author_published_count=0) == [HoldReason.NEW_ACCOUNT]
    assert reasons(author_published_count=1, first_comments_reviewed=2) == [HoldReason.NEW_ACCOUNT]
    assert reasons(author_published_count=0, first_comments_reviewed=0) == []


def test_premoderated_authors_and_essays_are_held():
    assert reasons(author_premoderated=True) == [HoldReason.AUTHOR_PREMODERATED]
    assert reasons(essay_premoderated=True) == [HoldReason.ESSAY_PREMODERATED]


def test_more_links_than_the_limit_are_held():
    two = "See https://a.example and http://b.example/x"
    three = two + " and mailto:c@example.org"
    assert rules.count_links(three) == 3
    assert reasons(body=two) == []
    assert reasons(body=three) == [HoldReason.TOO_MANY_LINKS]


def test_watched_words_match_whole_words_case_insensitively():
    assert reasons(body="What a SCAM this is", watched_words=["scam"]) == [HoldReason.WATCHED_WORD]
    assert reasons(body="Scampi for dinner", watched_words=["scam"]) == []
    assert rules.words_in("buy cheap pills now", ["cheap pills", "pill"]) == ["cheap pills"]
    assert rules.words_in("anything", ["", "  "]) == []


def test_editing_a_held_comment_keeps_it_held():
    assert reasons(editing_held_comment=True) == [HoldReason.EDITED_WHILE_HELD]


def test_several_reasons_are_all_given():
    assert reasons(author_published_count=0, essay_premoderated=True) == [
        HoldReason.NEW_ACCOUNT,
        HoldReason.ESSAY_PREMODERATED,
    ]


def test_hide_threshold():
    assert not rules.reaches_hide_threshold(2, 3)
    assert rules.reaches_hide_threshold(3, 3)
    assert not rules.reaches_hide_threshold(10, 0)  # 0 turns hiding off


def test_restrictions_are_active_until_they_end_or_are_lifted():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.restriction_is_active(until=None, lifted_at=None, now=now)
    assert rules.restriction_is_active(until=now + timedelta(days=1), lifted_at=None, now=now)
    assert not rules.restriction_is_active(
        until=now - timedelta(seconds=1), lifted_at=None, now=now
    )
    assert not rules.restriction_is_active(until=None, lifted_at=now, now=now)
