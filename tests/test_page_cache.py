"""No reader ever sees a stale reading page: the page is cached whole for anonymous visitors
(and the essay's body for everyone), and every change a reader can see (a post, an edit, a
deletion, each moderation decision, a revision, a re-attach, a thread marked addressed in a
revision or the mark taken back, a rename, an account deleted) replaces it. Each case warms
the cache, makes the change through the service a request would call, and reads the page
again: as a visitor, and as a signed-in reader (who is served the threads rendered for every
member, forum/discussion/pages.py)."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from essays.services import essay_import
from essays.states import essay_state_remember, state_key
from forum.accounts import services as accounts
from forum.discussion import pages
from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation import services as moderation
from tests.conftest import add_comment, essay_source, make_user, post

SOURCE = ("The first paragraph.", "The second paragraph.")


@pytest.fixture(params=["visitor", "member"])
def world(request, db, settings):
    settings.MODERATION_FIRST_COMMENTS_REVIEWED = 0
    settings.MODERATION_HIDE_THRESHOLD = 1
    cache.clear()
    essay = essay_import(source=essay_source(*SOURCE)).essay
    author = make_user("ada@example.org", "Ada")
    moderator = make_user("mod@example.org", "Moderator")
    moderator.groups.add(moderation.moderators_group())
    first, second = essay.paragraphs.live().order_by("position")
    reader = Client()
    if request.param == "member":
        reader.force_login(make_user("member@example.org", "Member"))
    return {
        "reader": reader,
        "essay": essay,
        "author": author,
        "moderator": moderator,
        "first": first,
        "second": second,
    }


def page(world) -> str:
    response = world["reader"].get(world["essay"].get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def published(world, body="A published thought.", paragraph=None) -> Comment:
    """A comment on the whole essay (its text is on the essay's page), or on a paragraph
    (its count is in the margin)."""
    return post(world["author"], world["essay"], body=body, paragraph=paragraph)


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", html)


def change_and_read(world, change) -> tuple[str, str]:
    before = page(world)
    # Served again, from the cache: the same page but for the visitor's token.
    assert without_tokens(page(world)) == without_tokens(before)
    change()
    return before, page(world)


def test_a_new_comment_appears(world):
    before, after = change_and_read(world, lambda: published(world))
    assert "A published thought." not in before and "A published thought." in after


def test_a_new_comment_on_a_paragraph_counts_in_its_margin(world):
    before, after = change_and_read(world, lambda: published(world, paragraph=world["first"]))
    assert "1 comment on this" in after and "1 comment on this" not in before


def test_an_edit_shows(world):
    comment = published(world)
    before, after = change_and_read(
        world,
        lambda: discussion.comment_edit(
            comment=comment, editor=world["author"], body="Thought again."
        ),
    )
    assert "A published thought." in before and "Thought again." in after
    assert "A published thought." not in after


def test_an_authors_deletion_shows(world):
    comment = published(world)
    before, after = change_and_read(
        world, lambda: discussion.comment_delete(comment=comment, actor=world["author"])
    )
    assert "A published thought." in before and "A published thought." not in after


@pytest.mark.parametrize("decision", ["remove", "hide after a report"])
def test_a_comment_taken_down_disappears(world, decision):
    comment = published(world)
    reader = make_user("reader@example.org", "Reader")

    def take_down():
        if decision == "remove":
            moderation.comment_remove(actor=world["moderator"], comment=comment, reason_code="spam")
        else:
            moderation.flag_create(reporter=reader, comment=comment, reason="spam")

    before, after = change_and_read(world, take_down)
    assert "A published thought." in before and "A published thought." not in after


@pytest.mark.parametrize("from_state", ["pending", "removed"])
def test_a_comment_approved_or_restored_appears(world, settings, from_state):
    if from_state == "pending":
        settings.MODERATION_FIRST_COMMENTS_REVIEWED = 5
    comment = published(world)
    if from_state == "removed":
        moderation.comment_remove(actor=world["moderator"], comment=comment, reason_code="spam")
    comment.refresh_from_db()
    assert comment.status != Comment.Status.PUBLISHED

    def bring_back():
        if from_state == "pending":
            moderation.comment_approve(actor=world["moderator"], comment=comment)
        else:
            moderation.comment_restore(actor=world["moderator"], comment=comment)

    before, after = change_and_read(world, bring_back)
    assert "A published thought." not in before and "A published thought." in after


def test_a_locked_thread_shows_locked(world):
    comment = post(world["author"], world["essay"], body="On the whole essay.")
    before, after = change_and_read(
        world,
        lambda: moderation.thread_lock_set(actor=world["moderator"], comment=comment, locked=True),
    )
    assert "Thread locked" not in before and "Thread locked" in after


def test_closing_the_essay_shows_closed(world):
    before, after = change_and_read(
        world,
        lambda: moderation.essay_comments_set(
            actor=world["moderator"], essay=world["essay"], open_=False
        ),
    )
    assert "Comments are closed" not in before and "Comments are closed" in after


def test_a_revision_shows_its_text_and_a_reattached_thread_moves(world):
    comment = post(
        world["author"], world["essay"], body="About the second.", paragraph=world["second"]
    )
    before, after = change_and_read(
        world, lambda: essay_import(source=essay_source("The first paragraph, revised."))
    )
    block = '<div class="block-body"><p>The second paragraph.</p>'
    assert block in before and block not in after
    assert "The first paragraph, revised." in after
    assert "On earlier versions" in after  # the thread on the retired paragraph
    first = world["essay"].paragraphs.live().get()
    comment.refresh_from_db()
    before, after = change_and_read(
        world,
        lambda: moderation.thread_reattach(
            actor=world["moderator"], comment=comment, paragraph=first, reason="Same idea."
        ),
    )
    assert "On earlier versions" in before and "On earlier versions" not in after


def test_marking_a_thread_addressed_and_taking_the_mark_back_show(world):
    from django.contrib.auth.models import Permission

    comment = published(world)
    essay_import(source=essay_source("The first paragraph, revised.", SOURCE[1]))  # revision 2
    editor = make_user("editor@example.org", "Editor")
    editor.user_permissions.add(Permission.objects.get(codename="change_essay"))
    before, after = change_and_read(
        world,
        lambda: discussion.thread_mark_addressed(editor=editor, comment=comment, revision=2),
    )
    assert "Addressed in revision 2" not in before and "Addressed in revision 2" in after
    before, after = change_and_read(
        world, lambda: discussion.thread_unmark_addressed(editor=editor, comment=comment)
    )
    assert "Addressed in revision 2" in before and "Addressed in revision 2" not in after


def test_a_rename_shows_on_every_comment(world):
    published(world)
    before, after = change_and_read(
        world,
        lambda: accounts.user_set_display_name(user=world["author"], display_name="Ada Byron"),
    )
    assert "Ada Byron" not in before and "Ada Byron" in after


def test_a_deleted_account_takes_its_comments_away(world):
    published(world)
    before, after = change_and_read(
        world,
        lambda: accounts.account_delete(user=world["author"], delete_comments=True),
    )
    assert "A published thought." in before and "A published thought." not in after


def test_signed_in_readers_see_new_margin_counts_too(world, client):
    client.force_login(make_user("signed@example.org", "Signed"))
    url = world["essay"].get_absolute_url()
    assert "1 comment on this" not in client.get(url).content.decode()
    published(world, paragraph=world["first"])
    assert "1 comment on this" in client.get(url).content.decode()


def test_anonymous_visitors_each_get_their_own_csrf_token(world):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = [c.get(world["essay"].get_absolute_url()).content.decode() for c in (first, second)]
    tokens = [p.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0] for p in pages]
    assert tokens[0] != tokens[1] and "Placeholder" not in tokens[0]
    # The token in the cached page works for its own visitor: a preview goes through.
    response = first.post("/comments/preview/", {"body": "Hello", "csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 200


def test_a_browser_that_has_the_page_gets_304_until_it_changes(world):
    visitor = Client()
    url = world["essay"].get_absolute_url()
    # A first visit has no CSRF cookie yet: its page has no ETag (it gets the cookie).
    assert "ETag" not in visitor.get(url)
    etag = visitor.get(url)["ETag"]
    assert visitor.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    published(world)
    response = visitor.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag


def test_an_essay_taken_down_is_gone_at_once(world):
    essay = world["essay"]
    page(world)
    essay.status = essay.Status.DRAFT
    essay.save()
    assert Client().get(essay.get_absolute_url()).status_code == 404


def test_a_page_served_again_asks_nothing_of_the_database(world, django_assert_num_queries):
    Client().get(world["essay"].get_absolute_url())
    with django_assert_num_queries(0):
        assert Client().get(world["essay"].get_absolute_url()).status_code == 200


def test_a_paragraphs_page_is_cached_and_replaced_too(world, django_assert_num_queries):
    url = world["first"].get_absolute_url()
    assert "A thought on the first." not in Client().get(url).content.decode()
    with django_assert_num_queries(0):
        Client().get(url)
    published(world, body="A thought on the first.", paragraph=world["first"])
    assert "A thought on the first." in Client().get(url).content.decode()


def test_pages_past_the_end_are_not_kept(world):
    from forum.discussion.pages import page_key

    essay = world["essay"]
    for number in range(1, 30):
        assert Client().get(f"{essay.get_absolute_url()}?page={number}").status_code == 200
    kept = [n for n in range(1, 30) if cache.get(page_key(essay.slug, "essay", "oldest", str(n)))]
    assert kept == [1]  # asking for ten thousand empty pages must not fill the cache


@pytest.mark.parametrize("how", ["member's groups", "group's members"])
def test_a_new_moderators_badge_shows_at_once(world, how):
    published(world)
    group = moderation.moderators_group()

    def promote():
        if how == "member's groups":
            world["author"].groups.add(group)
        else:
            group.user_set.add(world["author"])

    before, after = change_and_read(world, promote)
    assert '<span class="badge">Moderator</span>' not in before
    assert '<span class="badge">Moderator</span>' in after
    world["author"].groups.clear()
    assert '<span class="badge">Moderator</span>' not in page(world)


# The marker holds "_", which no CSRF token does (letters and digits): a page's own token
# never looks like it.
@pytest.mark.parametrize(
    "query", ["?utm_source=zq_x", "?order=zq_x", "?zq_x=1&page=2", "?page=zq_x"]
)
def test_a_first_visitors_own_query_never_reaches_everyones_page(world, query):
    url = world["essay"].get_absolute_url()
    assert "zq_x" in Client().get(url + query).content.decode()  # in their links back
    for others in ("", "?page=2", "?order=oldest&page=1"):
        assert "zq_x" not in Client().get(url + others).content.decode()


def test_a_new_csrf_cookie_gets_the_page_again_not_a_304(world):
    visitor = Client(enforce_csrf_checks=True)
    url = world["essay"].get_absolute_url()
    visitor.get(url)
    etag = visitor.get(url)["ETag"]
    visitor.cookies["csrftoken"] = "a" * 32  # as after a log in and out
    response = visitor.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    token = response.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert (
        visitor.post("/comments/preview/", {"body": "Hi", "csrfmiddlewaretoken": token}).status_code
        == 200
    )


def test_a_comment_naming_the_placeholder_never_carries_a_visitors_token(world):
    from forum.discussion.pages import CSRF_PLACEHOLDER

    published(world, body=f"[see](https://elsewhere.example/?t={CSRF_PLACEHOLDER})")
    visitor = Client()
    content = visitor.get(world["essay"].get_absolute_url()).content.decode()
    assert f"https://elsewhere.example/?t={CSRF_PLACEHOLDER}" in content
    token = visitor.cookies["csrftoken"].value
    assert token not in content


def test_removed_threads_on_the_first_page_never_hide_the_rest(world, settings):
    from forum.discussion.threads import THREADS_PER_PAGE

    for n in range(THREADS_PER_PAGE):
        add_comment(world["essay"], body=f"Spam {n}.", status=Comment.Status.REMOVED)
    published(world, body="A real thread.")
    first = page(world)
    assert "No one has discussed" not in first and "More threads" in first


def test_a_rename_or_deactivation_in_the_admin_shows(world):
    published(world)
    author = world["author"]
    before, after = change_and_read(
        world, lambda: setattr(author, "display_name", "Renamed") or author.save()
    )
    assert "Renamed" not in before and "Renamed" in after
    author.groups.add(moderation.moderators_group())
    assert '<span class="badge">Moderator</span>' in page(world)
    author.is_active = False
    author.save()
    assert '<span class="badge">Moderator</span>' not in page(world)


def test_a_member_deleted_in_the_admin_leaves_no_stale_name(world):
    published(world)
    before, after = change_and_read(world, lambda: world["author"].delete())
    assert "Ada" in before and "Ada" not in after


def test_a_page_outliving_the_essays_remembered_state_is_served_without_rendering(
    world, django_assert_max_num_queries
):
    url = world["essay"].get_absolute_url()
    Client().get(url)
    cache.delete(state_key(world["essay"].slug))  # a minute later, the state is forgotten
    # The version from the database, and the check that it is still current: no rendering.
    with django_assert_max_num_queries(2):
        assert Client().get(url).status_code == 200
    published(world)
    cache.delete(state_key(world["essay"].slug))
    assert "A published thought." in Client().get(url).content.decode()


def test_a_state_no_longer_current_is_not_remembered(world):
    essay = world["essay"]
    old_version = essay.discussion_version
    published(world)  # a writer moves on
    essay_state_remember(essay.slug, old_version)
    assert cache.get(state_key(essay.slug)) is None
    essay.refresh_from_db()
    essay_state_remember(essay.slug, essay.discussion_version)
    assert cache.get(state_key(essay.slug)) == essay.discussion_version


def test_a_process_keeps_only_a_few_pages_whatever_it_serves(world):
    url = world["essay"].get_absolute_url()
    for number in range(1, pages.KEPT_PAGES + 4):
        add_comment(world["essay"], body=f"Thought {number}.")
        assert f"Thought {number}." in Client().get(url).content.decode()
    assert len(pages._kept) <= pages.KEPT_PAGES
