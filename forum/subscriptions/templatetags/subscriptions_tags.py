from django import template
from django.utils.translation import gettext as _

from ..models import Subscription

register = template.Library()


@register.simple_tag(takes_context=True)
def subscription_states(context, essay):
    """This reader's follow/mute settings on an essay, its paragraphs and threads, in one
    query a request: {"essay": level, "p<id>": level, "t<id>": level}. Every control on a
    page asks; the first question's answer is kept on the request for the others."""
    return states_on(context.get("request"), context.get("user"), essay)


class EveryEssaysStates(dict):
    """A reader's settings on every essay, read at once (readers_states): an essay missing
    from it has none."""

    def __contains__(self, essay_id):
        return True

    def __missing__(self, essay_id):
        return {}


def readers_states(user) -> EveryEssaysStates:
    """`user`'s settings on every essay: {essay id: states as states_on gives them}. Kept
    among the facts of the reader (forum/discussion/readers.py): their pages show them."""
    states = EveryEssaysStates()
    rows = Subscription.objects.filter(user=user).values_list(
        "essay_id", "paragraph_id", "thread_id", "level"
    )
    for essay_id, paragraph_id, thread_id, level in rows:
        states.setdefault(essay_id, {})[_state_key(paragraph_id, thread_id)] = level
    return states


def readers_states_prime(request, states: EveryEssaysStates) -> None:
    """The request's states_on answers, from the reader's kept facts."""
    request._subscription_states = states


def _state_key(paragraph_id, thread_id) -> str:
    return f"t{thread_id}" if thread_id else f"p{paragraph_id}" if paragraph_id else "essay"


def states_on(request, user, essay) -> dict[str, str]:
    # A generic member (forum/discussion/hooks.py) has no account, and no settings.
    if user is None or not user.is_authenticated or not user.pk:
        return {}
    kept = getattr(request, "_subscription_states", None)
    if kept is None:
        kept = {}
        if request is not None:
            request._subscription_states = kept
    if essay.pk in kept:
        return kept[essay.pk]
    states = {}
    rows = Subscription.objects.filter(user=user, essay=essay).values_list(
        "paragraph_id", "thread_id", "level"
    )
    for paragraph_id, thread_id, level in rows:
        states[_state_key(paragraph_id, thread_id)] = level
    kept[essay.pk] = states
    return states


@register.simple_tag
def follow_target(*, paragraph=None, thread=None) -> str:
    """What a follow control is about, in words: "this thread", "this paragraph", ..."""
    if thread:
        return _("this thread")
    if paragraph:
        return _("this %(kind)s") % {"kind": paragraph.get_kind_display().lower()}
    return _("this essay")


@register.simple_tag
def follow_state(states, *, paragraph=None, thread=None):
    if thread is not None:
        return states.get(f"t{thread}", "")
    if paragraph is not None:
        return states.get(f"p{paragraph}", "")
    return states.get("essay", "")


def threads_set_by(request, essay) -> set[int]:
    """The threads this reader follows or mutes on `essay`: their controls are their own."""
    states = states_on(request, request.user, essay)
    return {int(key[1:]) for key in states if key.startswith("t")}


def essay_state_of(request, essay) -> str:
    """Which of the essay header's follow controls this reader gets: their setting on the
    whole essay ("", "follow" or "mute")."""
    return states_on(request, request.user, essay).get("essay", "")
