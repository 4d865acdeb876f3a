"""Where features meet: a revision, a moderation decision or a deletion puts a comment in a
state another page must expect. Each test here failed on the code before it was written."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from essays.services import essay_import
from forum.discussion import services
from forum.discussion.models import Comment
from forum.moderation import services as moderation
from forum.moderation.models import ReasonCode
from forum.moderation.services import moderators_group
from tests.conftest import essay_source, make_user

ESSAY = ("Alpha paragraph with several words in it.", "Beta paragraph stays.", "Gamma goes.")


@pytest.fixture
def essay(make_essay):
    return make_essay(*ESSAY)


@pytest.fixture
def moderator(db):
    user = make_user("mod@example.org", "Mo Derator")
    user.groups.add(moderators_group())
    return user


def csrf_client(user=None) -> tuple[Client, str]:
    """A client that enforces CSRF, with a token taken from a page as an attacker would."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get("/accounts/settings/" if user else "/accounts/login/")
    return client, client.cookies["csrftoken"].value


def comment_in_every_hidden_state(essay, author, other, moderator, settings):
    """One comment in each state whose text readers must not see, each with its own marker."""
    settings.MODERATION_HIDE_THRESHOLD = 1
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    made = {}
    for state in ("removed", "deleted", "hidden"):
        made[state] = services.comment_post(author=author, essay=essay, body=f"SECRET-{state}")
    moderation.comment_remove(actor=moderator, comment=made["removed"], reason_code="spam")
    services.comment_delete(comment=made["deleted"], actor=author)
    moderation.flag_create(reporter=other, comment=made["hidden"], reason=ReasonCode.SPAM)
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 5
    made["pending"] = services.comment_post(author=author, essay=essay, body="SECRET-pending")
    for state, comment in made.items():
        comment.refresh_from_db()
        assert comment.status == state
    return made


