import logging
import sys

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.template.loader import get_template
from django.urls import Resolver404, URLResolver
from django.urls.resolvers import RegexPattern
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


# The middleware after EveryonesPageMiddleware in MIDDLEWARE, which an early answer passes
# over. Those that change such an answer, it runs itself, in their order; the others change
# nothing in it (tests/test_early_answer.py compares the two ways). A middleware added
# there must be judged, and named here, before the early answer is served again.
PASSED_OVER = (
    "django.contrib.sessions.middleware.SessionMiddleware",  # no session: nothing to save
    "django.middleware.common.CommonMiddleware",  # run: Host check, Content-Length
    "django.middleware.csrf.CsrfViewMiddleware",  # run: the visitor's CSRF cookie
    "django.contrib.auth.middleware.AuthenticationMiddleware",  # nobody signed in
    "django.contrib.messages.middleware.MessageMiddleware",  # no message waiting
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # run: X-Frame-Options
    "allauth.account.middleware.AccountMiddleware",  # changes only a 404
    "django_htmx.middleware.HtmxMiddleware",  # not an htmx request
    "forum.middleware.RefusalMiddleware",  # exceptions of views only
    "forum.middleware.DatabaseUnavailableMiddleware",  # ditto; the answer asks no database
)


class EveryonesPageMiddleware:
    """Answers the reading pages every anonymous visitor gets, when the cache holds them
    current, before the middleware that has nothing to do for them: a reading page served
    from the cache spent most of its time there (sessions, messages, allauth's and htmx's
    request state, and resolving the address among all the site's).

    The answer is the view's own (forum/discussion/pages.py); what the middleware passed over
    would have changed in it is changed here by the same middleware's methods (PASSED_OVER).
    Anything else (another address, a signed-in reader, a page not cached, a state to look
    up in the database) goes the whole way, as if this middleware were not there."""

    def __init__(self, get_response):
        if settings.CSRF_USE_SESSIONS:
            raise MiddlewareNotUsed("the CSRF secret lives in a session: no early answer")
        following = settings.MIDDLEWARE[settings.MIDDLEWARE.index(_dotted(type(self))) + 1 :]
        if tuple(following) != PASSED_OVER:
            raise MiddlewareNotUsed("MIDDLEWARE changed: judge the newcomers (PASSED_OVER)")
        self.get_response = get_response
        self.common = CommonMiddleware(get_response)
        self.csrf = CsrfViewMiddleware(get_response)
        self.x_frame_options = XFrameOptionsMiddleware(get_response)
        self.reading_pages = _reading_pages_resolver()
        # Here, not at the top: models cannot be imported before the apps are ready.
        from .discussion import pages, views

        self.pages, self.views = pages, views

    def __call__(self, request):
        response = self._early_answer(request)
        return response if response is not None else self.get_response(request)

    def _early_answer(self, request):
        try:
            match = self.reading_pages.resolve(request.path_info)
        except Resolver404:
            return None
        variant = self.views.everyones_variant(request, match.kwargs.get("key"))
        if variant is None or self.common.process_request(request) is not None:
            return None  # a redirect to www. is CommonMiddleware's answer, in its place
        self.csrf.process_request(request)
        response = self.pages.everyones_page_cached(
            request, slug=match.kwargs["slug"], variant=variant, cache_only=True
        )
        if response is None:
            return None
        # In the order the passed-over middleware would have, innermost first.
        response = self.x_frame_options.process_response(request, response)
        response = self.csrf.process_response(request, response)
        return self.common.process_response(request, response)


def _dotted(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _reading_pages_resolver() -> URLResolver:
    """The site's reading pages' own URL patterns, alone: resolving among them is a fraction
    of resolving among all the site's, and they take the same addresses to the same views
    (tests/test_early_answer.py)."""
    from .discussion import urls, views

    reading = [
        pattern
        for pattern in urls.urlpatterns
        if getattr(pattern, "callback", None) in (views.essay_detail, views.paragraph_detail)
    ]
    return URLResolver(RegexPattern(r"^/"), reading)


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
