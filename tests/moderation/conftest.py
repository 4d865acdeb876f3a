from datetime import timedelta

import pytest

from forum.moderation.models import Restriction
from forum.moderation.services import moderators_group
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def review_first_comments(settings):
    """Moderation tests run with the site's defaults for new accounts."""
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    settings.MODERATION_HIDE_THRESHOLD = 3
    settings.MODERATION_LINK_LIMIT = 3


@pytest.fixture
def moderator(db):
    user = make_user("mod@example.org", "Mo Derator")
    user.groups.add(moderators_group())
    return user


@pytest.fixture(autouse=True)
def moderator_on_duty(moderator):
    """The site has a moderator (without one, nothing waits for review: see
    test_nothing_waits_while_no_one_can_moderate)."""
    return moderator


@pytest.fixture
def staff(db):
    user = make_user("staff@example.org", "Staff Member")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def suspended(db, moderator):
    user = make_user("suspended@example.org", "Sus Pended")
    Restriction.objects.create(
        user=user, kind=Restriction.Kind.SUSPENSION, reason="Spamming", created_by=moderator
    )
    return user


@pytest.fixture
def essay(make_essay):
    return make_essay("First.", "Second.", "Third.")


@pytest.fixture
def third(essay):
    return essay.paragraphs.get(position=2)


@pytest.fixture
def veteran(db, settings):
    """A reader whose comments publish straight away (past the new-account review), a
    member of a year's standing: the site's limits, not a new account's, apply."""
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    settings.MODERATION_MEMBER_AFTER_COMMENTS = 0
    user = make_user("veteran@example.org", "Vet Eran")
    user.date_joined -= timedelta(days=365)
    user.save(update_fields=["date_joined"])
    return user
