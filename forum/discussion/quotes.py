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
