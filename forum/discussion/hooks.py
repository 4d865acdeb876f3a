"""Places in the discussion's pages where the apps above it add their own controls.

The discussion names the places; moderation and subscriptions register the partial
templates that fill them, in their AppConfig.ready(). So no discussion template names an
app above it (the layer check in tests/test_layers.py holds templates to that too). Each
partial is included with the page's context (`essay`, `paragraph`, `comment`, `user`,
`moderator`, `request`).

The essay page that signed-in readers share (member_pages.py) is rendered for a generic
member: the partials of its discussion regions must show nothing of the reader there (those
of paragraphs' regions do, on pages made for each reader). Its essay header is rendered once
for each variant the apps name (`register_variant`).

The actions under comments are rendered once for a generic member (`GENERIC_MEMBER`: signed
in, no one in particular) and shared by every signed-in reader (forum/discussion/pages.py).
An app whose actions differ for a real reader registers a function `(request, essay) ->
comment ids` naming the comments whose actions it renders differently for that reader;
those are rendered again for them. (A reader's own comments always are.)
"""

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser

# The places: the essay page's header, the head of a discussion region (of a paragraph or
# of the whole essay), and the actions under each comment.
PLACES = ("essay_header", "region_header", "comment_actions")

_partials: dict[str, list[str]] = {place: [] for place in PLACES}
_personal: list[Callable] = []
_variants: dict[str, list[Callable]] = {place: [] for place in PLACES}


class GenericMember(AnonymousUser):
    """Whom a shared rendering of comments is made for: signed in, but with no account of
    their own (pk 0: no comment is theirs, they follow nothing, they moderate nothing)."""

    id = pk = 0
    display_name = email = ""
    is_authenticated = True
    is_anonymous = False

    def __str__(self):
        return "GenericMember"


GENERIC_MEMBER = GenericMember()


def register(place: str, template_name: str) -> None:
    """Add a partial template to a place (once; registering again changes nothing)."""
    if place not in _partials:
        raise ValueError(f"No place called {place!r}; the places are {', '.join(PLACES)}.")
    if template_name not in _partials[place]:
        _partials[place].append(template_name)


def partials() -> dict[str, tuple[str, ...]]:
    return {place: tuple(names) for place, names in _partials.items()}


def register_personal(function: Callable) -> None:
    """Add a function `(request, essay) -> set of comment ids` (once)."""
    if function not in _personal:
        _personal.append(function)


def personal_comment_ids(request, essay) -> set[int]:
    """The comments whose actions the apps render differently for this reader."""
    ids: set[int] = set()
    for function in _personal:
        ids |= set(function(request, essay))
    return ids


def register_variant(place: str, function: Callable) -> None:
    """Add a function `(request, essay) -> hashable` saying which variant of a place's
    partials this reader gets, on a page shared by signed-in readers (member_pages.py):
    two readers for whom every such function of the place answers the same get the same
    HTML from its partials there, rendered once. An app whose partial in `place` shows
    anything of the reader must register one (once)."""
    if function not in _variants[place]:
        _variants[place].append(function)


def variant_of(place: str, request, essay) -> tuple:
    """Which variant of `place` this reader gets (see register_variant)."""
    return tuple(function(request, essay) for function in _variants[place])
