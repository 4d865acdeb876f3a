from django.contrib.auth import logout
from django.db import transaction

from forum.discussion.services import comments_release_author

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
