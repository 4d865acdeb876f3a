"""One way to refuse: every app raises `Refused`, and one place turns it into a response.

A refusal is not an error of ours: the reader asked for something the site does not do
(a closed essay, a rate limit, a missing permission). It carries the HTTP status and a
message for the reader. `forum.middleware.RefusalMiddleware` answers it (a page, or a
fragment for htmx) where a view does not handle it itself (forms that keep the reader's
text do).
"""

from django.shortcuts import render

from .ratelimits import RateLimited, consume


class Refused(Exception):
    """An action that cannot be done; `message` says why, `status` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 400, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def consume_or_refuse(scope: str, key: str, limits, message: str) -> None:
    """Count one action against its rate limits; past them, a 429 refusal with Retry-After.
    `message` may name the wait with %(seconds)s."""
    try:
        consume(scope, key, limits)
    except RateLimited as limited:
        raise Refused(
            message % {"seconds": limited.retry_after},
            status=429,
            retry_after=limited.retry_after,
        ) from None


def refusal_response(request, refusal: Refused, *, back_url: str = ""):
    """The answer to a refusal: the page that says why (a fragment of it for htmx), with
    its status and, for a rate limit, Retry-After."""
    template = "_refused.html" if getattr(request, "htmx", False) else "refused.html"
    response = render(
        request,
        template,
        {"message": refusal.message, "back_url": back_url},
        status=refusal.status,
    )
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response
