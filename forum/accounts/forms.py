from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from .models import User
from .names import DISPLAY_NAME_MISSING, clean_display_name

DISPLAY_NAME_HELP = _("Shown beside your comments. You can change it later.")


class DisplayNameCleaning:
    """Every form that sets a display name checks it the one way, in `names`."""

    def clean_display_name(self):
        return clean_display_name(self.cleaned_data["display_name"])


class SignupForm(DisplayNameCleaning, forms.Form):
    """The fields allauth's sign-up form lacks; the adapter stores them."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=DISPLAY_NAME_HELP,
        error_messages={"required": DISPLAY_NAME_MISSING},
    )

    def signup(self, request, user):
        """Called by allauth once the user exists; the adapter has already set the name."""


class DisplayNameForm(DisplayNameCleaning, forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name"]
        help_texts = {"display_name": DISPLAY_NAME_HELP}
        error_messages = {"display_name": {"required": DISPLAY_NAME_MISSING}}


class AccountDeleteForm(forms.Form):
    class CommentChoice:
        DELETE = "delete"
        KEEP = "keep"

    comments = forms.ChoiceField(
        label=_("What should happen to your comments?"),
        choices=[
            (CommentChoice.DELETE, _("Delete them. Replies by others stay, under a placeholder.")),
            (CommentChoice.KEEP, _("Keep them, signed “a former member” instead of your name.")),
        ],
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label=_("Your password, to confirm"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():  # signed up through a social login
            del self.fields["password"]
            self.fields["confirm"] = forms.BooleanField(label=_("Yes, delete my account"))

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password


class UserCreationAdminForm(DisplayNameCleaning, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name"]


class UserChangeAdminForm(DisplayNameCleaning, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
