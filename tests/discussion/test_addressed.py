"""An essay's editor marks a thread "addressed in revision N": readers see which criticism
the author took up, wherever the thread is shown, linked to what that revision changed. The
editor can take the mark back. Everyone else is refused, and never sees the control."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from essays.models import EssayRevision
from essays.services import essay_import
from forum.discussion import services
from forum.discussion.links import revision_changes_url
from forum.discussion.models import Comment
from forum.moderation import services as moderation
from forum.refusals import Refused
from tests.conftest import essay_source, make_user, post

FIRST = "The first paragraph says one thing."
SECOND = "The second paragraph says another."
SECOND_REVISED = "The second paragraph, revised after its criticism."
MARK = "Addressed in revision"
CONTROL = "Mark addressed"


def make_editor(email="editor@example.org"):
    editor = make_user(email, "Ed Itor")
    editor.user_permissions.add(Permission.objects.get(codename="change_essay"))
    return editor


@pytest.fixture
def world(db):
    essay = essay_import(source=essay_source(FIRST, SECOND)).essay
    second = essay.paragraphs.get(text=SECOND)
    author = make_user("ada@example.org", "Ada")
    moderator = make_user("mod@example.org", "Moderator")
    moderator.groups.add(moderation.moderators_group())
    thread = post(author, essay, "This paragraph is unfair.", paragraph=second)
    reply = post(author, essay, "Still unfair.", parent=thread)
    on_essay = post(author, essay, "The whole essay is too long.")
    essay_import(source=essay_source(FIRST, SECOND_REVISED))  # revision 2
    return {
        "essay": essay,
        "second": second,
        "author": author,
        "moderator": moderator,
        "editor": make_editor(),
        "thread": thread,
        "reply": reply,
        "on_essay": on_essay,
    }


def addressed_url(comment) -> str:
    return reverse("discussion:thread_addressed", kwargs={"pk": comment.pk})


def client_for(user=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


def read(client, url, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


def places(world, client) -> dict[str, str]:
    """Every place a paragraph's thread is shown to this reader."""
    essay, second, thread = world["essay"], world["second"], world["thread"]
    return {
        "paragraph page": read(client, second.get_absolute_url()),
        "essay panel": read(
            client, f"/essays/{essay.slug}/p/{second.key}/thread/", HTTP_HX_REQUEST="true"
        ),
        "thread page": read(client, f"/comments/{thread.pk}/thread/"),
    }


# Marking --------------------------------------------------------------------------------


def test_the_editor_marks_a_thread_and_every_reader_sees_it_everywhere(world):
    response = client_for(world["editor"]).post(addressed_url(world["thread"]), {"revision": "2"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/comments/{world['thread'].pk}/thread/#addressed")
    thread = Comment.objects.get(pk=world["thread"].pk)
    assert thread.addressed_in == 2 and thread.addressed_at is not None
    link = revision_changes_url(
        slug=world["essay"].slug, number=2, paragraph_key=world["second"].key
    )
    assert link == f"/essays/{world['essay'].slug}/r/2/changes/#p-{world['second'].key}"
    # The link lands on the paragraph's entry.
    changes = client_for(None).get(link.split("#")[0]).content.decode()
    assert f'id="p-{world["second"].key}"' in changes
    member = make_user("member@example.org", "Member")
    for who, user in (("visitor", None), ("member", member), ("moderator", world["moderator"])):
        cache.clear()
        for place, html in places(world, client_for(user)).items():
            assert f"{MARK} 2" in html, (who, place)
            assert f'href="{link}"' in html, (who, place)


def test_the_threads_feed_entry_says_so(world):
    services.thread_mark_addressed(editor=world["editor"], comment=world["thread"], revision=2)
    feed = read(client_for(), f"/comments/{world['thread'].pk}/thread/feed/")
    link = revision_changes_url(
        slug=world["essay"].slug, number=2, paragraph_key=world["second"].key
    )
    assert f"{MARK} 2" in feed and f'{link}"&gt;' in feed  # absolute, escaped in Atom


def test_a_thread_on_the_whole_essay_links_to_the_revisions_changes(world):
    services.thread_mark_addressed(editor=world["editor"], comment=world["on_essay"], revision=2)
    page = read(client_for(), world["essay"].get_absolute_url())
    assert f"{MARK} 2" in page
    assert f'href="/essays/{world["essay"].slug}/r/2/changes/"' in page


def test_the_editor_takes_the_mark_back(world):
    services.thread_mark_addressed(editor=world["editor"], comment=world["thread"], revision=2)
    response = client_for(world["editor"]).post(addressed_url(world["thread"]), {"unmark": "1"})
    assert response.status_code == 302
    assert Comment.objects.get(pk=world["thread"].pk).addressed_in is None
    for place, html in places(world, client_for()).items():
        assert MARK not in html, place


def test_the_editor_may_choose_only_revisions_after_the_thread(world):
    html = read(client_for(world["editor"]), f"/comments/{world['thread'].pk}/thread/")
    assert '<option value="2"' in html and '<option value="1"' not in html
    later = post(world["author"], world["essay"], "Written on revision 2.")
    html = read(client_for(world["editor"]), f"/comments/{later.pk}/thread/")
    assert "No revision has been published since this thread was written." in html


# Refusals -------------------------------------------------------------------------------


def refused(world, user, comment, data, status, **client_options) -> str:
    before = list(Comment.objects.values_list("pk", "addressed_in", "addressed_at"))
    response = client_for(user, **client_options).post(addressed_url(comment), data)
    assert response.status_code == status, response.content.decode()[:300]
    assert list(Comment.objects.values_list("pk", "addressed_in", "addressed_at")) == before
    return response.content.decode()


def test_a_reader_and_a_moderator_who_is_not_an_editor_are_refused(world):
    reader = make_user("reader@example.org", "Reader")
    for user in (reader, world["moderator"], world["author"]):
        html = refused(world, user, world["thread"], {"revision": "2"}, 403)
        assert "Only the site’s editors can mark a thread as addressed" in html
        with pytest.raises(Refused):
            services.thread_mark_addressed(editor=user, comment=world["thread"], revision=2)


def test_a_visitor_is_sent_to_log_in(world):
    response = client_for().post(addressed_url(world["thread"]), {"revision": "2"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Comment.objects.get(pk=world["thread"].pk).addressed_in is None


def test_another_essays_editor_is_refused_what_the_site_does_not_let_them_do(world):
    """Editors are the site's (the essays.change_essay permission): whoever edits another
    essay edits this one too. What no editor may do is take another essay's revision."""
    other = essay_import(source=essay_source("Other.", slug="other", title="Other")).essay
    essay_import(source=essay_source("Other, revised.", slug="other", title="Other"))
    essay_import(source=essay_source("Other, again.", slug="other", title="Other"))
    assert other.revisions.filter(number=3).exists()
    assert not world["essay"].revisions.filter(number=3).exists()
    html = refused(world, world["editor"], world["thread"], {"revision": "3"}, 400)
    assert "has no revision 3" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"revision": "9"}, "has no revision 9"),
        ({"revision": "1"}, "published before this thread was written"),
        ({"revision": "two"}, "Choose the revision"),
        ({}, "Choose the revision"),
    ],
)
def test_a_revision_that_does_not_exist_or_came_before_is_refused(world, data, message):
    html = refused(world, world["editor"], world["thread"], data, 400)
    assert message in html


