from allauth.account.adapter import DefaultAccountAdapter

from .names import clean_display_name


class AccountAdapter(DefaultAccountAdapter):
    """allauth, fitted to our User: no username, a display name chosen at sign-up."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        # The sign-up form has cleaned it already; check again so no form can skip the rules.
        user.display_name = clean_display_name(form.cleaned_data["display_name"])
        if commit:
            user.save()
        return user