def test_no_method_on_the_reply_url_shows_a_hidden_parents_text(
    essay, user, other_user, moderator, settings
):
    made = comment_in_every_hidden_state(essay, user, other_user, moderator, settings)
    client, token = csrf_client()
    for state, comment in made.items():
        url = f"/comments/{comment.pk}/reply/"
        assert client.get(url).status_code == 404, state
        for extra in ({"preview": "1"}, {}, {"body": ""}):
            response = client.post(url, {"body": "Mine.", "csrfmiddlewaretoken": token, **extra})
            assert f"SECRET-{state}" not in response.content.decode(), (state, extra)
            assert response.status_code in (403, 409, 400), (state, extra)
    # The reader's own text survives the refusal.
    reader, token = csrf_client(other_user)
    response = reader.post(
        f"/comments/{made['removed'].pk}/reply/",
        {"body": "My careful reply.", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 409
    assert "My careful reply." in response.content.decode()
    assert Comment.objects.filter(body="My careful reply.").count() == 0


def test_signed_in_readers_see_an_essay_whose_thread_a_revision_orphaned(essay, user):
    gamma = essay.paragraphs.get(position=2)
    services.comment_post(author=user, essay=essay, body="About gamma.", paragraph=gamma)
    essay_import(source=essay_source(*ESSAY[:2]))
    client = Client()
    client.force_login(user)
    response = client.get(essay.get_absolute_url())
    assert response.status_code == 200
    assert "About gamma." in response.content.decode()


def test_every_comment_on_a_retired_paragraph_has_a_working_permalink(essay, user, other_user):
    gamma = essay.paragraphs.get(position=2)
    root = services.comment_post(author=user, essay=essay, body="About gamma.", paragraph=gamma)
    essay_import(source=essay_source(*ESSAY[:2]))
    client = Client()
    client.force_login(other_user)
    # Replying in the orphaned thread lands on a page that shows it in context.
    response = client.post(f"/comments/{root.pk}/reply/", {"body": "Still relevant."})
    reply = Comment.objects.get(body="Still relevant.")
    assert response.status_code == 302
    assert response.url == reply.get_absolute_url() == f"/comments/{reply.pk}/"
    page = client.get(response.url)
    content = page.content.decode()
    assert page.status_code == 200
    assert "Gamma goes." in content  # the retired paragraph's text
    assert "revision 1" in content  # the revision it was written on
    assert "About gamma." in content and "Still relevant." in content  # its thread
    assert f'id="c-{reply.pk}"' in content
    # A comment on a live paragraph is sent to its place.
    beta = essay.paragraphs.get(position=1)
    placed = services.comment_post(author=user, essay=essay, body="Beta!", paragraph=beta)
    response = client.get(f"/comments/{placed.pk}/")
    assert response.status_code == 302 and response.url.endswith(f"#c-{placed.pk}")


def test_a_held_comment_is_announced_as_held_with_its_reason(essay, user, settings, moderator):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 1
    client = Client()
    client.force_login(user)
    htmx = client.post(
        f"/essays/{essay.slug}/comment/", {"body": "First words."}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Your comment is published." not in htmx
    assert "waits for a moderator’s review because a new account" in htmx
    plain = client.post(f"/essays/{essay.slug}/comment/", {"body": "Second words."}, follow=True)
    assert "waits for a moderator’s review" in plain.content.decode()


def test_a_published_comment_is_announced_as_published(essay, user):
    client = Client()
    client.force_login(user)
    response = client.post(f"/essays/{essay.slug}/comment/", {"body": "Hello."}, follow=True)
    assert "Your comment is published." in response.content.decode()


@pytest.mark.parametrize("path", ["essay", "paragraph", "reply", "edit", "preview"])
def test_every_preview_path_shares_one_limit(essay, user, settings, path):
    settings.PREVIEW_RATE_LIMITS = [(3, 60)]
    comment = services.comment_post(author=user, essay=essay, body="To reply to.")
    paragraph = essay.paragraphs.get(position=0)
    urls = {
        "essay": f"/essays/{essay.slug}/comment/",
        "paragraph": f"/essays/{essay.slug}/p/{paragraph.key}/comment/",
        "reply": f"/comments/{comment.pk}/reply/",
        "edit": f"/comments/{comment.pk}/edit/",
        "preview": "/comments/preview/",
    }
    client = Client()
    if path == "edit":
        client.force_login(user)
    statuses = [
        client.post(urls[path], {"body": "Draft.", "preview": "1"}).status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_a_reader_without_permission_is_told_why_not_sent_to_log_in_again(essay, user):
    client = Client()
    client.force_login(user)
    url = f"/essays/{essay.slug}/publish/"
    response = client.get(url)
    assert response.status_code == 403
    assert "Only the site’s editors" in response.content.decode()
    user.user_permissions.add(Permission.objects.get(codename="change_essay"))
    client.force_login(user)
    assert client.get(url).status_code == 200


def test_the_same_post_twice_is_stored_once_and_answered_with_the_first(essay, user):
    client = Client()
    client.force_login(user)
    url = f"/essays/{essay.slug}/comment/"
    first = client.post(url, {"body": "Once only."})
    second = client.post(url, {"body": "Once only."})
    assert Comment.objects.filter(body="Once only.").count() == 1
    assert first.status_code == second.status_code == 302 and first.url == second.url
    # The same text elsewhere, or a different text, is a new comment.
    paragraph = essay.paragraphs.get(position=0)
    client.post(f"/essays/{essay.slug}/p/{paragraph.key}/comment/", {"body": "Once only."})
    client.post(url, {"body": "Twice, differently."})
    assert Comment.objects.count() == 3


def test_the_same_text_after_the_window_is_a_new_comment(essay, user, settings):
    settings.DUPLICATE_POST_WINDOW = 0
    services.comment_post(author=user, essay=essay, body="Again.")
    services.comment_post(author=user, essay=essay, body="Again.")
    assert Comment.objects.filter(body="Again.").count() == 2


def test_an_edit_does_not_write_back_a_status_a_moderator_changed(essay, user, moderator):
    comment = services.comment_post(author=user, essay=essay, body="Fine words.")
    stale = Comment.objects.get(pk=comment.pk)  # what the author's edit page loaded
    moderation.comment_remove(actor=moderator, comment=comment, reason_code="abuse")
    with pytest.raises(services.Refused) as refusal:
        services.comment_edit(comment=stale, editor=user, body="Edited words.")
    assert refusal.value.status == 409
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED and comment.body == "Fine words."


def test_a_reply_in_an_orphaned_thread_with_htmx_goes_to_the_threads_page(essay, user):
    gamma = essay.paragraphs.get(position=2)
    root = services.comment_post(author=user, essay=essay, body="About gamma.", paragraph=gamma)
    essay_import(source=essay_source(*ESSAY[:2]))
    client = Client()
    client.force_login(user)
    response = client.post(
        f"/comments/{root.pk}/reply/", {"body": "Late reply."}, HTTP_HX_REQUEST="true"
    )
    reply = Comment.objects.get(body="Late reply.")
    assert response.status_code == 204 and response["HX-Redirect"] == f"/comments/{reply.pk}/"
    # The reply answers the same text as its thread, from the same revision.
    assert (reply.anchor_status, reply.anchor_revision) == ("orphaned", 1)
    assert "Late reply." in client.get(response["HX-Redirect"]).content.decode()


def test_an_edit_held_for_review_says_why(essay, user, moderator):
    from forum.moderation.models import WordRule

    comment = services.comment_post(author=user, essay=essay, body="A fair point.")
    WordRule.objects.create(word="scam", kind=WordRule.Kind.WATCHED)
    client = Client()
    client.force_login(user)
    response = client.post(
        f"/comments/{comment.pk}/edit/", {"body": "A fair point, or a scam."}, follow=True
    )
    assert "because it uses a word the moderators review" in response.content.decode()


@pytest.mark.parametrize(
    "body", ["\u200b", "&#8203;", "\u2800", "\u3164", "[\u200b](https://e.example)"]
)
def test_a_comment_that_shows_nothing_is_refused(essay, user, body):
    with pytest.raises(services.Refused, match="no text to show"):
        services.comment_post(author=user, essay=essay, body=body)


def test_a_source_whose_slug_is_not_an_address_is_refused_with_400(essay, user):
    user.user_permissions.add(Permission.objects.get(codename="change_essay"))
    client = Client()
    client.force_login(user)
    source = essay.source.replace(f"slug: {essay.slug}", 'slug: "../../x"')
    response = client.post(f"/essays/{essay.slug}/publish/", {"source": source})
    assert response.status_code == 400
    assert "The slug may hold only" in response.content.decode()
