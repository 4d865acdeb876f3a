from django import template

from forum.discussion import links

register = template.Library()


@register.simple_tag
def revision_changes_url(essay, number, paragraph=None) -> str:
    """`{% revision_changes_url essay number paragraph %}`: see links.revision_changes_url."""
    return links.revision_changes_url(
        slug=essay.slug, number=number, paragraph_key=paragraph.key if paragraph else ""
    )
