"""Addresses of pages the discussion links to but does not own: each named in one place, so
that a page moving to another app changes one function."""

from django.urls import reverse


def revision_changes_url(*, slug: str, number: int, paragraph_key: str = "") -> str:
    """What revision `number` of the essay `slug` changed; at the paragraph's entry when
    `paragraph_key` names one."""
    url = reverse("essays:revision_changes", kwargs={"slug": slug, "number": number})
    return f"{url}#p-{paragraph_key}" if paragraph_key else url
