"""The data export: everything the site holds about a member, as one JSON document."""

from django.conf import settings

from forum.discussion.access import can_read_text, excerpt_for
from forum.discussion.models import Comment
from forum.subscriptions.models import NotificationSettings, Subscription

EXPORT_FORMAT_VERSION = 1


def user_export(user) -> dict:
    comments = (
        Comment.objects.filter(author=user)
        .select_related("essay", "paragraph")
        .prefetch_related("revisions")
        .order_by("id")
    )
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "email_addresses": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in user.emailaddress_set.all()
            ],
        },
        "comments": [_comment(comment, user) for comment in comments],
        "subscriptions": [
            {
                "essay": subscription.essay.slug,
                "paragraph": subscription.paragraph.key if subscription.paragraph_id else None,
                "thread": subscription.thread_id,
                "level": subscription.level,
            }
            for subscription in Subscription.objects.filter(user=user).select_related(
                "essay", "paragraph"
            )
        ],
        "notification_settings": NotificationSettings.objects.filter(user=user)
        .values("email", "follow_on_post")
        .first(),
    }


def _comment(comment: Comment, user) -> dict:
    return {
        "id": comment.pk,
        "url": settings.SITE_URL + comment.get_absolute_url(),
        "essay": {"slug": comment.essay.slug, "title": comment.essay.title},
        "paragraph": (
            {"key": comment.paragraph.key, "text": comment.paragraph.text}
            if comment.paragraph_id
            else None
        ),
        "in_reply_to": comment.parent_id,
        "status": comment.status,
        # The one access rule: a hidden, removed or deleted text is no longer the author's
        # to read here either.
        "body": excerpt_for(comment, user, moderator=False) or None,
        "created": comment.created.isoformat() if comment.created else None,
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        "earlier_versions": [
            {"body": revision.body, "replaced_at": revision.replaced_at.isoformat()}
            for revision in comment.revisions.all()
            if can_read_text(comment, user, moderator=False)
        ],
    }
