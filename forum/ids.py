"""Ids that arrive in forms and query strings."""

# Larger than any id a database of ours hands out, small enough for every backend's integer.
_MAX_DIGITS = 18


def parse_id(value: str | None) -> int | None:
    """A positive id written in ASCII digits, or None: `str.isdigit` also accepts "²" and
    "١", which `int()` refuses or reads as another number."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > _MAX_DIGITS:
        return None
    return int(value)
