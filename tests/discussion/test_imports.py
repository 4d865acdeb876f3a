"""Importing comments from WordPress (WXR) and Disqus exports, on real files that WordPress
and Isso publish as test data for their own importers (tests/data/imports/README.md)."""

import io
import time
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from essays.models import Essay
from forum.discussion.imports import (
    SourceComment,
    _nearest_kept_parents,
    _parents_first,
    read_export,
    text_signature,
)
from forum.discussion.markup import ALLOWED_TAGS, sanitize_html
from forum.discussion.models import Comment
from tests.conftest import TEST_DATA

IMPORTS = TEST_DATA / "imports"
THEME_DATA = IMPORTS / "wordpress-theme-unit-test-data.xml"
ISSO_WXR = IMPORTS / "isso-wordpress.xml"
ISSO_DISQUS = IMPORTS / "isso-disqus.xml"
COMMENTPRESS = IMPORTS / "commentpress-signatures.xml"

# The essay the CommentPress file was made for (its README says how its signatures were
# computed): the last paragraph was reworded here since ("vanish" became "disappear entirely").
ON_MARGINS = [
    "Readers have always written in the margins of the books they love, and argued there "
    "with the author’s ideas.",
    "A comment beside the paragraph it answers keeps its context; a comment at the foot of "
    "the page loses it.",
    "So it goes.",
    "- the first point, made plainly\n- the second point, made at length",
    "So it goes.",
    "An essay is revised: its paragraphs move, change a word or two, and sometimes disappear "
    "entirely from the text.",
]


def run(path, slug, *args) -> str:
    out = io.StringIO()
    call_command("import_comments", str(path), "--essay", slug, *args, stdout=out)
    return out.getvalue()


def by_source(essay) -> dict[str, Comment]:
    """The essay's comments by the id their file gave them ("wxr:881", "disqus:4"): one site
    and post per test file here. The full ids, which name the site and post, are tested
    below."""
    return {
        f"{comment.source_id.split(':', 1)[0]}:{comment.source_id.rsplit('/', 1)[-1]}": comment
        for comment in Comment.objects.filter(essay=essay)
    }


def source_ids(essay) -> list[str]:
    return list(Comment.objects.filter(essay=essay).values_list("source_id", flat=True))


def version(essay) -> int:
    return Essay.objects.get(pk=essay.pk).discussion_version


# WordPress's theme unit test data ---------------------------------------------------------


@pytest.fixture
def template_comments(make_essay):
    return make_essay("A paragraph of ours.", slug="template-comments")


def test_wordpress_post_brings_its_approved_comments_and_no_other_posts(template_comments):
    run(THEME_DATA, "template-comments")
    comments = by_source(template_comments)
    # 20 comments on the post, one of them (1015) never approved; the file's other posts
    # (a page with 4 comments, the pingbacks post...) bring nothing here.
    assert len(comments) == 19
    assert "wxr:1015" not in comments
    assert Comment.objects.exclude(essay=template_comments).count() == 0
    first = comments["wxr:881"]
    assert first.author is None and first.imported
    assert first.author_name == "John Γιάννης Doe Κάποιος"
    assert first.imported_email == "example@example.org"
    assert first.created == datetime(2012, 9, 3, 17, 18, 4, tzinfo=UTC)
    assert first.status == Comment.Status.PUBLISHED
    assert first.paragraph is None  # no CommentPress signature: the whole essay
    assert first.author_display == "John Γιάννης Doe Κάποιος"


def test_a_reply_chain_ten_deep_keeps_every_parent_root_and_depth(template_comments):
    run(THEME_DATA, "template-comments")
    comments = by_source(template_comments)
    chain = ["904", "905", "906", "907", "910", "911", "912", "913", "914", "915"]
    top = comments["wxr:904"]
    assert (top.parent, top.root, top.depth) == (None, None, 0)
    for depth, (parent_id, child_id) in enumerate(zip(chain, chain[1:], strict=False), start=1):
        child = comments[f"wxr:{child_id}"]
        assert child.parent == comments[f"wxr:{parent_id}"]
        assert child.root == top
        assert child.depth == depth
    # Deeper than pages indent (they stop at 4): stored as deep as it was written.
    assert comments["wxr:915"].depth == 9


