"""What a revision changes, as the changes page and the editor's preview show it: the words
marked (essays/changes.py), one entry per paragraph with its threads (essays/hooks.py)."""

import pytest
from django.contrib.auth.models import Permission

from essays import hooks
from essays.changes import Outcome, ThreadFate, mark_words, revision_preview
from essays.services import essay_import, preview_revision
from forum.discussion import services
from tests.conftest import add_comment, essay_source, make_user

HOSTILE = "Read <script>alert('x')</script> & <b>this</b> closely."


# The words ----------------------------------------------------------------------------------


def test_the_same_text_has_nothing_marked():
    marked = mark_words("Nothing changes here.", "Nothing changes here.")
    assert marked.before == marked.after == "Nothing changes here."


def test_a_replaced_word_is_deleted_from_the_old_text_and_inserted_in_the_new():
    marked = mark_words("The cat sat on the mat.", "The dog sat on the mat.")
    assert marked.before == "The <del>cat</del> sat on the mat."
    assert marked.after == "The <ins>dog</ins> sat on the mat."


def test_words_only_added_or_only_taken_out_are_marked_on_their_side_alone():
    marked = mark_words("A short text.", "A short and plain text.")
    assert marked.before == "A short text."
    assert marked.after == "A short <ins>and plain</ins> text."
    marked = mark_words("A short and plain text.", "A short text.")
    assert marked.before == "A short <del>and plain</del> text."
    assert marked.after == "A short text."


def test_neighbouring_changed_words_are_one_passage_and_blanks_stay_outside_the_marks():
    marked = mark_words("the old grey cat slept", "the young black cat slept")
    assert marked.before == "the <del>old grey</del> cat slept"
    assert marked.after == "the <ins>young black</ins> cat slept"


def test_punctuation_is_a_token_of_its_own():
    marked = mark_words("Stop. Go on", "Stop, go on")
    assert marked.before == "Stop<del>. Go</del> on"
    assert marked.after == "Stop<ins>, go</ins> on"


def test_a_change_of_blanks_alone_is_not_marked():
    marked = mark_words("one two", "one  two")
    assert "<del>" not in marked.before and "<ins>" not in marked.after


def test_text_that_looks_like_markup_is_escaped_everywhere():
    marked = mark_words(HOSTILE, HOSTILE.replace("closely", "twice"))
    for html in (marked.before, marked.after):
        assert "<script>" not in html and "<b>" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert marked.before.endswith("<del>closely</del>.")
    marked = mark_words("Plain.", "<script>alert(1)</script> Plain.")
    assert marked.after == "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins> Plain."


def test_words_of_any_script_are_words():
    marked = mark_words("Ça va très bien", "Ça va très mal")
    assert marked.after == "Ça va très <ins>mal</ins>"


# The preview --------------------------------------------------------------------------------

ALPHA = "Alpha paragraph with several words in it."
BETA = "Beta paragraph stays as it is."
GAMMA = "Gamma paragraph goes away entirely."


@pytest.fixture
def essay(make_essay):
    return make_essay(ALPHA, BETA, GAMMA)


@pytest.fixture
def editor(db):
    user = make_user("editor@example.org", "Ed Itor")
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="change_essay"))
    return user


def _preview(essay, source, viewer):
    _essay, live, plan, blocks = preview_revision(source=source)
    return revision_preview(essay=essay, live=live, plan=plan, blocks=blocks, viewer=viewer)


def test_the_preview_has_one_entry_per_paragraph_with_all_its_threads(essay, user, editor):
    alpha, beta, gamma = essay.paragraphs.order_by("position")
    for number in range(8):
        add_comment(essay, author=user, body=f"On alpha {number}.", paragraph=alpha)
    services.comment_post(author=user, essay=essay, body="On beta.", paragraph=beta)
    services.comment_post(author=user, essay=essay, body="On gamma.", paragraph=gamma)
    source = essay_source(ALPHA.replace("several", "a few"), BETA, "Delta arrives.")
    preview = _preview(essay, source, editor)
    assert [(c.outcome, len(c.threads)) for c in preview.changes] == [
        (Outcome.CHANGED, 8),
        (Outcome.REMOVED, 1),
        (Outcome.ADDED, 0),
    ]
    changed = preview.changes[0]
    assert changed.marked.before == "Alpha paragraph with <del>several</del> words in it."
    assert changed.marked.after == "Alpha paragraph with <ins>a few</ins> words in it."
    assert [t.excerpt for t in changed.threads] == [f"On alpha {n}." for n in range(8)]
    assert [c.before[0].text for c in preview.kept] == [BETA]
    assert preview.thread_counts == {ThreadFate.STAY: 1, ThreadFate.FOLLOW: 8, ThreadFate.ORPHAN: 1}
    assert (preview.added, preview.changed, preview.moved, preview.removed) == (1, 1, 0, 1)