def test_a_reply_is_not_a_thread(world):
    html = refused(world, world["editor"], world["reply"], {"revision": "2"}, 400)
    assert "not a reply" in html


@pytest.mark.parametrize("how", ["removed", "deleted"])
def test_a_removed_or_deleted_thread_is_refused(world, how):
    thread = world["thread"]
    if how == "removed":
        moderation.comment_remove(actor=world["moderator"], comment=thread, reason_code="spam")
    else:
        services.comment_delete(comment=thread, actor=world["author"])
    html = refused(world, world["editor"], thread, {"revision": "2"}, 409)
    assert "Only a published thread" in html


def test_a_thread_awaiting_review_is_not_found_by_an_editor_who_is_not_its_author(world):
    from django.http import Http404

    from forum.discussion.models import Comment as Model

    Model.objects.filter(pk=world["thread"].pk).update(status=Model.Status.PENDING)
    response = client_for(world["editor"]).post(addressed_url(world["thread"]), {"revision": "2"})
    assert response.status_code == 404
    assert "Awaiting review" not in response.content.decode()
    with pytest.raises(Http404):
        services.thread_mark_addressed(editor=world["editor"], comment=world["thread"], revision=2)


def test_marking_twice_and_unmarking_nothing_are_refused(world):
    services.thread_mark_addressed(editor=world["editor"], comment=world["thread"], revision=2)
    refused(world, world["editor"], world["thread"], {"revision": "2"}, 409)
    refused(world, world["editor"], world["on_essay"], {"unmark": "1"}, 409)


def test_a_missing_thread_is_not_found_and_get_is_not_allowed(world):
    refused(world, world["editor"], Comment(pk=999_999), {"revision": "2"}, 404)
    # A non-editor learns nothing of which comments exist.
    refused(world, world["moderator"], Comment(pk=999_999), {"revision": "2"}, 403)
    assert client_for(world["editor"]).get(addressed_url(world["thread"])).status_code == 405


def test_a_post_without_its_csrf_token_is_refused(world):
    refused(
        world, world["editor"], world["thread"], {"revision": "2"}, 403, enforce_csrf_checks=True
    )


# The editor's control is the editor's alone ---------------------------------------------------


def test_readers_never_see_the_editors_control(world):
    editor = client_for(world["editor"])
    for place, html in places(world, editor).items():
        assert CONTROL in html, place
    assert addressed_url(world["thread"]) in places(world, editor)["thread page"]
    reader = make_user("reader@example.org", "Reader")
    # After the editor's visits (nothing of theirs may reach the pages kept for others).
    for who, user in (("visitor", None), ("reader", reader), ("moderator", world["moderator"])):
        for place, html in places(world, client_for(user)).items():
            assert CONTROL not in html and "/addressed/" not in html, (who, place)


def test_only_revisions_of_the_essay_count(world):
    """The revision is looked up in the thread's essay only."""
    assert EssayRevision.objects.filter(essay=world["essay"]).count() == 2
    with pytest.raises(Refused):
        services.thread_mark_addressed(editor=world["editor"], comment=world["thread"], revision=0)