def test_bodies_go_through_our_sanitizer(template_comments):
    run(THEME_DATA, "template-comments")
    showcase = by_source(template_comments)["wxr:881"].body_html
    for tag in ("<h1", "<table", "<dl", "<cite", " title=", " class="):
        assert tag not in showcase
    assert "<blockquote>" in showcase and "Stay hungry. Stay foolish." in showcase
    assert 'rel="nofollow ugc noopener"' in showcase
    for comment in Comment.objects.filter(essay=template_comments):
        assert sanitize_html(comment.body_html) == comment.body_html
    # The source kept for a later edit is the text a reader sees: no markup.
    assert by_source(template_comments)["wxr:881"].body.startswith(
        "Headings\n\nHeader one\n\nHeader two"
    )
    assert "<strong>" not in by_source(template_comments)["wxr:881"].body


def test_pingbacks_and_trackbacks_are_not_comments(make_essay):
    essay = make_essay("Ours.", slug="template-pingbacks-an-trackbacks")
    run(THEME_DATA, essay.slug)
    # Four pings and trackbacks, and John Doe's one comment.
    assert source_ids(essay) == ["wxr:wpthemetestdata.wordpress.com/1149/925"]


def test_a_second_run_adds_nothing(template_comments):
    run(THEME_DATA, "template-comments")
    before = version(template_comments)
    out = run(THEME_DATA, "template-comments")
    assert Comment.objects.filter(essay=template_comments).count() == 19
    assert "Already imported: 19." in out
    assert "Created 0 comments." in out
    assert version(template_comments) == before


def test_the_dry_run_prints_the_counts_and_writes_nothing(template_comments):
    before = version(template_comments)
    out = run(THEME_DATA, "template-comments", "--dry-run")
    assert Comment.objects.count() == 0
    assert version(template_comments) == before
    assert "Skipped: 1 not approved." in out
    assert "New: 19 comments, 10 new threads." in out
    assert "the whole essay: 19 comments, 10 new threads" in out
    # The ten-deep chain is one thread of ten, named by its first comment.
    assert "wxr:wpthemetestdata.wordpress.com/1148/904 (John Κώστας Doe Τάδε, 2013-03-14): " in out
    assert "Dry run: 19 comments would be created." in out


def test_an_import_renews_the_essays_cached_pages(template_comments):
    before = version(template_comments)
    run(THEME_DATA, "template-comments")
    assert version(template_comments) > before


def test_the_essay_page_shows_imported_comments_and_never_their_addresses(
    client, template_comments
):
    run(THEME_DATA, "template-comments")
    page = client.get(template_comments.get_absolute_url()).content.decode()
    assert "Jane Bloggs" in page
    assert "example@example.org" not in page


# Isso's test files --------------------------------------------------------------------------


def test_isso_wordpress_file_keeps_threads_dates_and_trims_addresses(make_essay):
    essay = make_essay("Ours.", slug="test")
    run(ISSO_WXR, "test")
    comments = by_source(essay)
    assert set(comments) == {f"wxr:{n}" for n in (2, 6, 7, 8, 9, 10, 11)}
    assert comments["wxr:7"].parent == comments["wxr:6"]
    assert comments["wxr:8"].parent == comments["wxr:7"]
    assert comments["wxr:8"].root == comments["wxr:6"]
    assert comments["wxr:8"].depth == 2
    # Only the UTC date is given for comment 7.
    assert comments["wxr:7"].created == datetime(2014, 4, 29, 15, 21, 35, tzinfo=UTC)
    assert comments["wxr:2"].imported_email == "test@example.org"  # a newline followed it
    # WordPress shows a comment's line breaks: so do we.
    assert comments["wxr:10"].body_html == (
        "<p>When you have a comment with multiple lines:<br>\nWordPress exports it like this.</p>"
    )
    assert comments["wxr:6"].body == "Zweiter."


