"""forum/csrf.py's csrf_token does what Django's get_token does: the same token for the same
secret, the same cookie sent, accepted by CsrfViewMiddleware; only cheaper."""

from collections import Counter

from django.http import HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CsrfViewMiddleware,
    _check_token_format,
    _unmask_cipher_token,
    get_token,
)
from django.test import RequestFactory

from forum.csrf import _random_text, csrf_token


def served(make_token, cookie=None):
    """A GET through CsrfViewMiddleware to a view that puts a token in its page."""
    request = RequestFactory().get("/")
    if cookie:
        request.COOKIES["csrftoken"] = cookie
    middleware = CsrfViewMiddleware(lambda request: HttpResponse(make_token(request)))
    return request, middleware(request)


def test_a_first_visit_gets_a_new_secret_in_its_cookie_and_a_token_of_it():
    request, response = served(csrf_token)
    secret = response.cookies["csrftoken"].value
    token = response.content.decode()
    _check_token_format(token)
    assert len(secret) == CSRF_SECRET_LENGTH and set(secret) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == secret == request.META["CSRF_COOKIE"]


def test_a_returning_visitor_keeps_the_secret_and_the_cookie_is_renewed():
    secret = "a" * CSRF_SECRET_LENGTH
    _, response = served(csrf_token, cookie=secret)
    assert response.cookies["csrftoken"].value == secret
    assert _unmask_cipher_token(response.content.decode()) == secret


def test_the_response_is_what_get_token_would_have_made_of_it():
    for cookie in (None, "b" * CSRF_SECRET_LENGTH):
        _, ours = served(csrf_token, cookie)
        _, djangos = served(get_token, cookie)
        assert ours.headers.keys() == djangos.headers.keys()
        assert ours["Vary"] == djangos["Vary"]
        ours_cookie, djangos_cookie = ours.cookies["csrftoken"], djangos.cookies["csrftoken"]
        assert dict(ours_cookie) == dict(djangos_cookie)
        assert (ours_cookie.value == djangos_cookie.value) == (cookie is not None)


def test_the_token_is_accepted_with_its_cookie_and_refused_with_another():
    _, page = served(csrf_token)
    token, secret = page.content.decode(), page.cookies["csrftoken"].value
    for cookie, accepted in ((secret, True), ("c" * CSRF_SECRET_LENGTH, False)):
        request = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
        request.COOKIES["csrftoken"] = cookie
        middleware = CsrfViewMiddleware(lambda request: HttpResponse())
        middleware.process_request(request)
        refused = middleware.process_view(request, lambda request: None, (), {})
        assert (refused is None) == accepted


def test_each_token_is_new_and_each_place_takes_every_character():
    tokens = [csrf_token(RequestFactory().get("/")) for _ in range(2000)]
    assert len(set(tokens)) == len(tokens)
    # A character never drawn in some place would be a mapping that misses it; a third of
    # the expected count, one that halves its chances.
    expected = len(tokens) / len(CSRF_ALLOWED_CHARS)
    for place in range(2 * CSRF_SECRET_LENGTH):
        counts = Counter(token[place] for token in tokens)
        assert set(counts) == set(CSRF_ALLOWED_CHARS)
        assert min(counts.values()) > expected / 3


def test_random_text_has_the_length_asked_for():
    assert {len(_random_text(length)) for length in (1, 32, 64, 500)} == {1, 32, 64, 500}
