from django.db import transaction

from essays.models import Essay

from .markup import normalize_body, render_comment
from .models import Comment


@transaction.atomic
def comment_import_response(*, essay: Essay, author_name: str, body: str) -> tuple[Comment, bool]:
    """Publish a response that came with an essay's source, once: importing again finds it.

    Such a response has no account and no date (we invent none); it is a top-level comment
    on the whole essay. Returns the comment and whether it was created.
    """
    body = normalize_body(body)
    existing = (
        Comment.objects.on_whole_essay(essay)
        .filter(author__isnull=True, author_name=author_name, body=body, parent__isnull=True)
        .first()
    )
    if existing:
        return existing, False
    comment = Comment(
        essay=essay,
        author_name=author_name,
        body=body,
        body_html=render_comment(body),
        status=Comment.Status.PUBLISHED,
        created=None,
    )
    comment.full_clean()
    comment.save()
    return comment, True