def test_a_post_without_a_slug_is_named_by_its_link(make_essay):
    essay = make_essay("Ours.", slug="another")
    with pytest.raises(CommandError, match="No post in the file"):
        run(ISSO_WXR, "another")
    run(ISSO_WXR, "another", "--thread", "http://example.tld/?p=4")
    assert list(Comment.objects.filter(essay=essay).values_list("author_name", flat=True)) == [
        "Anonymous"
    ]


def test_isso_disqus_file_skips_deleted_posts_and_keeps_their_replies(make_essay):
    essay = make_essay("Ours.", slug="hello")
    out = run(ISSO_DISQUS, "hello", "--thread", "http://example.org/")
    comments = by_source(essay)
    # Post 9 was deleted; 11 answered it and starts a thread of its own; 6 belongs to a
    # thread the file does not have; 8 to another thread.
    assert set(comments) == {"disqus:4", "disqus:5", "disqus:11"}
    assert "Skipped: 1 deleted." in out
    assert comments["disqus:5"].parent == comments["disqus:4"]
    assert comments["disqus:11"].parent is None
    assert comments["disqus:11"].body_html == "<p>Hello, World.</p>"
    assert comments["disqus:4"].created == datetime(2013, 10, 10, 19, 20, 29, tzinfo=UTC)
    assert comments["disqus:4"].author_name == "peter"
    assert comments["disqus:4"].imported_email == "foo@bar.com"


def test_a_disqus_thread_is_found_by_the_slug_in_its_link(make_essay):
    essay = make_essay("Ours.", slug="redacted")  # .../blog/2013/02/12/redacted/index.html
    run(ISSO_DISQUS, "redacted")
    assert source_ids(essay) == ["disqus:redacted/8"]


# CommentPress paragraph signatures ----------------------------------------------------------


def test_commentpress_signature_is_computed_as_commentpress_computes_it():
    # Worked by hand from text_signature_generate: tags and entities count, letters only,
    # each distinct word (case-sensitive) once, in order.
    assert text_signature(b"<p>The quick brown fox jumps over the lazy dog. The end.</p>") == (
        "pTqbfjotlde"
    )
    # Values printed by CommentPress Core's own PHP for the CommentPress test file.
    assert text_signature(b"<p>So it goes.</p>") == "pSig"
    assert text_signature(
        b"<ul>\n<li>the first point, made plainly</li>\n<li>the second point, made at length</li>"
        b"\n</ul>"
    ) == ("ultfpmpsal")


@pytest.fixture
def on_margins(make_essay):
    return make_essay(*ON_MARGINS, slug="on-margins")


def test_commentpress_comments_land_on_their_paragraphs(on_margins):
    run(COMMENTPRESS, "on-margins")
    comments = by_source(on_margins)
    paragraphs = list(on_margins.paragraphs.order_by("position"))
    first, second, goes, points, goes_again, revised = paragraphs
    assert comments["wxr:101"].paragraph == first
    assert comments["wxr:101"].anchor_text == first.text
    assert comments["wxr:102"].paragraph == first  # a reply follows its thread
    assert comments["wxr:103"].paragraph == second
    assert comments["wxr:104"].paragraph == goes_again  # the repeated paragraph's second
    assert comments["wxr:105"].paragraph == points
    # Written on an earlier wording: the signatures are 92% alike.
    assert comments["wxr:106"].paragraph == revised
    assert comments["wxr:107"].paragraph is None  # a paragraph that is no longer there
    assert comments["wxr:108"].paragraph is None  # no signature
    assert "wxr:201" not in comments  # another post's


def test_commentpress_file_unapproved_spam_and_pings_stay_out(on_margins):
    out = run(COMMENTPRESS, "on-margins")
    comments = by_source(on_margins)
    assert not {"wxr:109", "wxr:110", "wxr:111"} & set(comments)
    assert "Skipped: 2 not approved, 1 pingback, trackback or note." in out
    # 112 answered the unapproved 109: it starts a thread, on its own signature's paragraph.
    reply = comments["wxr:112"]
    assert (reply.parent, reply.depth) == (None, 0)
    assert reply.paragraph == on_margins.paragraphs.order_by("position").first()
    assert comments["wxr:102"].imported_email == "bo.writer@example.org"


