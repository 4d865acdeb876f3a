"""Display names: which names a member may choose, and how a stored name is shown.

A name appears beside comments, in the admin and in email headers (a Subject among them), so:

- Control characters (line breaks, tabs, NUL, the Unicode line and paragraph separators) are
  refused: one CR or LF in a header breaks every email that carries the name.
- Bidirectional controls (embeddings, overrides, isolates and the direction marks) are refused:
  they reverse the text around them, so a name can read as something else or scramble the words
  after it.
- Other invisible characters (zero-width spaces, word joiners, soft hyphens, tag characters, the
  Hangul fillers, the braille blank) are refused: they make a name look blank, or look like
  someone else's. The zero-width non-joiner and joiner stay allowed: Persian, the Indic scripts
  and emoji sequences are spelled with them.
- A name needs at least one visible character (a letter, digit, punctuation or symbol).
- Runs of whitespace become one space, and the ends are trimmed.

`clean_display_name` enforces these rules when a name is chosen. `name_for_display` applies them
leniently to names stored before they existed: it drops what would be refused instead of raising.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from forum.invisible import JOINERS, is_invisible

DISPLAY_NAME_MISSING = _("Choose a name to show beside your comments.")

# The Arabic letter mark, the two direction marks, embeddings and overrides, isolates.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

CONTROL = "control"
DIRECTION = "direction"
INVISIBLE = "invisible"
NOTHING_VISIBLE = "nothing_visible"

MESSAGES = {
    CONTROL: _("A name cannot contain line breaks, tabs or other control characters."),
    DIRECTION: _("A name cannot contain characters that change the direction of text."),
    INVISIBLE: _("A name cannot contain invisible characters, such as zero-width spaces."),
    NOTHING_VISIBLE: _("A name needs at least one visible letter, digit or sign."),
}


def _problem(char: str) -> str | None:
    """Why `char` cannot be part of a name, or None when it can."""
    if char in BIDI_CONTROLS:
        return DIRECTION
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return CONTROL
    if (is_invisible(char) or category == "Cs") and char not in JOINERS:
        return INVISIBLE
    return None


def _is_visible(char: str) -> bool:
    # Marks (M*) only decorate the character before them; separators (Z*) and the
    # joiners (Cf) take no ink of their own.
    return unicodedata.category(char)[0] not in "CMZ" and not is_invisible(char)


def clean_display_name(value: str) -> str:
    """Return `value` with whitespace collapsed, or raise ValidationError saying what is wrong."""
    for char in value:
        problem = _problem(char)
        if problem:
            raise ValidationError(MESSAGES[problem], code=problem)
    name = " ".join(value.split())
    if not name:
        raise ValidationError(DISPLAY_NAME_MISSING, code="required")
    if not any(_is_visible(char) for char in name):
        raise ValidationError(MESSAGES[NOTHING_VISIBLE], code=NOTHING_VISIBLE)
    return name


def validate_display_name(value: str) -> None:
    """The model field's validator: refuse what `clean_display_name` refuses."""
    clean_display_name(value)


def name_for_display(value: str) -> str:
    """A stored name made safe to show: controls become spaces, other refused characters go,
    whitespace collapses. Empty when nothing visible is left."""
    kept = []
    for char in value:
        problem = _problem(char)
        if problem == CONTROL:
            kept.append(" ")
        elif problem is None:
            kept.append(char)
    name = " ".join("".join(kept).split())
    return name if any(_is_visible(char) for char in name) else ""
