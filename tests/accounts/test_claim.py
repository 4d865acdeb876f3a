"""Claiming imported comments: a member who has confirmed the address a comment was written
under may put it under their name."""

import io

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from essays.models import Essay
from forum.accounts.services import comment_claim
from forum.discussion.models import Comment
from forum.refusals import Refused
from tests.conftest import TEST_DATA, make_user, post

# Isso's WXR test file: "Tester" wrote five comments under info@posativ.org.
ISSO_WXR = TEST_DATA / "imports" / "isso-wordpress.xml"
TESTER_ADDRESS = "info@posativ.org"


@pytest.fixture
def essay(make_essay):
    essay = make_essay("A paragraph.", slug="test")
    call_command("import_comments", str(ISSO_WXR), "--essay", "test", stdout=io.StringIO())
    return essay


@pytest.fixture
def tester(db):
    # Written differently from the file, as people type their addresses.
    return make_user("Info@Posativ.org", "Tess Ter")


@pytest.fixture
def imported(essay) -> Comment:
    return Comment.objects.get(essay=essay, source_id="wxr:example.tld/18/6")


def version(essay) -> int:
    return Essay.objects.get(pk=essay.pk).discussion_version


def claim_url(comment) -> str:
    return reverse("accounts:claim", kwargs={"pk": comment.pk})


def test_the_claims_page_lists_the_comments_under_a_confirmed_address(client, tester, essay):
    client.force_login(tester)
    page = client.get(reverse("accounts:claims")).content.decode()
    assert page.count('action="/accounts/claims/') == 5  # comments 6, 7, 8, 9 and 11
    assert "Zweiter." in page
    assert "Erster!1" not in page  # written under test@example.org
    assert TESTER_ADDRESS not in page.lower()


def test_the_settings_page_leads_to_the_claims_page(client, tester):
    client.force_login(tester)
    page = client.get(reverse("accounts:settings")).content.decode()
    assert reverse("accounts:claims") in page


def test_claiming_puts_the_comment_under_the_members_name(client, tester, essay, imported):
    client.force_login(tester)
    before = version(essay)
    response = client.post(claim_url(imported))
    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.author == tester
    # The imported record stays: where it came from, and the name it was signed with.
    assert imported.imported and imported.author_name == "Tester"
    assert imported.source_id == "wxr:example.tld/18/6"
    assert imported.imported_email == TESTER_ADDRESS
    assert version(essay) > before
    page = client.get(essay.get_absolute_url()).content.decode()
    assert "Tess Ter" in page
    profile = client.get(reverse("accounts:profile", kwargs={"pk": tester.pk})).content.decode()
    assert "Zweiter." in profile
    # Claimed, it leaves the list of what is waiting.
    claims = client.get(reverse("accounts:claims")).content.decode()
    assert claims.count('action="/accounts/claims/') == 4


def test_claiming_twice_changes_nothing(client, tester, essay, imported):
    client.force_login(tester)
    client.post(claim_url(imported))
    before = version(essay)
    assert client.post(claim_url(imported)).status_code == 302
    imported.refresh_from_db()
    assert imported.author == tester
    assert version(essay) == before


def test_an_unconfirmed_address_is_refused(client, db, essay, imported):
    member = make_user("someone@example.org", "Some One")
    EmailAddress.objects.create(user=member, email=TESTER_ADDRESS, verified=False)
    client.force_login(member)
    assert client.post(claim_url(imported)).status_code == 403
    imported.refresh_from_db()
    assert imported.author is None
    page = client.get(reverse("accounts:claims")).content.decode()
    assert "Zweiter." not in page


def test_another_members_address_is_refused(client, user, essay, imported):
    client.force_login(user)  # reader@example.org, confirmed
    before = version(essay)
    assert client.post(claim_url(imported)).status_code == 403
    imported.refresh_from_db()
    assert imported.author is None
    assert version(essay) == before


