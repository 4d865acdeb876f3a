"""EveryonesPageMiddleware (forum/middleware.py) answers a cached reading page before most of
the middleware: the visitor gets exactly what the whole way would have given them, headers and
body, in every case the page is served from the cache; every other request goes the whole
way."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from essays.services import essay_import
from forum.discussion import views
from forum.middleware import PASSED_OVER, EveryonesPageMiddleware, _reading_pages_resolver
from tests.conftest import essay_source, make_user, post

EARLY = "forum.middleware.EveryonesPageMiddleware"


@pytest.fixture
def essay(db):
    cache.clear()
    essay = essay_import(source=essay_source("The first paragraph.", "The second.")).essay
    post(make_user("ada@example.org", "Ada"), essay, body="A published thought.")
    return essay


def the_whole_way():
    """The site without the early answer (a new client's handler loads MIDDLEWARE anew)."""
    return override_settings(MIDDLEWARE=[name for name in settings.MIDDLEWARE if name != EARLY])


def answered_early(response) -> bool:
    # The whole way, SessionMiddleware gives every request a session; the early answer, none.
    return not hasattr(response.wsgi_request, "session")


def comparable(response) -> tuple:
    """The answer with what is drawn at random for each visitor (their CSRF secret when they
    had none, the mask of their token) and the cookie's expiry date left out."""
    headers = [(name, value) for name, value in response.headers.items()]
    cookies = {
        name: {key: value for key, value in morsel.items() if key != "expires"}
        for name, morsel in response.cookies.items()
    }
    body = re.sub(rb'name="csrfmiddlewaretoken" value="\w+"', b"", response.content)
    return response.status_code, headers, cookies, body


def the_same_both_ways(url, *, method="get", cookies=None, **headers):
    """The early answer and the whole way's, for the same request: checked equal."""
    early_client = Client()
    early_client.cookies.load(cookies or {})
    early = getattr(early_client, method)(url, **headers)
    with the_whole_way():
        whole_client = Client()
        whole_client.cookies.load(cookies or {})
        whole = getattr(whole_client, method)(url, **headers)
    assert answered_early(early) and not answered_early(whole)
    ours, theirs = comparable(early), comparable(whole)
    assert ours[:3] == theirs[:3]
    assert ours[3] == theirs[3]
    if cookies and len(cookies.get("csrftoken", "")) == 32:
        # The same secret both ways: the same cookie (if any), an ETag naming the same page.
        values = [{name: m.value for name, m in r.cookies.items()} for r in (early, whole)]
        assert values[0] == values[1]
    return early


def test_the_middleware_after_the_early_answer_is_the_list_judged():
    following = settings.MIDDLEWARE[settings.MIDDLEWARE.index(EARLY) + 1 :]
    assert tuple(following) == PASSED_OVER


def test_another_middleware_after_it_turns_the_early_answer_off(settings):
    from django.core.exceptions import MiddlewareNotUsed

    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "forum.middleware.RefusalMiddleware"]
    with pytest.raises(MiddlewareNotUsed):
        EveryonesPageMiddleware(lambda request: None)


def test_a_first_visit_gets_the_same_page_headers_and_new_cookie(essay):
    Client().get(essay.get_absolute_url())  # rendered, and cached
    response = the_same_both_ways(essay.get_absolute_url())
    assert "csrftoken" in response.cookies and "ETag" not in response
    assert response["Vary"] == "Cookie" and response["X-Frame-Options"] == "DENY"
    for header in ("Content-Security-Policy", "Permissions-Policy", "Content-Length"):
        assert header in response


def test_a_returning_visitor_gets_the_same_page_etag_and_renewed_cookie(essay):
    Client().get(essay.get_absolute_url())
    response = the_same_both_ways(essay.get_absolute_url(), cookies={"csrftoken": "a" * 32})
    assert response["ETag"] and response.cookies["csrftoken"].value == "a" * 32


