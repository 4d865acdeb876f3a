import io
import os
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from essays.models import Essay
from tests.conftest import SEED_SLUG

# Django's live_server runs beside Playwright's sync API, which holds an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's chromium, never a downloaded browser; no background traffic off this machine.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(autouse=True)
def database_outlives_the_pages(transactional_db):
    """Set up first, torn down last: every page and context is closed before the test
    database is flushed, so no request of theirs holds a lock the flush waits for.

    Closing a page does not stop a request the live server is still answering for it: on
    PostgreSQL, wait until no other session of the test database is busy (the flush's
    TRUNCATE and such a request deadlocked once)."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


@pytest.fixture
def log_in(browser, live_server):
    """Open a browser context of its own for a member, logged in through the real form."""
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    contexts = []

    def log_in(user):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Email:").fill(user.email)
        page.get_by_label("Password:").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        expect(page.get_by_role("link", name=user.display_name)).to_be_visible()
        return page

    yield log_in
    for context in contexts:
        context.close()


@pytest.fixture
def live_essay(transactional_db, live_server) -> Essay:
    call_command("load_seed", stdout=io.StringIO())
    return Essay.objects.get(slug=SEED_SLUG)


_axe = Axe()


def assert_accessible(page):
    """axe finds no serious or critical violation on the page as it is now.

    axe needs JavaScript: a page of a context without it is checked by loading the same
    address, with the same cookies, in a context with it (our GETs change nothing).
    """
    if not getattr(page, "javascript", True):
        browser = page.context.browser
        context = browser.new_context(storage_state=page.context.storage_state())
        try:
            twin = context.new_page()
            twin.goto(page.url)
            assert_accessible(twin)
        finally:
            context.close()
        return
    results = _axe.run(page)
    blocking = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"at {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
    assert not blocking, "\n".join(blocking)