def test_commentpress_dry_run_counts_per_paragraph(on_margins):
    out = run(COMMENTPRESS, "on-margins", "--dry-run")
    first = on_margins.paragraphs.order_by("position").first()
    assert "the whole essay: 2 comments, 2 new threads" in out
    assert f"#p-{first.key} “Readers have always written" in out
    assert "3 comments, 2 new threads" in out  # 101, its reply 102, and 112
    assert Comment.objects.count() == 0


def test_hostile_html_is_inert(on_margins):
    run(COMMENTPRESS, "on-margins")
    html = by_source(on_margins)["wxr:108"].body_html
    for danger in ("<script", "javascript:", "onerror", "onclick", "<img", "title="):
        assert danger not in html
    assert '<a href="https://example.org/further" rel="nofollow ugc noopener">' in html
    tags = {part.split(">")[0].split()[0].strip("/") for part in html.split("<")[1:]}
    assert tags <= ALLOWED_TAGS


# Later exports, broken files --------------------------------------------------------------


def wxr(*comments: str, site: str = "", post_id: str = "") -> str:
    """A WXR file of one post, "test-essay", on the channel `site` (none: the post's link
    names the site, old.example.org)."""
    channel = f"<link>{site}</link><wp:base_site_url>{site}</wp:base_site_url>" if site else ""
    post = f"<wp:post_id>{post_id}</wp:post_id>" if post_id else ""
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">'
        f"<channel>{channel}<item><title>Ours</title>"
        "<link>https://old.example.org/test-essay/</link>"
        f"<wp:post_name>test-essay</wp:post_name>{post}"
        + "".join(comments)
        + "</item></channel></rss>"
    )


def wp_comment(comment_id: int, parent: int = 0, text: str = "A comment.") -> str:
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
        "<wp:comment_author>Someone</wp:comment_author>"
        "<wp:comment_author_email>someone@example.org</wp:comment_author_email>"
        "<wp:comment_date_gmt>2020-01-02 03:04:05</wp:comment_date_gmt>"
        f"<wp:comment_content>{text}</wp:comment_content>"
        "<wp:comment_approved>1</wp:comment_approved>"
        f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
    )


def test_a_later_export_adds_only_the_new_replies_under_their_threads(tmp_path, make_essay):
    essay = make_essay("Ours.")
    earlier, later = tmp_path / "earlier.xml", tmp_path / "later.xml"
    earlier.write_text(wxr(wp_comment(1), wp_comment(2, parent=1)))
    later.write_text(wxr(wp_comment(1), wp_comment(2, parent=1), wp_comment(3, parent=2)))
    run(earlier, "test-essay")
    out = run(later, "test-essay")
    comments = by_source(essay)
    assert len(comments) == 3
    assert comments["wxr:3"].parent == comments["wxr:2"]
    assert comments["wxr:3"].root == comments["wxr:1"]
    assert comments["wxr:3"].depth == 2
    assert "Already imported: 2." in out and "Created 1 comment." in out


def test_parents_that_answer_each_other_in_a_loop_still_import(tmp_path, make_essay):
    essay = make_essay("Ours.")
    broken = tmp_path / "loop.xml"
    broken.write_text(wxr(wp_comment(1, parent=2), wp_comment(2, parent=1)))
    run(broken, "test-essay")
    comments = by_source(essay)
    assert len(comments) == 2
    assert sorted(comment.depth for comment in comments.values()) == [0, 1]


def test_a_comment_with_no_text_is_skipped(tmp_path, make_essay):
    essay = make_essay("Ours.")
    empty = tmp_path / "empty.xml"
    empty.write_text(wxr(wp_comment(1, text="&lt;img src=x&gt;"), wp_comment(2)))
    out = run(empty, "test-essay")
    assert list(by_source(essay)) == ["wxr:2"]
    assert "1 no text" in out