def test_a_removed_paragraph_is_listed_where_it_stood(make_essay, editor):
    essay = make_essay("First one.", "Second one.", "Third one.")
    preview = _preview(essay, essay_source("First one.", "Third one, revised."), editor)
    assert [(c.outcome, (c.after or c.before[0]).text) for c in preview.changes] == [
        (Outcome.REMOVED, "Second one."),
        (Outcome.CHANGED, "Third one, revised."),
    ]


def test_without_an_app_to_answer_the_preview_lists_paragraphs_without_threads(essay, user):
    services.comment_post(
        author=user, essay=essay, body="On gamma.", paragraph=essay.paragraphs.get(position=2)
    )
    hooks.register_threads_on_paragraphs(hooks._no_threads)
    try:
        preview = _preview(essay, essay_source(ALPHA, BETA), user)
    finally:
        from forum.discussion.threads import threads_on_paragraphs

        hooks.register_threads_on_paragraphs(threads_on_paragraphs)
    assert [(c.outcome, c.threads) for c in preview.changes] == [(Outcome.REMOVED, [])]
    assert preview.thread_counts[ThreadFate.ORPHAN] == 0


def test_the_preview_shows_a_thread_the_editor_may_not_read_as_a_placeholder(essay, user, editor):
    from forum.discussion.models import Comment

    gamma = essay.paragraphs.get(position=2)
    comment = services.comment_post(author=user, essay=essay, body="Secret words.", paragraph=gamma)
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.REMOVED)
    preview = _preview(essay, essay_source(ALPHA, BETA), editor)
    (thread,) = preview.changes[0].threads
    assert thread.excerpt == "" and thread.placeholder == "Removed by a moderator"
    assert thread.url == f"/comments/{comment.pk}/"


def test_the_preview_keeps_a_thread_awaiting_review_to_its_author_and_moderators(
    essay, user, editor
):
    from forum.discussion.models import Comment

    gamma = essay.paragraphs.get(position=2)
    comment = services.comment_post(author=user, essay=essay, body="Held words.", paragraph=gamma)
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.PENDING)
    preview = _preview(essay, essay_source(ALPHA, BETA), editor)
    assert preview.changes[0].threads == []  # the editor is not told it exists
    (thread,) = _preview(essay, essay_source(ALPHA, BETA), user).changes[0].threads
    assert thread.excerpt == "Held words."  # its author is


def test_the_publish_page_lists_each_paragraph_once_with_its_threads(client, essay, user, editor):
    alpha = essay.paragraphs.get(position=0)
    for number in range(8):
        add_comment(essay, author=user, body=f"Thread {number}.", paragraph=alpha)
    client.force_login(editor)
    hostile = ALPHA.replace("several", "<script>alert('x')</script> several")
    source = essay_source(hostile, BETA, GAMMA)
    page = client.post(f"/essays/{essay.slug}/publish/", {"source": source, "preview": "1"})
    content = page.content.decode()
    assert page.status_code == 200
    # Before and after, and the source in the form: not once per thread.
    assert content.count(ALPHA[:20]) == 3
    assert "Threads that follow it to its new text or place (8):" in content
    assert all(f"Thread {number}." in content for number in range(8))
    assert "<script>alert" not in content
    assert "with <ins>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</ins> several" in content
    assert "Threads that follow a changed or moved paragraph (8)" in content


# The changes page ---------------------------------------------------------------------------


def test_the_changes_page_marks_the_words_inserted_and_deleted(client, essay):
    essay_import(source=essay_source(ALPHA.replace("several", "many"), BETA, HOSTILE))
    page = client.get(f"/essays/{essay.slug}/r/2/changes/").content.decode()
    assert "Alpha paragraph with <del>several</del> words in it." in page
    assert "Alpha paragraph with <ins>many</ins> words in it." in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "1 added, 1 changed, 0 moved, 1 removed" in page


def test_a_paragraph_moved_and_changed_is_listed_once_as_changed(client, make_essay):
    essay = make_essay("One paragraph of words here.", "Two paragraph of words.", "Three.")
    source = essay_source("Three.", "Two paragraph of words.", "One paragraph of other words here.")
    essay_import(source=source)
    page = client.get(f"/essays/{essay.slug}/r/2/changes/").content.decode()
    assert page.count("One paragraph of") == 2  # before and after, in one entry
    assert "<ins>other</ins>" in page


def test_the_threads_of_every_paragraph_are_read_in_one_query(essay, user, editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_to_read_threads() -> int:
        live = list(essay.paragraphs.live())
        with CaptureQueriesContext(connection) as queries:
            hooks.threads_on_paragraphs(essay=essay, paragraphs=live, viewer=editor)
        return len(queries)

    alpha, beta, _gamma = essay.paragraphs.order_by("position")
    add_comment(essay, author=user, body="One.", paragraph=alpha)
    queries_to_read_threads()  # the editor's permissions, loaded once per request
    assert queries_to_read_threads() == 1
    for number in range(20):
        add_comment(essay, author=user, body=f"More {number}.", paragraph=beta)
    assert queries_to_read_threads() == 1
