"""Passages quoted from a paragraph: found by their exact text, told apart by context; and
found again, approximately, after a revision edited the paragraph.

Re-finding follows the annotation tools (Hypothesis's match-quote, over the bit-parallel
approximate search of approx-string-match): an exact occurrence of the passage in its context
if there is one, else the places where it occurs with the fewest edits; each scored by how close
the passage is (QUOTE_WEIGHT), how well the text before and after it matches the context
remembered (CONTEXT_WEIGHT each), and how near it is to where it was (POSITION_WEIGHT, a
tie-breaker). Unlike an annotation tool we would rather lose a passage than point at other
text: an approximate match needs QUOTE_MIN_SIMILARITY of the passage's characters, and a
short passage (under SELF_EVIDENT characters, where a few edits make another word) also
needs one side of its context to read as it did.
"""

from dataclasses import dataclass

# The limits of a quoted passage, named once: the form, the model, the service and the
# page's script (which reads them from data attributes) all use these.
QUOTE_MAX_LENGTH = 1000  # characters a passage may have
QUOTE_CONTEXT = 32  # characters of context kept on each side of a passage
QUOTE_CONTEXT_STORED = 64  # the most context a comment stores (room for older, longer context)
QUOTE_CONTEXT_SUBMITTED = 200  # the most context a form may send; the excess is ignored

# Re-finding a passage after an edit (see above).
QUOTE_MIN_SIMILARITY = 0.75  # share of its characters a passage keeps (1 - edits / length)
SELF_EVIDENT = 20  # characters from which a passage is found by its own text alone
CONTEXT_MIN_SIMILARITY = 0.75  # a side of its context that still reads as it did
QUOTE_WEIGHT, CONTEXT_WEIGHT, POSITION_WEIGHT = 50, 20, 2


@dataclass(frozen=True)
class Found:
    """Where a passage is now: text[start:end], and whether it is the passage exactly."""

    start: int
    end: int
    exact: bool
    score: float


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


def find_passage(
    text: str, quote: str, prefix: str = "", suffix: str = "", hint: int | None = None
) -> Found | None:
    """Where the passage `quote` is in `text` now, told apart from other occurrences by the
    context it had (`prefix`, `suffix`) and by where it was (`hint`, a character offset):
    exactly when it still occurs in its context, else approximately (an exact occurrence
    elsewhere, with other words around it, competes with the edited one that kept them).
    None when nothing close remains."""
    if not quote or not text:
        return None
    exact = []
    start = text.find(quote)
    while start != -1:
        exact.append((start, start + len(quote), 0))
        start = text.find(quote, start + 1)
    best = _best_match(text, quote, prefix, suffix, hint, exact)
    if best is not None and best[1] >= CONTEXT_MIN_SIMILARITY:
        return best[0]
    max_errors = int(len(quote) * (1 - QUOTE_MIN_SIMILARITY))
    approximate = _approximate_matches(text, quote, max_errors) if max_errors else []
    best = _best_match(text, quote, prefix, suffix, hint, exact + approximate) or best
    return None if best is None else best[0]


def _best_match(text, quote, prefix, suffix, hint, candidates) -> tuple[Found, float] | None:
    """The best scored of the candidates (start, end, edits), with how well the better side
    of its context matches; a short approximate one whose context matches neither side is
    not one."""
    best = None
    for start, end, errors in candidates:
        before = _context_similarity(text[max(0, start - len(prefix)) : start], prefix)
        after = _context_similarity(text[end : end + len(suffix)], suffix)
        context = max(before, after)
        if errors and len(quote) < SELF_EVIDENT and context < CONTEXT_MIN_SIMILARITY:
            continue
        position = 1.0 if hint is None else 1 - abs(start - hint) / len(text)
        score = (
            QUOTE_WEIGHT * (1 - errors / len(quote))
            + CONTEXT_WEIGHT * (before + after)
            + POSITION_WEIGHT * position
        ) / (QUOTE_WEIGHT + 2 * CONTEXT_WEIGHT + POSITION_WEIGHT)
        if best is None or score > best[0].score:
            best = (Found(start, end, not errors, score), context)
    return best


def _context_similarity(actual: str, expected: str) -> float:
    """1 - the fewest edits that make `expected` a part of `actual`, per character of
    `expected`; 1 when there was no context to remember (the passage began or ended its
    paragraph)."""
    if not expected:
        return 1.0
    if not actual:
        return 0.0
    return max(0.0, 1 - min(_edits_by_end(actual, expected)) / len(expected))


def _approximate_matches(text: str, pattern: str, max_errors: int) -> list[tuple[int, int, int]]:
    """(start, end, edits) of the places where `pattern` occurs in `text` with at most
    `max_errors` edits (insertions, deletions, substitutions): each end where the count is
    lowest among its neighbours, and the start that gives it."""
    edits = _edits_by_end(text, pattern)
    found = []
    for end in range(1, len(edits)):
        count = edits[end]
        if count > max_errors or count > edits[end - 1]:
            continue
        if end + 1 < len(edits) and edits[end + 1] <= count:
            continue  # the match goes on: its best end is further
        start = _best_start(text, pattern, end, count)
        found.append((start, end, count))
    return found


def _edits_by_end(text: str, pattern: str, *, anchored: bool = False) -> list[int]:
    """For each end e (0 to len(text)): the fewest edits that turn `pattern` into a part of
    `text` ending at e; `anchored`, into text[:e] as a whole. Myers' bit-parallel algorithm
    (1999): the edit distance table's columns as bit vectors of its vertical differences,
    one step per character of text, whatever the pattern's length (Python's integers have
    as many bits as it takes)."""
    length = len(pattern)
    equal: dict[str, int] = {}
    for position, character in enumerate(pattern):
        equal[character] = equal.get(character, 0) | (1 << position)
    mask, last = (1 << length) - 1, 1 << (length - 1)
    plus, minus, edits = mask, 0, length  # every vertical difference +1: the first column
    counts = [length]
    for character in text:
        eq = equal.get(character, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        horizontal_plus = minus | (~(xh | plus) & mask)
        horizontal_minus = plus & xh
        if horizontal_plus & last:
            edits += 1
        elif horizontal_minus & last:
            edits -= 1
        # The first row: 0 everywhere for a search (a match may start anywhere), e when the
        # pattern must start at the text's first character.
        horizontal_plus = ((horizontal_plus << 1) | anchored) & mask
        horizontal_minus = (horizontal_minus << 1) & mask
        plus = horizontal_minus | (~(xv | horizontal_plus) & mask)
        minus = horizontal_plus & xv
        counts.append(edits)
    return counts


def _best_start(text: str, pattern: str, end: int, edits: int) -> int:
    """Where a match of `pattern` ending at `end` with `edits` edits starts: the same
    search, backwards from `end`, anchored there; among equal counts the length nearest
    the pattern's."""
    window = text[max(0, end - len(pattern) - edits) : end][::-1]
    counts = _edits_by_end(window, pattern[::-1], anchored=True)
    length = min(range(len(counts)), key=lambda n: (counts[n], abs(n - len(pattern))))
    return end - length
