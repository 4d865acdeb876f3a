"""Imported comments a member may claim: read here, claimed through services.comment_claim."""

from allauth.account.models import EmailAddress
from django.db.models.functions import Lower

from essays.models import Essay
from forum.discussion.models import Comment

# What may be claimed: a comment readers see, or one waiting for a moderator (it stays
# pending; claiming only names its author). Never one a moderator removed or hid, or one
# deleted: claiming would put a text withdrawn from the page under someone's name.
CLAIMABLE_STATUSES = (Comment.Status.PUBLISHED, Comment.Status.PENDING)
# What the list offers: what readers see (the list shows the text).
LISTED_STATUSES = (Comment.Status.PUBLISHED,)


def claimable_comments(user):
    """Published imported comments, on published essays, that nobody has claimed and that
    were written under one of `user`'s confirmed addresses (stored lower-cased); oldest
    first. One query."""
    confirmed = EmailAddress.objects.filter(user=user, verified=True).values(address=Lower("email"))
    return (
        Comment.objects.filter(status__in=LISTED_STATUSES)
        .filter(
            imported=True,
            author__isnull=True,
            imported_email__in=confirmed,
            essay__in=Essay.objects.published(),
        )
        .select_related("essay", "paragraph")
        .order_by("created", "id")
    )
