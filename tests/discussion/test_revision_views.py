import hashlib

import pytest
from django.contrib.auth.models import Permission

from essays.services import essay_import
from forum.discussion import services
from forum.discussion.models import Comment
from forum.refusals import Refused
from tests.conftest import essay_source, make_user


@pytest.fixture
def essay(make_essay):
    return make_essay(
        "Alpha paragraph with several words in it.", "Beta paragraph stays.", "Gamma goes."
    )


@pytest.fixture
def editor(db):
    user = make_user("editor@example.org", "Ed Itor")
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="change_essay"))
    return user


def test_a_quote_must_be_text_of_the_paragraph(reader_client, essay):
    paragraph = essay.paragraphs.get(position=0)
    url = f"/essays/{essay.slug}/p/{paragraph.key}/comment/"
    response = reader_client.post(url, {"body": "Hm.", "quote": "words that are not there"})
    content = response.content.decode()
    assert response.status_code == 400
    assert "The quoted passage is not in this paragraph" in content
    assert "words that are not there" in content and "Hm." in content
    response = reader_client.post(url, {"body": "Yes.", "quote": "several words"})
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert (comment.quote, comment.quote_prefix, comment.quote_suffix) == (
        "several words",
        "Alpha paragraph with ",
        " in it.",
    )
    page = reader_client.get(paragraph.get_absolute_url()).content.decode()
    assert 'class="comment-quote" data-quote="several words"' in page


def test_earlier_revisions_and_their_changes_are_readable(client, essay):
    essay_import(
        source=essay_source(
            "Alpha paragraph with several words in it, revised.",
            "Beta paragraph stays.",
            "Delta arrives.",
        )
    )
    first = client.get(f"/essays/{essay.slug}/r/1/").content.decode()
    assert "Gamma goes." in first and "revision 1 of 2" in first
    current = client.get(essay.get_absolute_url()).content.decode()
    assert "(revision 2)" in current and f"/essays/{essay.slug}/r/2/changes/" in current
    changes = client.get(f"/essays/{essay.slug}/r/2/changes/").content.decode()
    assert "1 added, 1 changed, 0 moved, 1 removed" in changes
    assert "Delta arrives." in changes and "Gamma goes." in changes
    assert client.get(f"/essays/{essay.slug}/r/9/").status_code == 404


def test_orphaned_threads_are_shown_on_earlier_versions_with_their_text(client, essay, user):
    gamma = essay.paragraphs.get(position=2)
    services.comment_post(author=user, essay=essay, body="About gamma.", paragraph=gamma)
    essay_import(
        source=essay_source("Alpha paragraph with several words in it.", "Beta paragraph stays.")
    )
    page = client.get(essay.get_absolute_url()).content.decode()
    section = page[page.index("On earlier versions") :]
    assert "Gamma goes." in section and "About gamma." in section
    assert f"/essays/{essay.slug}/r/1/#p-{gamma.key}" in section


def test_only_editors_reach_the_publish_page(client, essay, user, staff_user_without_permission):
    url = f"/essays/{essay.slug}/publish/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for member in (user, staff_user_without_permission):
        client.force_login(member)
        # Not back to the login page (it would send a signed-in reader round in a loop).
        for response in (client.get(url), client.post(url, {"source": essay.source})):
            assert response.status_code == 403
            assert "Only the site’s editors can publish" in response.content.decode()


@pytest.fixture
def staff_user_without_permission(db):
    user = make_user("plainstaff@example.org", "Plain Staff")
    user.is_staff = True
    user.save()
    return user


def test_the_editor_previews_every_thread_then_publishes(client, essay, editor, user):
    alpha, beta, gamma = essay.paragraphs.order_by("position")
    for paragraph, body in [(alpha, "On alpha."), (beta, "On beta."), (gamma, "On gamma.")]:
        services.comment_post(author=user, essay=essay, body=body, paragraph=paragraph)
    client.force_login(editor)
    url = f"/essays/{essay.slug}/publish/"
    source = essay_source(
        "Alpha paragraph with several words in it, now longer.", "Beta paragraph stays."
    )
    preview = client.post(url, {"source": source, "preview": "1"}).content.decode()
    assert "Threads that stay (1)" in preview
    assert (
        "Threads that follow a changed or moved paragraph (1)" in preview and "On alpha." in preview
    )
    assert "Threads that become “on earlier versions” (1)" in preview and "On gamma." in preview
    essay.refresh_from_db()
    assert essay.revision == 1  # a preview changes nothing
    stale = client.post(url, {"source": source + "\nMore.\n", "publish": "1", "previewed": "x"})
    assert stale.status_code == 200 and essay.paragraphs.live().count() == 3
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert 'name="revision" value="1"' in preview  # the revision previewed against
    response = client.post(
        url, {"source": source, "publish": "1", "previewed": digest, "revision": "1"}
    )
    assert response.status_code == 302
    essay.refresh_from_db()
    assert essay.revision == 2
    statuses = dict(Comment.objects.values_list("body", "anchor_status"))
    assert statuses == {"On alpha.": "moved", "On beta.": "placed", "On gamma.": "orphaned"}


def test_a_source_for_another_essay_is_refused(client, essay, editor):
    client.force_login(editor)
    response = client.post(
        f"/essays/{essay.slug}/publish/",
        {"source": essay_source("X.", slug="elsewhere"), "preview": "1"},
    )
    assert response.status_code == 400


def test_the_service_itself_refuses_non_editors_and_other_essays(essay, user, editor):
    from essays.rendering import EssaySourceError
    from essays.services import essay_revise

    with pytest.raises(Refused):
        essay_revise(editor=user, essay=essay, source=essay_source("Changed."))
    with pytest.raises(EssaySourceError):
        essay_revise(editor=editor, essay=essay, source=essay_source("X.", slug="elsewhere"))
    essay.refresh_from_db()
    assert essay.revision == 1
