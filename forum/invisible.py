"""Characters that take no ink: the one definition that comment bodies, word lists and
display names share, so that what one check calls invisible the others do too."""

import unicodedata

# Marks and fillers that show nothing although Unicode does not class them as format
# characters: the combining grapheme joiner, variation selectors, Mongolian free variation
# selectors, Khmer inherent vowels, Hangul fillers and the blank braille pattern.
_INVISIBLE_OUTSIDE_FORMAT = frozenset(
    [0x034F, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
    + [*range(0x180B, 0x1810), 0x17B4, 0x17B5]
    + [0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800]
)
# The zero-width joiner and non-joiner shape Persian, Indic scripts and emoji: invisible,
# but a part of writing.
JOINERS = frozenset("\u200c\u200d")


def is_invisible(char: str) -> bool:
    """Format characters (zero-width spaces, direction controls, tags, soft hyphen, ...)
    and the fillers above."""
    return unicodedata.category(char) == "Cf" or ord(char) in _INVISIBLE_OUTSIDE_FORMAT


def strip_invisible(text: str) -> str:
    return "".join(char for char in text if not is_invisible(char))