def test_a_file_naming_no_post_of_the_essay_is_refused_with_the_posts_it_has(make_essay):
    make_essay("Ours.", slug="nothing-like-it")
    with pytest.raises(CommandError) as refused:
        run(THEME_DATA, "nothing-like-it")
    assert "template-comments/" in str(refused.value)
    assert "--thread" in str(refused.value)
    assert Comment.objects.count() == 0


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"not": "xml"}', "not well-formed"),
        ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>', "neither"),
        (
            '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
            "<rss><channel><item><title>&b;</title></item></channel></rss>",
            "document type",
        ),
        ("", "not well-formed"),
    ],
)
def test_files_that_are_not_exports_are_refused(tmp_path, make_essay, content, message):
    make_essay("Ours.")
    path = tmp_path / "export.xml"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        run(path, "test-essay")


def test_an_unknown_essay_or_a_missing_file_is_refused(make_essay):
    with pytest.raises(CommandError, match="No essay"):
        run(THEME_DATA, "no-such-essay")
    make_essay("Ours.")
    with pytest.raises(CommandError, match="No file"):
        run(IMPORTS / "no-such-file.xml", "test-essay")


def test_the_database_keeps_one_comment_per_source_id_and_essay(template_comments):
    run(THEME_DATA, "template-comments")
    copy = Comment.objects.get(source_id="wxr:wpthemetestdata.wordpress.com/1148/881")
    copy.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_reading_the_files_finds_every_post():
    assert read_export(THEME_DATA).format == "wxr"
    assert read_export(ISSO_DISQUS).format == "disqus"
    titles = [thread.title for thread in read_export(ISSO_DISQUS).threads]
    assert titles == ["Hello, World!", "", ""]


# Ids that name the site and post ----------------------------------------------------------


def test_each_id_names_the_site_the_post_and_the_comment(template_comments, make_essay):
    run(THEME_DATA, "template-comments")
    first = Comment.objects.get(essay=template_comments, author_name__startswith="John Γιάννης")
    # The blog's own address: wordpress.com's base_site_url is every such blog's.
    assert first.source_id == "wxr:wpthemetestdata.wordpress.com/1148/881"
    essay = make_essay("Ours.", slug="hello")
    run(ISSO_DISQUS, "hello", "--thread", "http://example.org/")
    reply = Comment.objects.get(essay=essay, source_id="disqus:disqusdev/5")
    assert reply.parent.source_id == "disqus:disqusdev/4"


def test_two_posts_of_one_file_whose_comment_ids_repeat_both_import(make_essay):
    """Isso's file has a comment 11 on post 18 and another on the post at ?p=4."""
    essay = make_essay("Ours.", slug="test")
    run(ISSO_WXR, "test")
    out = run(ISSO_WXR, "test", "--thread", "http://example.tld/?p=4")
    assert "Already imported: 0." in out and "Created 1 comment." in out
    elevens = Comment.objects.filter(essay=essay, source_id__endswith="/11")
    assert sorted(elevens.values_list("author_name", flat=True)) == ["Anonymous", "Letzter :/"]
    assert all(len(source_id) <= 100 for source_id in source_ids(essay))


def test_another_sites_file_with_the_same_ids_adds_its_own_threads(tmp_path, make_essay):
    essay = make_essay("Ours.")
    ours, theirs = tmp_path / "ours.xml", tmp_path / "theirs.xml"
    ours.write_text(
        wxr(wp_comment(1), wp_comment(2, parent=1), site="https://one.example", post_id="3")
    )
    theirs.write_text(
        wxr(
            wp_comment(1, text="Their first."),
            wp_comment(2, parent=1, text="Their reply."),
            site="http://two.example/blog/",
            post_id="3",
        )
    )
    run(ours, "test-essay")
    out = run(theirs, "test-essay")
    assert "Already imported: 0." in out and "Created 2 comments." in out
    comments = {comment.source_id: comment for comment in Comment.objects.filter(essay=essay)}
    assert set(comments) == {
        "wxr:one.example/3/1",
        "wxr:one.example/3/2",
        "wxr:two.example/blog/3/1",
        "wxr:two.example/blog/3/2",
    }
    reply = comments["wxr:two.example/blog/3/2"]
    assert reply.parent.body == "Their first." and reply.body == "Their reply."
    # The same file again adds nothing; http or https, the site is the same.
    theirs.write_text(theirs.read_text().replace("http://two", "https://two"))
    assert "Created 0 comments." in run(theirs, "test-essay")


