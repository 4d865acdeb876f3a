from datetime import UTC, datetime, timedelta

import pytest

from forum.moderation import rules
from forum.moderation.rules import HoldReason

DEFAULTS = dict(
    text="Plain words.",
    link_count=0,
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
    assert reasons(link_count=2) == []
    assert reasons(link_count=3) == [HoldReason.TOO_MANY_LINKS]


def test_watched_words_match_whole_words_case_insensitively():
    assert reasons(text="What a SCAM this is", watched_words=["scam"]) == [HoldReason.WATCHED_WORD]
    assert reasons(text="Scampi for dinner", watched_words=["scam"]) == []
    assert rules.words_in("buy cheap pills now", ["cheap pills", "pill"]) == ["cheap pills"]
    assert rules.words_in("anything", ["", "  ", "\u200b"]) == []


@pytest.mark.parametrize(
    "text",
    [
        "vi\u200bagra",
        "via\u00adgra",
        "\ufeffvia\u2060gra\u180e",
        "vi\u202eag\u202cra",
        "vi\u2066agra\u2069",
        "v\u0456agra",  # Cyrillic і
        "VIAGR\u0410",  # Cyrillic А
        "v\u03b9\u03b1gr\u03b1",  # Greek ι α
        "\uff56\uff49\uff41\uff47\uff52\uff41",  # fullwidth
        "\U0001d42f\U0001d422\U0001d41a\U0001d420\U0001d42b\U0001d41a",  # mathematical bold
        "vi\u0430\u0261ra",  # Cyrillic а, Latin script ɡ
    ],
)
def test_words_match_what_a_reader_sees_however_it_is_spelled(text):
    assert rules.words_in(f"Cheap {text}!", ["viagra"]) == ["viagra"]


def test_listed_words_are_normalized_too_and_returned_as_listed():
    listed = ["V\u0406AGRA", " bad\u200b  phrase ", "\u0441\u043e\u0440"]  # Cyrillic І; сор
    assert rules.words_in("viagra, BAD PHRASE, cop", listed) == listed


def test_a_phrase_matches_across_any_run_of_whitespace():
    for text in [
        "bad phrase",
        "Bad   Phrase",
        "bad\nphrase",
        "bad\u00a0\tphrase",
        "bad\u2003phrase",
    ]:
        assert rules.words_in(text, ["bad phrase"]) == ["bad phrase"], text
    assert rules.words_in("badphrase", ["bad phrase"]) == []


def test_normalizing_keeps_whole_word_matching():
    for text in ["class", "cl\u0430ss", "cl\u200bass", "gl\u00adass", "asset", "\u0430ssets"]:
        assert rules.words_in(text, ["ass"]) == [], text
    assert rules.words_in("what an \u0430ss.", ["ass"]) == ["ass"]


def test_normalize_for_matching():
    assert (
        rules.normalize_for_matching("  \u0412\u0415\u200bD \u00a0 \u03a4\u0399ME\n") == "bed time"
    )


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
