from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from essays.models import Essay
from forum.discussion.readers import reader_state_forget

from .cached import forget_account
from .names import name_for_display, validate_display_name


def _deleted_with_their_pages(user_ids: list[int], delete):
    """delete() of these accounts, and the pages that show their comments said to change.

    Their comments lose their author (the database sets it to null, unseen by the comments'
    own bookkeeping). Said in the deletion's transaction, after it: a page rendered before
    it commits is never kept as the new one."""
    with transaction.atomic():
        essays = list(
            Essay.objects.filter(comments__author_id__in=user_ids)
            .distinct()
            .values_list("pk", flat=True)
        )
        deleted = delete()
        Essay.objects.filter(pk__in=essays).discussion_changed()
    for user_id in user_ids:
        forget_account(user_id)
    return deleted


class UserQuerySet(models.QuerySet):
    def delete(self):
        """As User.delete, for every account selected (the admin's "Delete selected")."""
        return _deleted_with_their_pages(list(self.values_list("pk", flat=True)), super().delete)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A reader: logs in by email, appears under a display name (no username at all)."""

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("The name shown beside your comments."),
        validators=[validate_display_name],
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        # Names stored before `names` set its rules may hold line breaks or direction
        # overrides: show them cleaned. Never fall back to the email address, which is private.
        return name_for_display(self.display_name) or gettext("An unnamed reader")

    # What pages show of a member beside their comments: their name, and (through
    # is_active) a moderator's badge. A change to either changes those essays' pages.
    SHOWN_ON_PAGES = {"display_name", "is_active"}

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # The signed-in account is read from the cache (forum/accounts/backends.py), and
        # so are the facts their pages show of them (forum/discussion/readers.py).
        forget_account(self.pk)
        reader_state_forget(self.pk)
        fields = kwargs.get("update_fields")
        if fields is None or self.SHOWN_ON_PAGES & set(fields):
            self.essays_commented_on().discussion_changed()

    def delete(self, *args, **kwargs):
        delete = super().delete
        return _deleted_with_their_pages([self.pk], lambda: delete(*args, **kwargs))

    def essays_commented_on(self):
        return Essay.objects.filter(comments__author=self).distinct()

    def get_absolute_url(self):
        """The member's public profile."""
        return reverse("accounts:profile", kwargs={"pk": self.pk})

    def get_full_name(self):
        return str(self)

    def get_short_name(self):
        return str(self)
