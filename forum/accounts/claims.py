"""Imported comments a member may claim: read here, claimed through services.comment_claim."""

from allauth.account.models import EmailAddress
from django.db.models.functions import Lower

from essays.models import Essay
from forum.discussion.models import Comment


def claimable_comments(user):
    """Published imported comments, on published essays, that nobody has claimed and that
    were written under one of `user`'s confirmed addresses (stored lower-cased); oldest
    first. One query."""
    confirmed = EmailAddress.objects.filter(user=user, verified=True).values(address=Lower("email"))
    return (
        Comment.objects.published()
        .filter(
            imported=True,
            author__isnull=True,
            imported_email__in=confirmed,
            essay__in=Essay.objects.published(),
        )
        .select_related("essay", "paragraph")
        .order_by("created", "id")
    )
