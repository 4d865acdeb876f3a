"""Moderation rules as pure functions: no database, no settings, no clock of their own.

The policy module gathers the facts (counts, word lists, restrictions) and asks these.
"""

import re
from collections.abc import Iterable
from datetime import datetime

# A link in a comment's Markdown source: an explicit http(s) URL or a mailto: address.
_LINK = re.compile(r"(?i)\b(?:https?://|www\.|mailto:)[^\s<>()\[\]]+")


class HoldReason:
    NEW_ACCOUNT = "a new account's first comments are reviewed"
    AUTHOR_PREMODERATED = "the author's comments are always reviewed"
    ESSAY_PREMODERATED = "comments on this essay are reviewed before publication"
    TOO_MANY_LINKS = "it has more links than the site allows without review"
    WATCHED_WORD = "it uses a word the moderators review"
    EDITED_WHILE_HELD = "it was edited while awaiting review"


def count_links(text: str) -> int:
    return len(_LINK.findall(text))


def _word_pattern(word: str) -> re.Pattern:
    # Whole words, case-insensitive; a listed phrase may contain spaces.
    return re.compile(rf"(?<!\w){re.escape(word.strip())}(?!\w)", re.IGNORECASE)


def words_in(text: str, words: Iterable[str]) -> list[str]:
    """The listed words that occur in `text` as whole words, in list order."""
    return [word for word in words if word.strip() and _word_pattern(word).search(text)]


def hold_reasons(
    *,
    body: str,
    author_published_count: int,
    first_comments_reviewed: int,
    author_premoderated: bool,
    essay_premoderated: bool,
    link_limit: int,
    watched_words: Iterable[str],
    editing_held_comment: bool = False,
) -> list[str]:
    """Why a comment must wait for a moderator before readers see it (empty: publish now)."""
    reasons = []
    if editing_held_comment:
        reasons.append(HoldReason.EDITED_WHILE_HELD)
    if author_published_count < first_comments_reviewed:
        reasons.append(HoldReason.NEW_ACCOUNT)
    if author_premoderated:
        reasons.append(HoldReason.AUTHOR_PREMODERATED)
    if essay_premoderated:
        reasons.append(HoldReason.ESSAY_PREMODERATED)
    if count_links(body) > link_limit:
        reasons.append(HoldReason.TOO_MANY_LINKS)
    if words_in(body, watched_words):
        reasons.append(HoldReason.WATCHED_WORD)
    return reasons


def reaches_hide_threshold(distinct_reporters: int, threshold: int) -> bool:
    return threshold > 0 and distinct_reporters >= threshold


def restriction_is_active(
    *, until: datetime | None, lifted_at: datetime | None, now: datetime
) -> bool:
    """A restriction without an end is permanent until lifted."""
    return lifted_at is None and (until is None or until > now)
