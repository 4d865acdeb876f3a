from allauth.account.models import EmailAddress
from django.contrib.auth import logout
from django.db import transaction
from django.utils.translation import gettext as _

from forum.discussion.models import Comment
from forum.discussion.readers import reader_state_forget
from forum.discussion.services import comments_release_author
from forum.refusals import Refused

from .claims import CLAIMABLE_STATUSES
from .models import User
from .names import clean_display_name


@transaction.atomic
def user_set_display_name(*, user: User, display_name: str) -> User:
    """Rename `user`; raise ValidationError for a name `names` refuses."""
    user.display_name = clean_display_name(display_name)
    user.full_clean()
    user.save(update_fields=["display_name"])  # also renews the pages their comments are on
    return user


@transaction.atomic
def account_delete(*, user: User, delete_comments: bool, request=None) -> None:
    """Remove an account for good. Its comments are deleted (placeholders keep others'
    replies in place) or kept under "a former member", as the person chose."""
    comments_release_author(author=user, delete=delete_comments)
    if request is not None:
        logout(request)
    user.delete()


@transaction.atomic
def comment_claim(*, user: User, comment: Comment) -> Comment:
    """Put an imported comment under the member who wrote it: one who has confirmed the
    address it was written under. The imported record (its name, its source) is kept.
    Claiming one's own comment again changes nothing; anything else is refused (403)."""
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if not comment.imported or not comment.imported_email:
        raise Refused(_("Only comments imported from another site can be claimed."), status=403)
    if comment.status not in CLAIMABLE_STATUSES:
        raise Refused(
            _(
                "This comment is not shown on the site (removed, hidden or deleted): it "
                "cannot be claimed."
            ),
            status=403,
        )
    if comment.author_id == user.pk:
        return comment
    if comment.author_id is not None:
        raise Refused(_("This comment has been claimed already."), status=403)
    confirmed = EmailAddress.objects.filter(
        user=user, email__iexact=comment.imported_email, verified=True
    )
    if not user.is_active or not confirmed.exists():
        raise Refused(
            _("This comment was written under an address you have not confirmed."), status=403
        )
    comment.author = user
    comment.save(update_fields=["author"])  # also renews the pages it is shown on
    return comment


def on_email_address_changed(sender, *, user=None, email_address=None, **kwargs) -> None:
    """allauth confirmed, added, removed or changed an address (apps.py): whether the
    member may post yet is read again for their pages."""
    user_id = user.pk if user is not None else email_address.user_id
    reader_state_forget(user_id)
