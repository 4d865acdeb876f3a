"""An essay's published comments as W3C Web Annotations (JSON-LD,
https://www.w3.org/TR/annotation-model/): one AnnotationCollection with its one page
embedded, read by `GET /essays/<slug>/annotations.jsonld` and `manage.py export_annotations`.

How a comment becomes an annotation:

- Its id is its permalink, `/comments/<pk>/`: stable whatever a revision does to its
  paragraph, and it leads to the comment (or its placeholder) in a browser.
- A comment on the whole essay targets the essay's address.
- A comment on a paragraph targets the essay with a FragmentSelector naming the paragraph's
  anchor (`p-<key>`). A paragraph a revision retired is found in the last revision that
  had it, so the fragment still names something.
- A comment on a passage adds a TextQuoteSelector (exact, prefix, suffix, as stored), and
  refines the paragraph's FragmentSelector with a TextPositionSelector: positions count in
  the paragraph's plain text, not in the whole page (whose text a client may assemble
  differently), which is what `refinedBy` says. A passage no longer in the paragraph keeps
  its quote and has no position.
- A reply targets the annotation it answers (its parent's id), motivated by "replying".

Only what the one access rule lets an anonymous reader read is exported (access.py).
"""

from datetime import UTC

from django.conf import settings
from django.urls import reverse

from essays.models import Essay

from .access import can_read_text
from .models import Comment
from .quotes import locate_quote

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# The W3C protocol's media type for annotations (https://www.w3.org/TR/annotation-protocol/).
CONTENT_TYPE = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
# What a FragmentSelector's value conforms to: an HTML element id, as in a URL's fragment.
FRAGMENT_SPEC = "http://tools.ietf.org/rfc/rfc3986"


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def annotation_id(comment_id: int) -> str:
    return absolute(reverse("discussion:comment_permalink", kwargs={"pk": comment_id}))


def collection_url(essay: Essay) -> str:
    return absolute(reverse("discussion:essay_annotations", kwargs={"slug": essay.slug}))


def exported_comments(essay: Essay) -> list[Comment]:
    """The essay's comments an anonymous reader may read, oldest first (one query)."""
    comments = (
        Comment.objects.published()
        .filter(essay=essay)
        .select_related("author", "paragraph")
        .order_by("id")
    )
    readable = []
    for comment in comments:
        comment.essay = essay
        if can_read_text(comment, None, moderator=False):
            readable.append(comment)
    return readable


def essay_annotations(essay: Essay) -> dict:
    """The essay's published comments as one AnnotationCollection, its page embedded."""
    url = collection_url(essay)
    items = [comment_annotation(comment) for comment in exported_comments(essay)]
    collection = {
        "@context": CONTEXT,
        "id": url,
        "type": "AnnotationCollection",
        "label": f"Comments on “{essay.title}”",
        "total": len(items),
    }
    if items:
        # One page holds them all; its id names it within this document.
        page = {"id": f"{url}#page-1", "type": "AnnotationPage", "startIndex": 0, "items": items}
        collection.update(first=page, last=page["id"])
    return collection


def comment_annotation(comment: Comment) -> dict:
    annotation = {
        "id": annotation_id(comment.pk),
        "type": "Annotation",
        "motivation": "replying" if comment.parent_id else "commenting",
    }
    creator = _creator(comment)
    if creator:
        annotation["creator"] = creator
    if comment.created:
        annotation["created"] = _timestamp(comment.created)
    if comment.edited_at:
        annotation["modified"] = _timestamp(comment.edited_at)
    annotation["body"] = {
        "type": "TextualBody",
        "value": comment.body_html,
        "format": "text/html",
    }
    annotation["target"] = _target(comment)
    return annotation


def _creator(comment: Comment) -> dict | None:
    """The author as a Person; nobody for an unnamed import or a former member."""
    if comment.author_id:
        person = {"type": "Person", "name": str(comment.author)}
        if comment.author.is_active:  # an inactive member's profile is gone
            person["id"] = absolute(comment.author.get_absolute_url())
        return person
    if comment.imported and comment.author_name:
        return {"type": "Person", "name": comment.author_name}
    return None


def _target(comment: Comment) -> str | dict:
    if comment.parent_id:
        return annotation_id(comment.parent_id)
    essay = comment.essay
    if comment.paragraph_id is None:
        return absolute(essay.get_absolute_url())
    paragraph = comment.paragraph
    if paragraph.is_live:
        source = absolute(essay.get_absolute_url())
    else:
        source = absolute(
            reverse(
                "essays:revision_detail",
                kwargs={"slug": essay.slug, "number": paragraph.retired_in - 1},
            )
        )
    fragment = {"type": "FragmentSelector", "conformsTo": FRAGMENT_SPEC, "value": paragraph.anchor}
    if not comment.quote:
        return {"type": "SpecificResource", "source": source, "selector": fragment}
    # The passage as the paragraph reads now (a revision may have edited it since).
    passage = comment.passage
    quote = {"type": "TextQuoteSelector", "exact": passage}
    if comment.quote_prefix:
        quote["prefix"] = comment.quote_prefix
    if comment.quote_suffix:
        quote["suffix"] = comment.quote_suffix
    start = locate_quote(paragraph.text, passage, comment.quote_prefix, comment.quote_suffix)
    if start is not None:
        fragment["refinedBy"] = {
            "type": "TextPositionSelector",
            "start": start,
            "end": start + len(passage),
        }
    return {"type": "SpecificResource", "source": source, "selector": [quote, fragment]}


def _timestamp(moment) -> str:
    """xsd:dateTime in UTC, as the model recommends."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