def test_a_browser_that_has_the_page_gets_the_same_304(essay):
    visitor = Client()
    visitor.get(essay.get_absolute_url())
    cookie = visitor.cookies["csrftoken"].value
    etag = visitor.get(essay.get_absolute_url())["ETag"]
    response = the_same_both_ways(
        essay.get_absolute_url(), cookies={"csrftoken": cookie}, HTTP_IF_NONE_MATCH=etag
    )
    assert response.status_code == 304


def test_a_malformed_csrf_cookie_is_replaced_the_same_way(essay):
    Client().get(essay.get_absolute_url())
    response = the_same_both_ways(essay.get_absolute_url(), cookies={"csrftoken": "x!"})
    assert response.cookies["csrftoken"].value != "x!"


@pytest.mark.parametrize("query", ["?order=newest", "?order=newest&page=1", "?page=1"])
def test_the_orders_and_pages_everyone_gets_are_the_same(essay, query):
    url = essay.get_absolute_url() + query
    Client().get(url)
    the_same_both_ways(url)


def test_a_paragraphs_page_and_a_head_request_are_the_same(essay):
    paragraph = essay.paragraphs.live().order_by("position").first()
    for url in (paragraph.get_absolute_url(), essay.get_absolute_url()):
        Client().get(url)
        the_same_both_ways(url)
        the_same_both_ways(url, method="head")


def test_the_early_answer_is_the_current_page(essay):
    visitor = Client()
    assert "A later thought." not in visitor.get(essay.get_absolute_url()).content.decode()
    post(make_user("bo@example.org", "Bo"), essay, body="A later thought.")
    response = visitor.get(essay.get_absolute_url())
    # Rendered anew the whole way, then answered early.
    assert not answered_early(response) and "A later thought." in response.content.decode()
    response = visitor.get(essay.get_absolute_url())
    assert answered_early(response) and "A later thought." in response.content.decode()


def test_a_host_not_allowed_is_refused_before_any_page(essay):
    Client().get(essay.get_absolute_url())
    assert Client(HTTP_HOST="elsewhere.example").get(essay.get_absolute_url()).status_code == 400


@pytest.mark.parametrize(
    "how",
    ["signed in", "htmx", "message waiting", "other query", "post", "not cached", "state forgot"],
)
def test_every_other_request_goes_the_whole_way(essay, how):
    url = essay.get_absolute_url()
    visitor = Client()
    if how != "not cached":
        visitor.get(url)
    if how == "signed in":
        visitor.force_login(make_user("member@example.org", "Member"))
    elif how == "message waiting":
        visitor.cookies["messages"] = "anything"
    elif how == "state forgot":
        # The page is kept but the essay's state must be asked of the database.
        cache.delete(f"essay-state:{essay.slug}")
    request = {
        "htmx": lambda: visitor.get(url, HTTP_HX_REQUEST="true"),
        "other query": lambda: visitor.get(url + "?utm_source=x"),
        "post": lambda: visitor.post(url),
    }.get(how, lambda: visitor.get(url))
    assert not answered_early(request())


@pytest.mark.parametrize(
    "path",
    [
        "/essays/an-essay/",
        "/essays/an-essay/p/k3y/",
        "/essays/an-essay/feed/",
        "/essays/an-essay/p/k3y/thread/",
        "/essays/an-essay/p/k3y/comment/",
        "/essays/an-essay/revisions/",
        "/essays/an essay/",
        "/essays/an-essay",
        "/",
    ],
)
def test_the_reading_pages_own_patterns_take_addresses_where_the_site_does(path):
    try:
        early = _reading_pages_resolver().resolve(path)
    except Resolver404:
        early = None
    site = resolve(path) if early else None
    if early:
        assert (site.func, site.kwargs) == (early.func, early.kwargs)
        assert site.func in (views.essay_detail, views.paragraph_detail)
    else:
        with pytest.raises(Resolver404):
            resolve_reading(path)


def resolve_reading(path):
    match = resolve(path)
    if match.func in (views.essay_detail, views.paragraph_detail):
        return match
    raise Resolver404(path)
