"""While the database is out, a reader gets a 503 that says to try again in a moment, with
Retry-After, and never loses what they wrote: the page gives the text back in a form that
sends it again, and htmx gets the message for the place where the form shows its refusals.

The outage is Django's connection failing on every query, as it does when the database
server is down or has dropped the connection: nothing of ours is replaced."""

import logging
import re
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from forum.discussion.models import Comment

HTMX = {"HTTP_HX_REQUEST": "true"}
WRITTEN = 'On <script>alert("the third")</script> & more.'
ESCAPED = "On &lt;script&gt;alert(&quot;the third&quot;)&lt;/script&gt; &amp; more."


@pytest.fixture
def outage(monkeypatch):
    """A context in which every query fails as `error` (by default, as when the server
    refuses connections)."""

    @contextmanager
    def outage(error=OperationalError):
        def unreachable(connection, name=None):
            raise error("connection to server failed: Connection refused")

        with monkeypatch.context() as patch:
            patch.setattr(BaseDatabaseWrapper, "_cursor", unreachable)
            yield

    return outage


@pytest.fixture
def third(make_essay):
    return make_essay("First.", "Second.", "Third.").paragraphs.get(position=2)


def post_url(paragraph):
    return f"/essays/{paragraph.essay.slug}/p/{paragraph.key}/comment/"


class PageForm(HTMLParser):
    """The first form of a page as a browser sends it: its action and its fields."""

    def __init__(self, page: str):
        super().__init__()
        self.action, self.fields, self._textarea = None, {}, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs["action"]
        elif tag == "input" and "name" in attrs:
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def assert_briefly_unavailable(response):
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in response  # through every middleware, as any answer
    assert "Try again in a moment" in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_a_comment_posted_during_an_outage_comes_back_escaped_on_a_503_page(
    reader_client, third, outage, settings, debug
):
    settings.DEBUG = debug
    with outage():
        response = reader_client.post(post_url(third), {"body": WRITTEN, "quote": "Third"})
    page = response.content.decode()
    assert_briefly_unavailable(response)
    assert "The site is briefly unavailable" in page
    assert f">{ESCAPED}</textarea>" in page
    assert "<script" not in page
    assert not Comment.objects.exists()


def test_the_outage_page_sends_the_text_again_once_the_database_is_back(user, third, outage):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    reading = client.get(third.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', reading).group(1)
    sent = {"csrfmiddlewaretoken": token, "body": WRITTEN, "quote": "Third"}
    with outage():
        response = client.post(post_url(third), sent)
    assert_briefly_unavailable(response)

    form = PageForm(response.content.decode())
    assert form.action == post_url(third)
    assert form.fields["body"] == WRITTEN and form.fields["quote"] == "Third"
    response = client.post(form.action, form.fields)  # the reader presses "Send again"
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response.url == f"{third.get_absolute_url()}#c-{comment.pk}"
    assert (comment.body, comment.quote, comment.author) == (WRITTEN, "Third", user)


def test_an_essays_source_sent_during_an_outage_is_kept_with_the_button_pressed(
    reader_client, third, outage
):
    sent = {"source": "---\ntitle: <Revised>\n---\n\nFirst.", "preview": "1"}
    with outage():
        response = reader_client.post(f"/essays/{third.essay.slug}/publish/", sent)
    assert_briefly_unavailable(response)
    form = PageForm(response.content.decode())
    assert form.action == f"/essays/{third.essay.slug}/publish/"
    assert form.fields.pop("csrfmiddlewaretoken") and form.fields == sent


def test_a_password_sent_during_an_outage_is_not_given_back(client, user, outage):
    with outage():
        response = client.post("/accounts/login/", {"login": user.email, "password": "s3cret-1"})
    assert_briefly_unavailable(response)
    page = response.content.decode()
    assert "s3cret-1" not in page and "<form" not in page
    assert "go back, and send the form again" in page


def test_with_htmx_the_outage_is_the_message_for_the_forms_refusals(reader_client, third, outage):
    """htmx keeps the form and the reader's text on the page: the answer is only the
    message, shaped as a refusal is, which the page's script shows in the form's place for
    refusals (browser tests)."""
    with outage():
        response = reader_client.post(post_url(third), {"body": WRITTEN}, **HTMX)
    assert_briefly_unavailable(response)
    assert response.content.decode().strip() == (
        '<p class="form-errors" role="alert">The site is briefly unavailable. '
        "Try again in a moment: your text is kept.</p>"
    )
    assert "HX-Retarget" not in response  # the thread, form and all, stays as it is
    assert not Comment.objects.exists()

    response = reader_client.post(post_url(third), {"body": WRITTEN}, **HTMX)
    assert response.status_code == 200 and Comment.objects.get().body == WRITTEN


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_page_read_during_an_outage_is_a_503_page_and_the_cause_is_logged(
    reader_client, third, outage, caplog, error
):
    address = f"{third.essay.get_absolute_url()}?order=newest"
    with outage(error), caplog.at_level(logging.ERROR, logger="forum.middleware"):
        response = reader_client.get(address)
    assert_briefly_unavailable(response)
    page = response.content.decode()
    assert f'<a href="{address}">Try again</a>' in page and "<textarea" not in page
    [logged] = [record for record in caplog.records if record.name == "forum.middleware"]
    assert isinstance(logged.exc_info[1], error)


def test_a_panel_opened_during_an_outage_gets_the_message(reader_client, third, outage):
    with outage():
        response = reader_client.get(f"/essays/{third.essay.slug}/p/{third.key}/thread/", **HTMX)
    assert_briefly_unavailable(response)
    assert "your text is kept" not in response.content.decode()


def test_an_outage_met_outside_a_view_is_a_503_too(reader_client, outage):
    """A missing page's 404 asks for the reader (the page's header) and meets the outage in
    Django's error handling, not in a view: handler500 answers it."""
    reader_client.raise_request_exception = False
    with outage():
        response = reader_client.get("/no-such-page/")
    assert_briefly_unavailable(response)
    assert "The site is briefly unavailable" in response.content.decode()


@pytest.mark.parametrize("error", [IntegrityError, ProgrammingError])
def test_a_database_error_that_is_not_an_outage_stays_a_500(reader_client, third, outage, error):
    reader_client.raise_request_exception = False
    with outage(error):
        response = reader_client.post(post_url(third), {"body": WRITTEN})
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong" in response.content.decode()


def test_try_again_never_leads_to_another_site():
    from django.test import RequestFactory

    from forum.middleware import database_unavailable_response

    request = RequestFactory().get("/")
    request.path = "//elsewhere.example/x"  # as a request for that path arrives
    content = database_unavailable_response(request).content.decode()
    assert 'href="//elsewhere' not in content
    assert 'href="/elsewhere.example/x"' in content
