from django import template

from ..models import ReasonCode

register = template.Library()


@register.inclusion_tag("moderation/_reason_code_options.html")
def reason_code_options():
    """The public reasons a removal gives, as the options of a select (one list: ReasonCode)."""
    return {"choices": ReasonCode.choices}
