import io
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.core.management import call_command

from essays.models import Essay
from essays.services import essay_import
from forum.discussion.markup import normalize_body, render_comment
from forum.discussion.models import Comment

PROJECT = Path(__file__).resolve().parent.parent
# Test data lives in the repository (tests/data/README.md says where it came from).
TEST_DATA = PROJECT / "tests" / "data"
SEED_TEXT = TEST_DATA / "stalinism-the-inner-truth-of-bolshevism.txt"
SEED_SOURCE = PROJECT / "essays" / "content" / "stalinism-the-inner-truth-of-bolshevism.md"
SEED_SLUG = "stalinism-the-inner-truth-of-bolshevism"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def publish_first_comments(settings):
    """Most tests are about discussing, not moderating: new accounts post straight away.
    Moderation tests set MODERATION_FIRST_COMMENTS_REVIEWED back to the default, 1."""
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seeded_essay(db) -> Essay:
    """The seed essay and its two responses, loaded as `make run` loads them."""
    call_command("load_seed", stdout=io.StringIO())
    return Essay.objects.get(slug=SEED_SLUG)


def essay_source(*blocks: str, slug: str = "test-essay", title: str = "A test essay") -> str:
    front = f"---\ntitle: {title}\nslug: {slug}\nattribution: T.E.\n---\n\n"
    return front + "\n\n".join(blocks) + "\n"


@pytest.fixture
def make_essay(db):
    def make(*blocks: str, slug: str = "test-essay") -> Essay:
        return essay_import(source=essay_source(*blocks, slug=slug)).essay

    return make


PASSWORD = "a-long-test-password"


def make_user(email, display_name, *, verified=True):
    from forum.accounts.models import User

    user = User.objects.create_user(email=email, password=PASSWORD, display_name=display_name)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    return user


@pytest.fixture
def user(db):
    """A reader with a confirmed email address."""
    return make_user("reader@example.org", "Rea Der")


@pytest.fixture
def other_user(db):
    return make_user("other@example.org", "Otto Ther")


@pytest.fixture
def unverified_user(db):
    return make_user("new@example.org", "New Comer", verified=False)


@pytest.fixture
def reader_client(client, user):
    client.force_login(user)
    return client


def post(author, essay, body="A thought.", **kwargs):
    """A comment written as a reader writes one: through the service."""
    from forum.discussion.services import comment_post

    return comment_post(author=author, essay=essay, body=body, **kwargs)


def add_comment(essay, *, body="A comment.", paragraph=None, parent=None, author=None, **fields):
    """Store a comment in any state directly, for tests of the read path (many comments,
    states the rules would not let a reader reach at once). Threading and rendering are the
    write path's own (`Comment.place_in_thread`, `render_comment`); tests of writing go
    through the services (`post`)."""
    body = normalize_body(body)
    if parent is not None:
        paragraph = parent.paragraph
    comment = Comment(
        essay=essay,
        paragraph=paragraph,
        **Comment.place_in_thread(parent),
        author=author,
        author_name="" if author else "Someone",
        # As the service does: a reply answers its thread's text.
        anchor_text=parent.anchor_text if parent else paragraph.text if paragraph else "",
        body=body,
        body_html=render_comment(body),
        **fields,
    )
    comment.save()
    return comment
