from django import template

from ..models import Subscription

register = template.Library()


@register.simple_tag(takes_context=True)
def subscription_states(context, essay):
    """This reader's follow/mute settings on an essay, its paragraphs and threads, in one
    query: {"essay": level, "p<id>": level, "t<id>": level}."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {}
    states = {}
    rows = Subscription.objects.filter(user=user, essay=essay).values_list(
        "paragraph_id", "thread_id", "level"
    )
    for paragraph_id, thread_id, level in rows:
        key = f"t{thread_id}" if thread_id else f"p{paragraph_id}" if paragraph_id else "essay"
        states[key] = level
    return states


@register.simple_tag
def follow_state(states, *, paragraph=None, thread=None):
    if thread is not None:
        return states.get(f"t{thread}", "")
    if paragraph is not None:
        return states.get(f"p{paragraph}", "")
    return states.get("essay", "")
