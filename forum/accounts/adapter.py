from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.http import url_has_allowed_host_and_scheme

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

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        """The confirmation link carries the `next` the sign-up form did (the thread the
        reader signed up from), so that confirming brings them back there, in whichever
        browser they open the email. Only a path on this site is carried."""
        url = super().get_email_confirmation_url(request, emailconfirmation)
        next_url = same_site_path(request.POST.get("next") if request is not None else None)
        return f"{url}?{urlencode({'next': next_url})}" if next_url else url

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


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site (no scheme, no host: "//evil.example" is a
    host), else None."""
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(target, None):
        return target
    return None
