"""The trust ladder: new accounts start with tighter limits (first comments reviewed, links
before review, comments an hour, replies to strangers), which relax after published comments
and days without a removal, and tighten again after a removal. Moderators see the level on
the card and can set it; a level set by hand holds until changed."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from forum.discussion.models import Comment
from forum.moderation import policy, rules, services
from forum.moderation.models import Decision, ManualLevel, TrustLevel
from forum.moderation.rules import HoldReason
from forum.moderation.undo import decision_undo
from forum.refusals import Refused
from tests.conftest import add_comment, make_user, post


@pytest.fixture(autouse=True)
def ladder(settings):
    """The ladder's defaults, written out so that these tests say what they rely on."""
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]
    settings.MODERATION_LINK_LIMIT = 3
    settings.MODERATION_NEW_LINK_LIMIT = 1
    settings.MODERATION_NEW_COMMENTS_PER_HOUR = 10
    settings.MODERATION_NEW_STRANGER_REPLIES_PER_HOUR = 3
    settings.MODERATION_MEMBER_AFTER_COMMENTS = 3
    settings.MODERATION_MEMBER_AFTER_DAYS = 2
    settings.MODERATION_TRUSTED_AFTER_COMMENTS = 20
    settings.MODERATION_TRUSTED_AFTER_DAYS = 30
    settings.MODERATION_TRUSTED_LINK_LIMIT = 10


def joined_days_ago(user, days):
    user.date_joined = timezone.now() - timedelta(days=days)
    user.save(update_fields=["date_joined"])
    return user


def published(essay, author, count):
    for n in range(count):
        add_comment(essay, author=author, body=f"Published nº {n}.")


@pytest.fixture
def newcomer(db):
    return make_user("newcomer@example.org", "New Comer")


@pytest.fixture
def member(db, essay):
    """Past the first rung: three published comments, a week old, no removal."""
    user = joined_days_ago(make_user("member@example.org", "Mem Ber"), 7)
    published(essay, user, 3)
    return user


def level_of(user) -> int:
    return policy.author_standing(user).level


# The ladder itself (pure) -----------------------------------------------------------------


def test_the_ladder_climbs_only_when_comments_and_days_are_both_reached():
    ladder = [
        rules.Rung(rules.NEW, 0, 0, links=1),
        rules.Rung(rules.MEMBER, 3, 2, links=3),
        rules.Rung(rules.TRUSTED, 20, 30, links=10),
    ]

    def level(count, days):
        return rules.trust_level(published_count=count, days_without_removal=days, ladder=ladder)

    assert level(0, 0) == rules.NEW
    assert level(3, 1.9) == rules.NEW  # enough comments, too soon
    assert level(2, 100) == rules.NEW  # long enough, too few comments
    assert level(3, 2) == rules.MEMBER
    assert level(100, 29) == rules.MEMBER
    assert level(20, 30) == rules.TRUSTED


def test_an_account_climbs_with_published_comments_and_days(essay, newcomer):
    assert level_of(newcomer) == TrustLevel.NEW
    published(essay, newcomer, 3)
    assert level_of(newcomer) == TrustLevel.NEW  # a day old
    joined_days_ago(newcomer, 3)
    assert level_of(newcomer) == TrustLevel.MEMBER
    published(essay, newcomer, 17)
    joined_days_ago(newcomer, 31)
    assert level_of(newcomer) == TrustLevel.TRUSTED


def test_the_first_comments_rule_is_the_first_rungs_and_keeps_the_account_there(
    settings, essay, newcomer
):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 5
    joined_days_ago(newcomer, 100)
    published(essay, newcomer, 4)
    # Three published comments would make a member, but five are reviewed first.
    assert level_of(newcomer) == TrustLevel.NEW
    assert post(newcomer, essay, "Fifth.").hold_reasons == [HoldReason.NEW_ACCOUNT]


# What the first rung may not do ----------------------------------------------------------


def test_a_new_account_may_post_fewer_links_before_review_than_a_member(
    settings, essay, newcomer, member
):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    body = "See https://a.example and https://b.example."
    held = post(newcomer, essay, body)
    assert held.status == Comment.Status.PENDING
    assert held.hold_reasons == [HoldReason.TOO_MANY_LINKS_FOR_LEVEL]
    assert post(member, essay, body).status == Comment.Status.PUBLISHED


