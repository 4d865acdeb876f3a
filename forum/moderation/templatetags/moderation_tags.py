from django import template

from .. import marks
from ..models import ReasonCode

register = template.Library()


@register.inclusion_tag("moderation/_reason_code_options.html")
def reason_code_options():
    """The public reasons a removal gives, as the options of a select (one list: ReasonCode)."""
    return {"choices": ReasonCode.choices}


@register.simple_tag
def highlight_words(body_html, words):
    """A comment's HTML with the watched words that held it marked."""
    return marks.highlight_words(body_html, list(words or []))
