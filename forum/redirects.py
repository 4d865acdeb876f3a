"""Where to send a reader after an action: back to the page it came from, never off-site."""

from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request, fallback) -> str:
    """The `next` the form carried when it points at this site; else `fallback` (a URL or a
    URL name)."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(fallback)
