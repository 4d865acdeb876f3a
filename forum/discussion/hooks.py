"""Places in the discussion's pages where the apps above it add their own controls.

The discussion names the places; moderation and subscriptions register the partial
templates that fill them, in their AppConfig.ready(). So no discussion template names an
app above it (the layer check in tests/test_layers.py holds templates to that too). Each
partial is included with the page's context (`essay`, `paragraph`, `comment`, `user`,
`moderator`, `request`).
"""

# The places: the essay page's header, the head of a discussion region (of a paragraph or
# of the whole essay), and the actions under each comment.
PLACES = ("essay_header", "region_header", "comment_actions")

_partials: dict[str, list[str]] = {place: [] for place in PLACES}


def register(place: str, template_name: str) -> None:
    """Add a partial template to a place (once; registering again changes nothing)."""
    if place not in _partials:
        raise ValueError(f"No place called {place!r}; the places are {', '.join(PLACES)}.")
    if template_name not in _partials[place]:
        _partials[place].append(template_name)


def partials() -> dict[str, tuple[str, ...]]:
    return {place: tuple(names) for place, names in _partials.items()}
