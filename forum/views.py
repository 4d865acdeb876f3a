"""The site's own pages that belong to no app."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    """A refused form (missing or stale CSRF token), in the site's own style: Django's page
    is blocked by our Content-Security-Policy."""
    return render(request, "403_csrf.html", status=403)
