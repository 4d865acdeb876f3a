from django.conf import settings

from .refusals import Refused, refusal_response


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
