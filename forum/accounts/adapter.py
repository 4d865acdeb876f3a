from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
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

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every link in allauth's emails (confirmation, password reset, sign-up) points at
        SITE_URL, never at the Host the request came with: a reset link sent to another
        of the site's names, or a poisoned one, would carry its key there."""
        context = {name: on_site(value) for name, value in context.items()}
        # "Hello from …" names the site by SITE_URL too, not by the Host asked for.
        domain = urlsplit(settings.SITE_URL).netloc
        context.setdefault("current_site", SimpleNamespace(domain=domain, name=domain))
        super().send_mail(template_prefix, email, context)


def on_site(value):
    """An absolute address of ours, re-rooted at SITE_URL; anything else as it is."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        return value
    parts = urlsplit(value)
    return settings.SITE_URL + parts.path + (f"?{parts.query}" if parts.query else "")
