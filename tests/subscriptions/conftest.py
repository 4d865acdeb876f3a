import io

import pytest
from django.core.management import call_command

from tests.conftest import make_user
from tests.conftest import post as post_comment


@pytest.fixture
def essay(make_essay):
    return make_essay("First.", "Second.", "Third.", "Fourth.", "Fifth.")


@pytest.fixture
def fifth(essay):
    return essay.paragraphs.get(position=4)


@pytest.fixture
def alice(db):
    return make_user("alice@example.org", "Alice")


@pytest.fixture
def bob(db):
    return make_user("bob@example.org", "Bob")


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """Post as a reader would, running what happens after commit (the task is queued)."""

    def post_and_commit(author, essay, body="A comment.", **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post_comment(author, essay, body, **kwargs)

    return post_and_commit


@pytest.fixture(autouse=True)
def no_email_window(settings):
    settings.NOTIFICATION_EMAIL_WINDOW = 0


@pytest.fixture
def run_tasks(transactional_db):
    """Run the queued background tasks with the real worker, as `worker --batch` does.

    The worker closes database connections between tasks, as it should in production: the
    test's data must therefore be committed, not held in a test transaction."""

    def run():
        out = io.StringIO()
        call_command(
            "worker", "--batch", "--no-startup-delay", "--interval", "0", stdout=out, stderr=out
        )
        return out.getvalue()

    return run
