"""What production adds to every page: headers, the CSRF page, one client address."""

from django.test import Client, RequestFactory

from forum.accounts.adapter import AccountAdapter


def test_every_response_denies_browser_features_it_does_not_use(db):
    response = Client().get("/")
    assert "camera=()" in response["Permissions-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_stale_form_gets_the_sites_own_page_not_djangos(db):
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"login": "x"})
    content = response.content.decode()
    assert response.status_code == 403
    assert "That form has expired" in content and "<style" not in content


def test_allauths_limits_count_the_same_address_as_ours_behind_a_proxy(settings):
    """Behind a proxy every reader arrives from the proxy's address: allauth's lockout
    must count the reader's own, as our limits do, or all readers share one lockout."""
    settings.CLIENT_ADDRESS_FROM_FORWARDED_FOR = True
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9"
    )
    assert AccountAdapter(request).get_client_ip(request) == "203.0.113.9"
    settings.CLIENT_ADDRESS_FROM_FORWARDED_FOR = False
    assert AccountAdapter(request).get_client_ip(request) == "10.0.0.1"
