"""Passages quoted from a paragraph: found by their exact text, told apart by context."""

# The limits of a quoted passage, named once: the form, the model, the service and the
# page's script (which reads them from data attributes) all use these.
QUOTE_MAX_LENGTH = 1000  # characters a passage may have
QUOTE_CONTEXT = 32  # characters of context kept on each side of a passage
QUOTE_CONTEXT_STORED = 64  # the most context a comment stores (room for older, longer context)
QUOTE_CONTEXT_SUBMITTED = 200  # the most context a form may send; the excess is ignored


def locate_quote(text: str, quote: str, prefix: str = "", suffix: str = "") -> int | None:
    """Where `quote` starts in `text`; among several occurrences, the one whose
    surroundings best match the remembered prefix and suffix. None if it is gone."""
    if not quote:
        return None
    best, best_score = None, -1
    start = text.find(quote)
    while start != -1:
        before = text[max(0, start - len(prefix)) : start]
        after = text[start + len(quote) : start + len(quote) + len(suffix)]
        score = _common_suffix(before, prefix) + _common_prefix(after, suffix)
        if score > best_score:
            best, best_score = start, score
        start = text.find(quote, start + 1)
    return best


def _is_word_character(text: str, at: int) -> bool:
    """A letter or digit, or an apostrophe inside a word ("Trotsky’s")."""
    character = text[at]
    if character.isalnum():
        return True
    return (
        character in "'’"
        and 0 < at < len(text) - 1
        and text[at - 1].isalnum()
        and text[at + 1].isalnum()
    )


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The passage text[start:end] widened to whole words: a selection that ends inside a word
    ("famines in the Uk") takes the rest of it ("famines in the Ukraine"). discussion.js
    widens a selection the same way, so that the reader sees what will be quoted."""
    while 0 < start < len(text) and _is_word_character(text, start - 1):
        if not _is_word_character(text, start):
            break
        start -= 1
    while 0 < end < len(text) and _is_word_character(text, end):
        if not _is_word_character(text, end - 1):
            break
        end += 1
    return start, end


def context_around(text: str, start: int, quote: str) -> tuple[str, str]:
    """The prefix and suffix to remember with a passage found at `start`."""
    return (
        text[max(0, start - QUOTE_CONTEXT) : start],
        text[start + len(quote) : start + len(quote) + QUOTE_CONTEXT],
    )


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: str, b: str) -> int:
    return _common_prefix(a[::-1], b[::-1])