def test_a_long_site_address_is_hashed_within_the_field(tmp_path, make_essay):
    essay = make_essay("Ours.")
    site = "https://example.org/" + "very-long-folder/" * 8
    export = tmp_path / "long.xml"
    export.write_text(wxr(wp_comment(1), wp_comment(2, parent=1), site=site, post_id="7"))
    run(export, "test-essay")
    assert "Created 0 comments." in run(export, "test-essay")
    comments = {comment.source_id: comment for comment in Comment.objects.filter(essay=essay)}
    assert len(comments) == 2
    assert all(len(source_id) <= 100 and source_id.startswith("wxr:#") for source_id in comments)
    first, second = sorted(comments)
    assert comments[second].parent == comments[first]


# Long threads, odd orders, odd paths ------------------------------------------------------


def test_a_deep_chain_listed_replies_first_keeps_its_shape_in_few_queries(tmp_path, make_essay):
    essay = make_essay("Ours.")
    depth = 1500
    export = tmp_path / "deep.xml"
    export.write_text(
        wxr(*(wp_comment(n, parent=n - 1 if n > 1 else 0) for n in range(depth, 0, -1)))
    )
    with CaptureQueriesContext(connection) as queries:
        run(export, "test-essay")
    # Written in batches, not a query (and a page-version bump) per level of the thread.
    assert len(queries.captured_queries) < 150
    comments = by_source(essay)
    assert len(comments) == depth
    top, deepest = comments["wxr:1"], comments[f"wxr:{depth}"]
    assert (top.parent, top.root, top.depth) == (None, None, 0)
    assert deepest.parent == comments[f"wxr:{depth - 1}"]
    assert deepest.root == top and deepest.depth == depth - 1
    # Parents were written first: ids follow the thread.
    assert top.pk < comments["wxr:2"].pk < deepest.pk
    assert "Created 0 comments." in run(export, "test-essay")


def test_ordering_replies_after_parents_takes_linear_time():
    """100,000 comments, each listed before its parent, and as many replies under a chain
    of left-out ones: a pass per level, or a walk up the chain for each reply, would take
    hours."""
    count = 100_000
    ids = [f"c{n}" for n in range(count, 0, -1)]
    parents = {f"c{n}": f"c{n - 1}" if n > 1 else "" for n in range(1, count + 1)}
    started = time.perf_counter()
    order = _parents_first(ids, parents)
    assert order == [f"c{n}" for n in range(1, count + 1)]

    def comment(source_id: str, parent_id: str) -> SourceComment:
        return SourceComment(source_id, parent_id, "", "", None, "")

    left_out = {f"s{n}": comment(f"s{n}", f"s{n - 1}" if n > 1 else "top") for n in range(count)}
    replies = {f"r{n}": comment(f"r{n}", f"s{count - 1}") for n in range(count)}
    by_id = {**left_out, **replies, "top": comment("top", "")}
    kept = {*replies, "top"}
    resolved = _nearest_kept_parents(by_id, dict.fromkeys([*replies, "top"]), kept)
    assert set(resolved.values()) == {"top", ""} and resolved["r7"] == "top"
    assert time.perf_counter() - started < 10


def test_a_directory_is_refused_cleanly(tmp_path, make_essay):
    make_essay("Ours.")
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path, "test-essay")


def test_the_summary_counts_in_words(tmp_path, make_essay):
    make_essay("Ours.")
    one = tmp_path / "one.xml"
    one.write_text(wxr(wp_comment(1)))
    out = run(one, "test-essay", "--dry-run")
    assert ": 1 comment in the file" in out
    assert "New: 1 comment, 1 new thread." in out
    assert "the whole essay: 1 comment, 1 new thread" in out
    assert "Dry run: 1 comment would be created." in out
    assert "Created 1 comment." in run(one, "test-essay")
