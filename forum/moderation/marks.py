"""Marks in the texts a moderator reads: the watched words that held a comment, highlighted
in its HTML, and what changed between two versions of an edited comment.

Pure functions of their arguments; both return safe HTML built only from escaped text.

- A word is found as the word lists find it (`rules.normalize_for_matching`: case, accents,
  look-alike letters, any run of whitespace), then the original characters are marked, so
  the moderator sees exactly what the author wrote. A word split by markup (half of it in
  bold) is not marked; the reasons above the text still name it.
- Changes are compared word by word on the Markdown sources, which is what the author
  typed: a changed link target shows, where rendered HTML would hide it.
"""

import difflib
import html
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .rules import normalize_for_matching

_TAG = re.compile(r"(<[^>]*>)")


def _normalized_with_origins(text: str) -> tuple[str, list[int]]:
    """`text` normalized one character at a time, and for each normalized character the
    index of the original character it came from."""
    normalized, origins = [], []
    for index, char in enumerate(text):
        part = " " if char.isspace() else normalize_for_matching(char)
        normalized.append(part)
        origins.extend([index] * len(part))
    return "".join(normalized), origins


def _word_pattern(word: str) -> re.Pattern | None:
    parts = normalize_for_matching(word).split(" ")
    if not any(parts):
        return None
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(part) for part in parts) + r"(?!\w)")


def _spans(text: str, patterns: list[re.Pattern]) -> list[tuple[int, int]]:
    normalized, origins = _normalized_with_origins(text)
    spans = []
    for pattern in patterns:
        for match in pattern.finditer(normalized):
            if match.end() > match.start():
                spans.append((origins[match.start()], origins[match.end() - 1] + 1))
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight_words(body_html: str, words: list[str]) -> SafeString:
    """`body_html` (sanitized at write time) with each of `words` wrapped in <mark>."""
    patterns = [p for p in (_word_pattern(word) for word in words) if p is not None]
    if not patterns:
        return mark_safe(body_html)  # sanitized when the comment was written
    out = []
    for piece in _TAG.split(body_html):
        if not piece or piece.startswith("<"):
            out.append(piece)
            continue
        text = html.unescape(piece)
        position = 0
        for start, end in _spans(text, patterns):
            out.append(escape(text[position:start]))
            out.append(f"<mark>{escape(text[start:end])}</mark>")
            position = end
        out.append(escape(text[position:]))
    return mark_safe("".join(out))  # tags as sanitized, text escaped here


def marked_changes(before: str, after: str) -> SafeString:
    """`after`, with the words removed since `before` in <del> and those added in <ins>."""
    old, new = re.split(r"(\s+)", before), re.split(r"(\s+)", after)
    out = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for operation, a1, a2, b1, b2 in matcher.get_opcodes():
        if operation == "equal":
            out.append(escape("".join(new[b1:b2])))
            continue
        if a2 > a1:
            out.append(f"<del>{escape(''.join(old[a1:a2]))}</del>")
        if b2 > b1:
            out.append(f"<ins>{escape(''.join(new[b1:b2]))}</ins>")
    return mark_safe("".join(out))  # every piece escaped above
