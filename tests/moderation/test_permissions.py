"""Who may reach each moderation endpoint, and that nothing else changes moderation state."""

import pytest
from django.test import Client

from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation import services
from forum.moderation.models import Decision, Flag, Restriction

ROLES = ["anonymous", "unverified", "reader", "author", "suspended", "staff", "moderator"]


@pytest.fixture
def world(veteran, user, unverified_user, suspended, staff, moderator, essay):
    comment = discussion.comment_post(author=veteran, essay=essay, body="Under review.")
    removed = discussion.comment_post(author=veteran, essay=essay, body="Removed one.")
    services.comment_remove(actor=moderator, comment=removed, reason_code="spam")
    decision = Decision.objects.get(comment=removed)
    return {
        "comment": comment,
        "removed": removed,
        "decision": decision,
        "essay": essay,
        "users": {
            "anonymous": None,
            "unverified": unverified_user,
            "reader": user,
            "author": veteran,
            "suspended": suspended,
            "staff": staff,
            "moderator": moderator,
        },
    }


def endpoints(world):
    c, essay, author = world["comment"], world["essay"], world["users"]["author"]
    return {
        "get": [
            "/moderation/",
            "/moderation/?queue=pending",
            "/moderation/?queue=decided",
            f"/moderation/comments/{c.pk}/",
            f"/moderation/authors/{author.pk}/",
            "/moderation/log/",
        ],
        "post": [
            # First: a later decision on the removed comment (the restore) would block the undo.
            (f"/moderation/log/{world['decision'].pk}/undo/", {}),
            ("/moderation/bulk/", {"comments": [c.pk], "action": "remove", "reason_code": "spam"}),
            (f"/moderation/comments/{c.pk}/approve/", {}),
            (f"/moderation/comments/{c.pk}/remove/", {"reason_code": "spam"}),
            (f"/moderation/comments/{world['removed'].pk}/remove/", {"reason_code": "spam"}),
            (f"/moderation/comments/{world['removed'].pk}/restore/", {}),
            (f"/moderation/comments/{c.pk}/lock/", {}),
            (f"/moderation/essays/{essay.pk}/close/", {}),
            (
                f"/moderation/authors/{author.pk}/restrict/",
                {"kind": "suspension", "length": "1d", "reason": "x"},
            ),
            (f"/moderation/authors/{author.pk}/lift/suspension/", {}),
            (
                f"/moderation/comments/{c.pk}/reattach/",
                {"paragraph": essay.paragraphs.get(position=0).pk},
            ),
        ],
    }


def state():
    return (
        sorted(
            Comment.objects.values_list("pk", "status", "removal_reason", "locked_at", "paragraph")
        ),
        Decision.objects.count(),
        sorted(Restriction.objects.values_list("pk", "lifted_at")),
        sorted(Flag.objects.values_list("pk", "resolved_at")),
        list(Comment.objects.values_list("essay__comments_open", flat=True).distinct()),
    )


def client_for(user, **kwargs):
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", [r for r in ROLES if r != "moderator"])
def test_no_one_but_a_moderator_reaches_the_moderation_pages_or_changes_anything(world, role):
    client = client_for(world["users"][role])
    before = state()
    for url in endpoints(world)["get"]:
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
        else:
            assert response.status_code == 403, (role, url)
    for url, data in endpoints(world)["post"]:
        response = client.post(url, data)
        expected = 302 if role == "anonymous" else 403
        assert response.status_code == expected, (role, url)
        if role == "anonymous":
            assert response.url.startswith("/accounts/login/")
    assert state() == before


def test_a_moderator_reaches_every_page_and_every_action_works(world):
    client = client_for(world["users"]["moderator"])
    for url in endpoints(world)["get"]:
        assert client.get(url).status_code == 200, url
    for url, data in endpoints(world)["post"]:
        before = Decision.objects.count()
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert Decision.objects.count() == before + 1, url


def test_every_unsafe_moderation_request_needs_a_csrf_token(world):
    client = client_for(world["users"]["moderator"], enforce_csrf_checks=True)
    before = state()
    for url, data in endpoints(world)["post"]:
        assert client.post(url, data).status_code == 403, url
    report = f"/comments/{world['comment'].pk}/report/"
    assert client.post(report, {"reason": "spam"}).status_code == 403
    assert state() == before


@pytest.mark.parametrize(
    "role, status",
    [
        ("anonymous", 302),
        ("unverified", 403),
        ("reader", 302),
        ("author", 403),
        ("suspended", 403),
        ("staff", 302),
        ("moderator", 302),
    ],
)
def test_who_may_report_a_comment(world, role, status):
    client = client_for(world["users"][role])
    url = f"/comments/{world['comment'].pk}/report/"
    response = client.post(url, {"reason": "spam"})
    assert response.status_code == status
    reported = Flag.objects.filter(comment=world["comment"]).exists()
    assert reported == (status == 302 and role != "anonymous")
    if role == "anonymous":
        assert response.url.startswith("/accounts/login/")


def test_the_reporter_is_thanked_and_the_author_not_told_who(world, client):
    reader = world["users"]["reader"]
    client.force_login(reader)
    response = client.post(
        f"/comments/{world['comment'].pk}/report/",
        {"reason": "other", "note": "Looks like an ad"},
        follow=True,
    )
    assert "your report was received" in response.content.decode()
    client.force_login(world["users"]["author"])
    for url in ["/moderation/notices/", world["comment"].get_absolute_url().split("#")[0]]:
        content = client.get(url).content.decode()
        assert reader.display_name not in content and reader.email not in content


def test_every_member_sees_their_own_notices_only(world, client):
    client.force_login(world["users"]["author"])
    content = client.get("/moderation/notices/").content.decode()
    assert "removed" in content and "Spam" in content
    client.force_login(world["users"]["reader"])
    assert "Spam" not in client.get("/moderation/notices/").content.decode()
    anonymous = Client().get("/moderation/notices/")
    assert anonymous.status_code == 302
