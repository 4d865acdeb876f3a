"""Issue 14, item 8: the community guidelines, a page the site owner edits in the admin
(Markdown, rendered and sanitized when saved), with a section anchor per heading, linked from
the report form, the comment form and every removal notice."""

import pytest
from django.urls import reverse

from forum.discussion.markup import render_guidelines
from forum.discussion.models import Comment, Guidelines
from forum.discussion.services import DEFAULT_GUIDELINES, guidelines_edit
from forum.refusals import Refused
from tests.conftest import add_comment

GUIDELINES_URL = "/guidelines/"


@pytest.fixture
def owner(db):
    from forum.accounts.models import User

    return User.objects.create_superuser(email="owner@example.org", password="x" * 20)


def test_headings_become_sections_with_stable_anchors():
    html, sections = render_guidelines(
        "# Welcome\n\nRead this.\n\n## Be civil {#abuse}\n\nKind words.\n\n"
        "## Be civil\n\n### Be civil\n"
    )
    assert sections == [
        ("welcome", "Welcome"),
        ("abuse", "Be civil"),  # chosen: kept whatever the heading says later
        ("be-civil", "Be civil"),
        ("be-civil-2", "Be civil"),  # unique in the page
    ]
    # The page has its own title: a top-level heading is a section like the others.
    assert '<h2 id="welcome">Welcome</h2>' in html
    assert '<h2 id="abuse">Be civil</h2>' in html and "{#" not in html
    assert '<h3 id="be-civil-2">' in html


def test_the_owners_text_is_sanitized_like_everything_the_site_publishes():
    html, _sections = render_guidelines(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](https://ok.example/)\n\n"
        "![img](https://e.example/i.png)\n\n## <b>Bold</b> {#Not Valid}"
    )
    # Raw HTML is text, not markup; no script link, no image.
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and "<img" not in html
    assert '<a href="https://ok.example/"' in html
    # An anchor that is not one (capitals, a space) is words of the heading.
    assert "<b>" not in html and 'id="bboldb-not-valid"' in html


def test_the_default_text_has_a_section_for_every_public_reason():
    from forum.moderation.models import ReasonCode

    _html, sections = render_guidelines(DEFAULT_GUIDELINES)
    anchors = {anchor for anchor, _title in sections}
    assert set(ReasonCode.values) <= anchors


def test_a_fresh_database_has_the_default_guidelines(db):
    """Seeded by the data migration discussion/0008, so `make run` has them. (Run here
    again on an empty table: a browser test earlier in the suite flushes the database,
    migrations' rows included.)"""
    from importlib import import_module

    from django.apps import apps

    Guidelines.objects.all().delete()
    import_module("forum.discussion.migrations.0008_guidelines").seed_guidelines(apps, None)
    guidelines = Guidelines.current()
    assert guidelines is not None and guidelines.has_section("spam")
    assert "Be civil" in guidelines.body_html


def test_the_page_shows_the_owners_last_edit_at_once(client, owner):
    guidelines_edit(editor=owner, body="## Old rule\n\nBe nice.")
    assert "Old rule" in client.get(GUIDELINES_URL).content.decode()
    guidelines_edit(editor=owner, body="## New rule {#spam}\n\nNo **ads**.")
    page = client.get(GUIDELINES_URL).content.decode()
    assert "Old rule" not in page
    assert '<h2 id="spam">New rule</h2>' in page and "<strong>ads</strong>" in page
    assert Guidelines.objects.count() == 1


def test_the_page_says_so_when_there_are_no_guidelines(client, db):
    Guidelines.objects.all().delete()
    response = client.get(GUIDELINES_URL)
    assert response.status_code == 200 and "not written the guidelines" in response.text


def test_only_the_owner_edits_the_guidelines(user, owner):
    before = Guidelines.current().body if Guidelines.current() else None
    with pytest.raises(Refused) as refused:
        guidelines_edit(editor=user, body="## Mine now")
    assert refused.value.status == 403
    with pytest.raises(Refused):
        guidelines_edit(editor=owner, body="   ")
    assert (Guidelines.current().body if Guidelines.current() else None) == before


def test_the_owner_edits_them_in_the_admin(client, owner):
    guidelines = guidelines_edit(editor=owner, body="## First")
    client.force_login(owner)
    url = reverse("admin:discussion_guidelines_change", args=[guidelines.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"body": "## Second {#spam}\n\nText."})
    assert response.status_code == 302
    guidelines.refresh_from_db()
    assert guidelines.sections == [["spam", "Second"]]
    assert '<h2 id="spam">Second</h2>' in client.get(GUIDELINES_URL).text
    # One text: no second one to add, none to delete.
    assert client.get(reverse("admin:discussion_guidelines_add")).status_code == 403


def test_the_comment_form_links_the_guidelines(reader_client, make_essay):
    essay = make_essay("One.", "Two.")
    page = reader_client.get(reverse("discussion:essay_detail", kwargs={"slug": essay.slug}))
    assert f'href="{GUIDELINES_URL}"' in page.content.decode()


def test_the_report_form_links_the_guidelines(reader_client, make_essay, other_user):
    essay = make_essay("One.", "Two.")
    comment = add_comment(essay, author=other_user, body="Reportable.")
    page = reader_client.get(reverse("moderation:report", kwargs={"pk": comment.pk}))
    assert page.status_code == 200 and f'href="{GUIDELINES_URL}"' in page.content.decode()


def test_a_removed_comments_placeholder_links_the_guidelines(client, make_essay, other_user):
    essay = make_essay("One.", "Two.")
    removed = add_comment(
        essay, author=other_user, status=Comment.Status.REMOVED, removal_reason="Spam"
    )
    add_comment(essay, parent=removed, author=other_user, body="A reply keeps it shown.")
    page = client.get(reverse("discussion:essay_detail", kwargs={"slug": essay.slug}))
    text = page.content.decode()
    assert "Removed by a moderator: Spam" in text
    assert f'class="guidelines-link" href="{GUIDELINES_URL}"' in text
