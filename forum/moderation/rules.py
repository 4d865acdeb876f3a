"""Moderation rules as pure functions: no database, no settings, no clock of their own.

The policy module gathers the facts (counts, word lists, restrictions) and asks these.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_noop

from forum.invisible import strip_invisible


class HoldReason:
    """Why a comment waits for review, in the author's words (marked for translation here,
    translated where they are shown)."""

    NEW_ACCOUNT = gettext_noop("a new account's first comments are reviewed")
    AUTHOR_PREMODERATED = gettext_noop("the author's comments are always reviewed")
    ESSAY_PREMODERATED = gettext_noop("comments on this essay are reviewed before publication")
    TOO_MANY_LINKS = gettext_noop("it has more links than the site allows without review")
    WATCHED_WORD = gettext_noop("it uses a word the moderators review")
    EDITED_WHILE_HELD = gettext_noop("it was edited while awaiting review")
    RECENT_REMOVAL = gettext_noop(
        "it was edited after a moderator recently removed one of the author’s comments"
    )
    # Only the first rung's link limit is tighter than the site's.
    TOO_MANY_LINKS_FOR_LEVEL = gettext_noop(
        "it has more links than a new account may post without review"
    )


# The trust ladder. An account climbs while it earns trust (comments published, days
# without a removal); a removal starts the days again, so it falls back to the first rung.
# Levels are numbers so that "at least" reads as >=; their names live in models.TrustLevel.
NEW, MEMBER, TRUSTED = 0, 1, 2


@dataclass(frozen=True)
class Rung:
    """What a level asks of an account to reach it, and what it may do there.

    `links`: links a comment may hold before it waits for review; `comments_per_hour`
    and `stranger_replies_per_hour` (replies to members who never replied to this one):
    posts beyond these are refused (None: no limit of the rung's own);
    `first_comments_reviewed`: an account with fewer published comments waits for review."""

    level: int
    after_comments: int
    after_days: int
    links: int
    comments_per_hour: int | None = None
    stranger_replies_per_hour: int | None = None
    first_comments_reviewed: int = 0


def trust_level(*, published_count: int, days_without_removal: float, ladder: list[Rung]) -> int:
    """The highest rung whose every step below is reached (the ladder starts at the rung
    everyone stands on)."""
    level = ladder[0].level
    for rung in ladder[1:]:
        if published_count < rung.after_comments or days_without_removal < rung.after_days:
            break
        level = rung.level
    return level


# Cyrillic and Greek letters a reader takes for Latin ones. Capitals whose small letter looks
# different (Cyrillic Н/н, Greek Η/η) are listed on their own.
_LOOKALIKES = str.maketrans(
    # Cyrillic
    "аеорсухіјѕԁһԛԝѵ"
    "АВЕКМНОРСТХІЈЅУҺԌԚԜѴ"
    # Greek
    "οανρτικυχ"
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"
    # Latin script g and dotless i
    "ɡı",
    "aeopcyxijsdhqwvABEKMHOPCTXIJSYHGQWVoavptikuxABEZHIKMNOPTYXgi",
)


def normalize_for_matching(text: str) -> str:
    """`text` as word lists compare it: what it looks like, not how it is spelled.

    Invisible characters go, compatibility forms become plain ones (NFKC: fullwidth and
    mathematical letters, ligatures, no-break spaces), look-alike Cyrillic and Greek letters
    become Latin, case is folded, accents and other marks go (so "VİAGRA" and "vïagra" are
    "viagra") and every run of whitespace becomes one space.
    """
    text = unicodedata.normalize("NFKC", strip_invisible(text))
    text = unicodedata.normalize("NFKD", text.translate(_LOOKALIKES).casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.split())


def _word_pattern(normalized_word: str) -> re.Pattern:
    # Whole words only: "ass" must not match "class".
    return re.compile(rf"(?<!\w){re.escape(normalized_word)}(?!\w)")


def words_in(text: str, words: Iterable[str]) -> list[str]:
    """The listed words that occur in `text` as whole words, in list order and as listed.

    Both sides are normalized (`normalize_for_matching`), so a listed phrase matches
    across any run of whitespace. Pass the text a reader sees, not the Markdown source.
    """
    text = normalize_for_matching(text)
    found = []
    for word in words:
        normalized = normalize_for_matching(word)
        if normalized and _word_pattern(normalized).search(text):
            found.append(word)
    return found


def hold_reasons(
    *,
    text: str,
    link_count: int,
    author_published_count: int,
    first_comments_reviewed: int,
    author_premoderated: bool,
    essay_premoderated: bool,
    link_limit: int,
    watched_words: Iterable[str],
    editing_held_comment: bool = False,
    link_limit_is_new_accounts: bool = False,
) -> list[str]:
    """Why a new comment must wait for a moderator before readers see it (empty: publish
    now).

    `text` is what a reader sees of the comment and `link_count` the links they can follow.
    `link_limit_is_new_accounts`: the limit is the first rung's, tighter than the site's
    (the reason says so).
    """
    reasons = []
    if editing_held_comment:
        reasons.append(HoldReason.EDITED_WHILE_HELD)
    if author_published_count < first_comments_reviewed:
        reasons.append(HoldReason.NEW_ACCOUNT)
    if author_premoderated:
        reasons.append(HoldReason.AUTHOR_PREMODERATED)
    if essay_premoderated:
        reasons.append(HoldReason.ESSAY_PREMODERATED)
    if link_count > link_limit:
        reasons.append(
            HoldReason.TOO_MANY_LINKS_FOR_LEVEL
            if link_limit_is_new_accounts
            else HoldReason.TOO_MANY_LINKS
        )
    if words_in(text, watched_words):
        reasons.append(HoldReason.WATCHED_WORD)
    return reasons


def edit_hold_reasons(
    *,
    text: str,
    text_before: str,
    link_count: int,
    link_count_before: int,
    author_premoderated: bool,
    author_recently_removed: bool,
    essay_premoderated: bool,
    link_limit: int,
    watched_words: Iterable[str],
) -> list[str]:
    """Why an edit of a published (approved) comment sends it back to review (empty: the
    edit is published at once).

    The author's standing decides for their edits (always pre-moderated, or a comment
    removed recently), and so does an essay whose comments are all reviewed; for everyone,
    an edit that brings in a watched word the comment did not use, or links past the limit
    that it did not have. What a moderator already
    approved does not send it back again, and neither do the first-comments rule or the
    trust level's other limits: the comment was reviewed or published under them.
    """
    reasons = []
    if author_premoderated:
        reasons.append(HoldReason.AUTHOR_PREMODERATED)
    if author_recently_removed:
        reasons.append(HoldReason.RECENT_REMOVAL)
    if essay_premoderated:
        reasons.append(HoldReason.ESSAY_PREMODERATED)
    if link_count > link_limit and link_count > link_count_before:
        reasons.append(HoldReason.TOO_MANY_LINKS)
    watched_words = list(watched_words)
    if set(words_in(text, watched_words)) - set(words_in(text_before, watched_words)):
        reasons.append(HoldReason.WATCHED_WORD)
    return reasons


def reaches_hide_threshold(distinct_reporters: int, threshold: int) -> bool:
    return threshold > 0 and distinct_reporters >= threshold


def restriction_is_active(
    *, until: datetime | None, lifted_at: datetime | None, now: datetime
) -> bool:
    """A restriction without an end is permanent until lifted."""
    return lifted_at is None and (until is None or until > now)
