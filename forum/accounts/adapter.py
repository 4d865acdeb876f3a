from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied

from forum.ratelimits import client_address

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

    def get_client_ip(self, request) -> str:
        """The address allauth's limits (login lockout, sign-up) count: the same as ours, so
        that behind a proxy (DJANGO_BEHIND_PROXY) each reader has their own lockout rather
        than all sharing the proxy's."""
        address = client_address(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address.")
        return address