def test_a_comment_claimed_by_another_is_refused(tester, essay, imported):
    comment_claim(user=tester, comment=imported)
    rival = make_user("rival@example.org", "Rival")
    EmailAddress.objects.create(user=rival, email="INFO@posativ.org", verified=True)
    with pytest.raises(Refused) as refused:
        comment_claim(user=rival, comment=imported)
    assert refused.value.status == 403
    imported.refresh_from_db()
    assert imported.author == tester


@pytest.mark.parametrize(
    "status", [Comment.Status.REMOVED, Comment.Status.HIDDEN, Comment.Status.DELETED]
)
def test_a_comment_not_shown_on_the_site_cannot_be_claimed(client, tester, essay, imported, status):
    """The list does not offer it; naming its id in a POST does not claim it either."""
    Comment.objects.filter(pk=imported.pk).update(status=status)
    client.force_login(tester)
    assert "Zweiter." not in client.get(reverse("accounts:claims")).content.decode()
    before = version(essay)
    response = client.post(claim_url(imported))
    assert response.status_code == 403
    assert "cannot be claimed" in response.content.decode()
    imported.refresh_from_db()
    assert imported.author is None and imported.status == status
    assert version(essay) == before


def test_a_comment_awaiting_review_can_be_claimed_and_stays_pending(tester, essay, imported):
    Comment.objects.filter(pk=imported.pk).update(status=Comment.Status.PENDING)
    comment_claim(user=tester, comment=imported)
    imported.refresh_from_db()
    assert imported.author == tester
    assert imported.status == Comment.Status.PENDING


def test_a_comment_written_here_cannot_be_claimed(client, user, tester, essay):
    own = post(user, essay, body="Written on this site.")
    client.force_login(tester)
    assert client.post(claim_url(own)).status_code == 403
    own.refresh_from_db()
    assert own.author == user


def test_the_seed_responses_have_no_address_and_cannot_be_claimed(tester, seeded_essay):
    response = Comment.objects.filter(essay=seeded_essay, imported=True).first()
    with pytest.raises(Refused):
        comment_claim(user=tester, comment=response)


def test_a_claim_needs_the_csrf_token(tester, essay, imported):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tester)
    assert client.post(claim_url(imported)).status_code == 403
    imported.refresh_from_db()
    assert imported.author is None


def test_anonymous_visitors_are_sent_to_log_in(client, essay, imported):
    for response in (client.get(reverse("accounts:claims")), client.post(claim_url(imported))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    imported.refresh_from_db()
    assert imported.author is None


def test_claiming_is_a_post_and_names_a_comment_that_exists(client, tester, imported):
    client.force_login(tester)
    assert client.get(claim_url(imported)).status_code == 405
    missing = reverse("accounts:claim", kwargs={"pk": 987_654})
    assert client.post(missing).status_code == 404


def test_a_comment_on_an_unpublished_essay_is_not_found(client, tester, essay, imported):
    Essay.objects.filter(pk=essay.pk).update(status=Essay.Status.DRAFT)
    client.force_login(tester)
    assert client.post(claim_url(imported)).status_code == 404
    assert "Zweiter." not in client.get(reverse("accounts:claims")).content.decode()


def test_the_claims_page_costs_the_same_for_more_comments_on_more_essays(
    client, tester, essay, make_essay
):
    client.force_login(tester)
    client.get(reverse("accounts:claims"))  # the account is read once, then kept in the cache
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("accounts:claims"))
    make_essay("Another paragraph.", slug="other")
    call_command(
        "import_comments",
        str(ISSO_WXR),
        *("--essay", "other", "--thread", "http://example.tld/?p=4"),
        stdout=io.StringIO(),
    )
    client.get(reverse("accounts:claims"))  # (the import may have changed their account)
    with CaptureQueriesContext(connection) as six:
        page = client.get(reverse("accounts:claims")).content.decode()
    assert page.count('action="/accounts/claims/') == 6
    assert len(six.captured_queries) == len(five.captured_queries)
