import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.views import defaults

from .refusals import Refused, refusal_response

logger = logging.getLogger(__name__)

# What an outage of the database raises: it cannot be reached, refuses or drops the
# connection (OperationalError), or the connection broke under us (InterfaceError). The
# other DatabaseErrors (integrity, data, programming) are our bugs: they stay a 500.
DATABASE_OUTAGE = (OperationalError, InterfaceError)

# A moment: what a restart or a failover of the database takes.
OUTAGE_RETRY_AFTER = 10

# The posted fields an outage page gives back: the text a reader wrote for the site (a
# comment, a reply, an edit, an essay's source) and the choices that go with it. Named, not
# all of them: a password or a token must never come back in a page.
KEPT_TEXT_FIELDS = ("body", "source")
KEPT_CHOICE_FIELDS = ("quote", "quote_prefix", "quote_suffix", "preview")


class HealthCheckMiddleware:
    """Answer /healthz before anything checks the Host or redirects to HTTPS: a load
    balancer probes each machine at its own address, often over plain HTTP. First in
    MIDDLEWARE; the answer names no host and carries nothing private."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            from .views import healthz

            return healthz(request)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send the site's Content-Security-Policy and Permissions-Policy on every response that
    lacks them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class RefusalMiddleware:
    """Answers a `Refused` that a view let through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Refused):
            return refusal_response(request, exception)
        return None


class DatabaseUnavailableMiddleware:
    """Answers a database outage met in a view (or in rendering its page) with a 503 that
    keeps the reader's text. An outage met in a middleware never reaches a view's
    exception handling: `server_error`, the site's handler500, answers that one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_OUTAGE):
            return None
        # Django logs the 503 without its cause. The traceback also tells an outage from a
        # bug that raises the same class (SQLite's "no such table" is an OperationalError).
        logger.error("Database unavailable, answered 503: %s", request.path, exc_info=exception)
        return database_unavailable_response(request)


def server_error(request):
    """handler500: an outage of the database is a 503 wherever it was met (Django has logged
    it); any other error is Django's 500 page."""
    if isinstance(sys.exc_info()[1], DATABASE_OUTAGE):
        return database_unavailable_response(request)
    return defaults.server_error(request)


def database_unavailable_response(request):
    """The answer while the database is out, made without it: no context processors, no
    session, no user, each of which would query it and fail again.

    For htmx, the message alone, for the place where a form shows its refusals: the form
    and the reader's text stay on the page (static/js/discussion.js puts the message there;
    htmx swaps no 5xx by itself). Otherwise a page that says to try again and gives back
    the text that was sent, in a form that sends it again."""
    texts = _kept_texts(request)
    # The header itself: an outage met in a middleware may come before HtmxMiddleware.
    if request.headers.get("HX-Request") == "true":
        message = _("The site is briefly unavailable. Try again in a moment.")
        if texts:
            message = _(
                "The site is briefly unavailable. Try again in a moment: your text is kept."
            )
        content = get_template("_refused.html").render({"message": message})
    else:
        # One leading slash: "//elsewhere.example/x" would send "Try again" to another site.
        retry_url = "/" + request.get_full_path().lstrip("/")
        context = {"retry_url": retry_url, "posted": request.method == "POST"}
        if texts:
            context.update(
                texts=texts,
                choices=[
                    (name, request.POST[name])
                    for name in KEPT_CHOICE_FIELDS
                    if name in request.POST
                ],
                # From the CSRF cookie this very POST was checked against, not from the
                # database: the form sends again as it is once the database is back.
                csrf_token=get_token(request),
            )
        content = get_template("503.html").render(context)
    response = HttpResponse(content, status=503)
    response["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    # The page may hold the reader's text, and it answers for a moment only: keep no copy.
    response["Cache-Control"] = "no-store"
    return response


def _kept_texts(request) -> list[tuple[str, str]]:
    """(name, text) of what a POST sent that an outage must not lose."""
    if request.method != "POST":
        return []
    return [(name, request.POST[name]) for name in KEPT_TEXT_FIELDS if name in request.POST]