def test_the_author_is_told_why_a_post_is_held_naming_the_level(client, essay, newcomer, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    client.force_login(newcomer)
    response = client.post(
        f"/essays/{essay.slug}/comment/",
        {"body": "See https://a.example and https://b.example."},
        follow=True,
    )
    assert "more links than a new account may post without review" in response.content.decode()


def test_a_new_account_is_refused_past_its_comments_an_hour_with_the_limit_named(
    client, settings, essay, newcomer, member
):
    settings.MODERATION_NEW_COMMENTS_PER_HOUR = 2
    post(newcomer, essay, "One.")
    post(newcomer, essay, "Two.")
    with pytest.raises(Refused) as refused:
        post(newcomer, essay, "Three.")
    assert refused.value.status == 429
    assert "(New) the site allows 2 comments an hour" in refused.value.message
    # Through the form: the status, the reason and the text kept.
    client.force_login(newcomer)
    response = client.post(f"/essays/{essay.slug}/comment/", {"body": "My kept words."})
    assert response.status_code == 429
    page = response.content.decode()
    assert "2 comments an hour" in page and "My kept words." in page
    assert int(response["Retry-After"]) > 0
    # A member is not held to it.
    for n in range(3):
        assert post(member, essay, f"Member nº {n}.").status == Comment.Status.PUBLISHED


def test_a_new_account_replies_to_few_strangers_an_hour(
    settings, essay, newcomer, other_user, user
):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    settings.MODERATION_NEW_STRANGER_REPLIES_PER_HOUR = 1
    stranger = post(other_user, essay, "A stranger's thought.")
    another = post(user, essay, "Another stranger's thought.")
    post(newcomer, essay, "Hello, stranger.", parent=stranger)
    with pytest.raises(Refused) as refused:
        post(newcomer, essay, "Hello, another stranger.", parent=another)
    assert refused.value.status == 429
    assert "1 replies an hour to members who have not replied to you" in refused.value.message
    # Their own thread, and someone who answered them, are no strangers.
    own = post(newcomer, essay, "My own thought.")
    post(newcomer, essay, "Adding to myself.", parent=own)
    answer = post(user, essay, "Welcome.", parent=own)
    assert post(newcomer, essay, "Thank you.", parent=answer).status == Comment.Status.PUBLISHED
    assert post(newcomer, essay, "And to your thought.", parent=another).pk


def test_nothing_of_the_ladder_applies_while_no_one_can_moderate(
    settings, essay, newcomer, moderator
):
    moderator.groups.clear()
    policy.forget_moderators()
    settings.MODERATION_NEW_COMMENTS_PER_HOUR = 1
    post(newcomer, essay, "One.")
    two = post(newcomer, essay, "Two, with https://a.example and https://b.example.")
    assert two.status == Comment.Status.PUBLISHED


# A removal ---------------------------------------------------------------------------------


def test_a_removal_puts_a_member_back_on_the_first_rung_until_it_is_undone(
    essay, member, moderator
):
    comment = post(member, essay, "Something regrettable.")
    assert level_of(member) == TrustLevel.MEMBER
    removal = services.comment_remove(actor=moderator, comment=comment, reason_code="abuse")
    assert level_of(member) == TrustLevel.NEW
    assert post(member, essay, "https://a.example https://b.example").hold_reasons == [
        HoldReason.TOO_MANY_LINKS_FOR_LEVEL
    ]
    decision_undo(actor=moderator, decision=removal)
    assert level_of(member) == TrustLevel.MEMBER


def test_a_restored_comment_no_longer_counts_against_its_author(essay, member, moderator):
    comment = post(member, essay, "Something misread.")
    services.comment_remove(actor=moderator, comment=comment, reason_code="spam")
    services.comment_restore(actor=moderator, comment=comment)
    assert level_of(member) == TrustLevel.MEMBER


def test_the_days_start_again_after_a_removal(essay, member, moderator):
    comment = post(member, essay, "Something regrettable.")
    services.comment_remove(actor=moderator, comment=comment, reason_code="abuse")
    Decision.objects.filter(action=Decision.Action.REMOVE).update(
        created=timezone.now() - timedelta(days=3)
    )
    assert level_of(member) == TrustLevel.MEMBER


# A moderator sets the level ------------------------------------------------------------------


def test_a_level_set_by_a_moderator_holds_until_changed_and_is_logged(
    essay, newcomer, member, moderator
):
    decision = services.author_level_set(
        actor=moderator, user=newcomer, level=str(TrustLevel.TRUSTED), reason="Known scholar"
    )
    assert decision.action == Decision.Action.LEVEL_SET and decision.subject_user == newcomer
    assert policy.author_standing(newcomer).manual
    assert level_of(newcomer) == TrustLevel.TRUSTED
    # It overrides the ladder's first rung: no first-comment review, the trusted links.
    body = "Sources: " + " ".join(f"https://s{n}.example" for n in range(5))
    assert post(newcomer, essay, body).status == Comment.Status.PUBLISHED
    # And down: a member set to New has a new account's limits until given back.
    services.author_level_set(actor=moderator, user=member, level=str(TrustLevel.NEW))
    assert level_of(member) == TrustLevel.NEW
    services.author_level_set(actor=moderator, user=member, level="auto")
    assert level_of(member) == TrustLevel.MEMBER
    assert not ManualLevel.objects.filter(user=member).exists()


def test_setting_a_level_is_undone_like_any_decision(newcomer, moderator):
    first = services.author_level_set(actor=moderator, user=newcomer, level="1")
    second = services.author_level_set(actor=moderator, user=newcomer, level="2")
    with pytest.raises(Refused, match="set the trust level"):
        decision_undo(actor=moderator, decision=first)  # a later one stands
    decision_undo(actor=moderator, decision=second)
    assert level_of(newcomer) == TrustLevel.MEMBER
    decision_undo(actor=moderator, decision=first)
    assert not policy.author_standing(newcomer).manual


@pytest.mark.parametrize(
    ("level", "status", "message"),
    [
        ("7", 400, "Choose a trust level"),
        ("", 400, "Choose a trust level"),
        ("auto", 409, "already"),
    ],
)
def test_a_level_that_is_no_change_or_no_level_is_refused(
    newcomer, moderator, level, status, message
):
    with pytest.raises(Refused, match=message) as refused:
        services.author_level_set(actor=moderator, user=newcomer, level=level)
    assert refused.value.status == status
    assert not Decision.objects.filter(action=Decision.Action.LEVEL_SET).exists()


def test_only_moderators_set_levels_and_never_their_own_or_a_fellow_moderators(
    newcomer, member, moderator
):
    for actor, user in [(member, newcomer), (moderator, moderator)]:
        with pytest.raises(Refused) as refused:
            services.author_level_set(actor=actor, user=user, level="2")
        assert refused.value.status == 403
    fellow = make_user("fellow@example.org", "Fel Low")
    fellow.groups.add(services.moderators_group())
    with pytest.raises(Refused, match="Only the site owner"):
        services.author_level_set(actor=moderator, user=fellow, level="0")
    assert not ManualLevel.objects.exists()


def test_the_level_form_sets_it_with_csrf_and_says_why_when_refused(newcomer, moderator):
    url = f"/moderation/authors/{newcomer.pk}/level/"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(moderator)
    assert strict.post(url, {"level": "2"}).status_code == 403
    assert not ManualLevel.objects.exists()
    client = Client()
    client.force_login(moderator)
    bad = client.post(url, {"level": "nine"})
    assert bad.status_code == 400 and "Choose a trust level" in bad.content.decode()
    assert client.post(url, {"level": "2"}).status_code == 302
    assert ManualLevel.objects.get(user=newcomer).level == TrustLevel.TRUSTED
    page = client.get(f"/moderation/authors/{newcomer.pk}/").content.decode()
    assert "Trusted" in page and "(set by a moderator)" in page
    assert "set the trust level" in client.get("/moderation/log/").content.decode()


def test_the_card_shows_the_authors_level(client, essay, newcomer, moderator, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    post(newcomer, essay, "My first comment, held.")
    client.force_login(moderator)
    page = client.get("/moderation/?queue=pending").content.decode()
    assert 'Trust level: <strong class="badge">New</strong> (from the ladder)' in page
    assert f'action="/moderation/authors/{newcomer.pk}/level/"' in page
