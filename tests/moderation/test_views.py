import io

import pytest
from django.core.management import CommandError, call_command

from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation import services
from forum.moderation.models import Decision
from forum.moderation.policy import is_moderator
from tests.conftest import make_user


def test_the_reported_queue_shows_context_reports_and_the_authors_history(
    client, veteran, user, moderator, essay, third
):
    parent = discussion.comment_post(author=user, essay=essay, body="Opening.", paragraph=third)
    services.comment_approve(actor=moderator, comment=parent)
    comment = discussion.comment_post(
        author=veteran, essay=essay, body="Snide remark.", parent=parent
    )
    services.flag_create(reporter=user, comment=comment, reason="abuse", note="Personal attack")
    client.force_login(moderator)
    content = client.get("/moderation/?queue=reported").content.decode()
    assert "Snide remark." in content
    assert "Third." in content  # the paragraph it is anchored to
    assert "In reply to Rea Der" in content and "Opening." in content
    assert "Harassment or abuse" in content and "Personal attack" in content
    assert "1 published · 0 held · 0 removed · 1 reported" in " ".join(content.split())


def test_bulk_approve_and_remove_from_the_pending_queue(client, moderator, essay):
    newcomers = [make_user(f"n{n}@example.org", f"New {n}") for n in range(3)]
    held = [
        discussion.comment_post(author=u, essay=essay, body=f"Hello {n}.")
        for n, u in enumerate(newcomers)
    ]
    client.force_login(moderator)
    client.post("/moderation/bulk/", {"comments": [held[0].pk, held[1].pk], "action": "approve"})
    client.post(
        "/moderation/bulk/", {"comments": [held[2].pk], "action": "remove", "reason_code": "spam"}
    )
    statuses = [Comment.objects.get(pk=c.pk).status for c in held]
    assert statuses == ["published", "published", "removed"]
    response = client.post(
        "/moderation/bulk/", {"comments": [held[0].pk], "action": "remove"}, follow=True
    )
    assert "Choose the public reason for the removal." in response.content.decode()
    assert Comment.objects.get(pk=held[0].pk).status == "published"


def test_the_log_filters_by_moderator_author_and_essay_and_undoes(
    client, veteran, moderator, essay, make_essay
):
    other_moderator = make_user("mod2@example.org", "Second Mod")
    other_moderator.groups.add(services.moderators_group())
    other_essay = make_essay("Elsewhere.", slug="elsewhere")
    first = discussion.comment_post(author=veteran, essay=essay, body="One.")
    second = discussion.comment_post(author=veteran, essay=other_essay, body="Two.")
    removal = services.comment_remove(
        actor=moderator, comment=first, reason_code="spam", reason="first-removal"
    )
    services.comment_remove(
        actor=other_moderator, comment=second, reason_code="hate", reason="second-removal"
    )
    client.force_login(moderator)
    by_moderator = client.get(f"/moderation/log/?moderator={moderator.pk}").content.decode()
    assert "first-removal" in by_moderator and "second-removal" not in by_moderator
    by_essay = client.get(f"/moderation/log/?essay={other_essay.pk}").content.decode()
    assert "second-removal" in by_essay and "first-removal" not in by_essay
    by_author = client.get("/moderation/log/?author=veteran@example.org").content.decode()
    assert "first-removal" in by_author and "second-removal" in by_author
    response = client.post(f"/moderation/log/{removal.pk}/undo/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response.url
    first.refresh_from_db()
    assert first.status == Comment.Status.PUBLISHED
    assert Decision.objects.filter(undoes=removal, actor=moderator).exists()


def test_the_moderator_command_adds_and_removes(db, user):
    out = io.StringIO()
    call_command("moderator", "add", user.email.upper(), stdout=out)
    user = type(user).objects.get(pk=user.pk)
    assert is_moderator(user) and not user.is_staff
    call_command("moderator", "remove", user.email, stdout=out)
    user = type(user).objects.get(pk=user.pk)
    assert not is_moderator(user)
    with pytest.raises(CommandError, match="No member"):
        call_command("moderator", "add", "nobody@example.org")


def test_moderators_comments_carry_a_badge_and_a_menu_for_moderators(
    client, moderator, user, essay, settings
):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    discussion.comment_post(author=moderator, essay=essay, body="Speaking as a moderator.")
    page = client.get(essay.get_absolute_url()).content.decode()
    assert '<span class="badge">Moderator</span>' in page and "mod-menu" not in page
    client.force_login(moderator)
    page = client.get(essay.get_absolute_url()).content.decode()
    assert 'class="mod-menu"' in page and "/moderation/comments/" in page


def test_the_reported_queue_holds_only_comments_with_open_reports(
    client, veteran, user, moderator, essay
):
    quiet = discussion.comment_post(author=veteran, essay=essay, body="Nobody minds this.")
    reported = discussion.comment_post(author=veteran, essay=essay, body="Somebody minds this.")
    services.flag_create(reporter=user, comment=reported, reason="spam")
    client.force_login(moderator)
    content = client.get("/moderation/?queue=reported").content.decode()
    assert "Somebody minds this." in content and "Nobody minds this." not in content
    assert "Reported (1)" in content
    services.comment_approve(actor=moderator, comment=reported)
    content = client.get("/moderation/?queue=reported").content.decode()
    assert "Somebody minds this." not in content and quiet.body not in content


def test_a_removal_names_its_reason_and_a_bad_form_says_what_is_wrong(
    client, veteran, moderator, essay, third
):
    comment = discussion.comment_post(author=veteran, essay=essay, body="Hm.", paragraph=third)
    reporter = make_user("reporter@example.org", "Re Porter")
    services.flag_create(reporter=reporter, comment=comment, reason="spam")
    client.force_login(moderator)
    queue = client.get("/moderation/?queue=all").content.decode()
    select = queue.split(f'id="card-code-{comment.pk}"')[1].split("</select>")[0]
    assert select.split("<option")[1].startswith(' value=""')  # nothing chosen for them
    url = f"/moderation/comments/{comment.pk}/remove/"
    response = client.post(url, {"reason_code": ""})
    assert response.status_code == 400
    assert "Choose the public reason for the removal." in response.content.decode()
    response = client.post(url, {"reason_code": "bogus"})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert "too long" not in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED


@pytest.mark.parametrize(
    "query", ["?since=notadate&action=remove", "?moderator=999999", "?action=nonsense"]
)
def test_a_log_filter_that_cannot_be_read_lists_nothing_and_says_so(
    client, veteran, moderator, essay, query
):
    comment = discussion.comment_post(author=veteran, essay=essay, body="Logged.")
    services.comment_remove(actor=moderator, comment=comment, reason_code="spam")
    client.force_login(moderator)
    assert f"/moderation/comments/{comment.pk}/" in client.get("/moderation/log/").content.decode()
    response = client.get(f"/moderation/log/{query}")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing is listed until the filters below are corrected." in page
    assert f"/moderation/comments/{comment.pk}/" not in page
