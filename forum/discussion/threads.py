"""Reads for the discussion pages: each loads what a page shows in a constant number of queries.

A thread is loaded in one query and its tree is built here, in Python: no recursive SQL,
no ordering column to renumber when a reply arrives.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, Value, Window
from django.db.models.functions import Coalesce, NullIf, RowNumber
from django.urls import reverse

from essays.hooks import ThreadSummary
from essays.models import Essay, EssayRevision, Paragraph
from forum.compiled import CompiledQuery

from .access import can_read_text, excerpt_for
from .models import Comment
from .policy import policy

THREAD_ORDERS = ("oldest", "newest")
# Threads shown at once in a discussion; the rest are a click away ("More threads"), so
# that thousands of comments never render in one response.
THREADS_PER_PAGE = 20
# Replies shown under each thread there: the first written, arranged as a conversation; a
# longer thread continues on its own page, REPLIES_PER_PAGE at a time.
REPLIES_SHOWN = 10
REPLIES_PER_PAGE = 100
# Replies deeper than this stop indenting (see site.css) and say whom they answer instead.
MAX_INDENT_DEPTH = 4


@dataclass
class ThreadNode:
    comment: Comment
    parent: "ThreadNode | None" = None
    replies: list["ThreadNode"] = field(default_factory=list)
    # Whether this viewer sees only the placeholder (moderators see every text).
    as_placeholder: bool = False
    by_moderator: bool = False
    thread_locked: bool = False
    # On a thread's first comment: replies not shown here (they are on the thread's page).
    hidden_replies: int = 0
    # In a thread's own page every reply is listed in the order written, naming its parent.
    flat: bool = False

    @property
    def names_its_parent(self) -> bool:
        return self.parent is not None and (self.flat or self.comment.depth >= MAX_INDENT_DEPTH)


def build_thread(
    comments: list[Comment],
    *,
    order: str = "oldest",
    moderator_view: bool = False,
    moderator_ids: frozenset[int] = frozenset(),
    viewer=None,
) -> list[ThreadNode]:
    """Arrange comments (oldest first) into trees; "newest" puts the newest threads first.

    Replies always read oldest first, as a conversation. A placeholder (deleted or removed)
    is kept only while it has a visible reply below it; a reply whose parent is not shown
    is not shown either.
    """
    nodes = {
        comment.pk: ThreadNode(
            comment,
            as_placeholder=not moderator_view and comment.is_placeholder_for(viewer),
            by_moderator=comment.author_id in moderator_ids,
        )
        for comment in comments
    }
    roots = []
    for comment in comments:
        node = nodes[comment.pk]
        if comment.parent_id is None:
            roots.append(node)
        elif comment.parent_id in nodes:
            node.parent = nodes[comment.parent_id]
            node.parent.replies.append(node)
    for root in roots:
        _mark_locked(root, locked=root.comment.locked_at is not None)
    if not moderator_view:
        roots = _prune_empty_placeholders(roots)
    return roots[::-1] if order == "newest" else roots


def _mark_locked(node: ThreadNode, *, locked: bool) -> None:
    node.thread_locked = locked
    for reply in node.replies:
        _mark_locked(reply, locked=locked)


def _prune_empty_placeholders(nodes: list[ThreadNode]) -> list[ThreadNode]:
    kept = []
    for node in nodes:
        node.replies = _prune_empty_placeholders(node.replies)
        if node.replies or not node.as_placeholder:
            kept.append(node)
    return kept


@dataclass
class ThreadPage:
    """One page of a discussion's threads, each whole."""

    threads: list[ThreadNode]
    number: int
    has_next: bool

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1


def thread_page(
    *,
    essay: Essay,
    paragraph: Paragraph | None = None,
    order: str = "oldest",
    viewer=None,
    number: int = 1,
    containing: Comment | None = None,
) -> ThreadPage:
    """A page of the threads of a paragraph (or of the whole essay), as this viewer may see
    them (their own comments awaiting review, everything for a moderator): the threads'
    roots, THREADS_PER_PAGE at a time in the order asked, then everything below them. Two
    queries (the moderators' ids, the comments), whatever the number of comments; three with
    `containing` (the page then holds that comment's thread)."""
    moderator_view = viewer is not None and policy().is_moderator(viewer)
    shown = Comment.objects.shown_in_threads(viewer, moderator=moderator_view)
    region = shown.on_whole_essay(essay) if paragraph is None else shown.on_paragraph(paragraph)
    roots = region.filter(parent__isnull=True)
    newest_first = order == "newest"
    if containing is not None:
        number = page_number_of(containing, order=order, viewer=viewer)
    start = (number - 1) * THREADS_PER_PAGE
    # One more root than the page holds: whether there is a next page. (A subquery: the
    # roots and everything below them come in one query.)
    page_roots = roots.order_by("-id" if newest_first else "id").values("id")[
        start : start + THREADS_PER_PAGE + 1
    ]
    # Each thread's first comment and its first REPLIES_SHOWN replies in the order written
    # (a reply comes after the comment it answers, so they make a tree), with the number of
    # its replies: a thread of thousands costs what a thread of ten does.
    thread = Coalesce("root_id", "id")
    comments = list(
        region.filter(Q(pk__in=page_roots) | Q(root_id__in=page_roots))
        .annotate(
            place=Window(RowNumber(), partition_by=[thread], order_by=F("id").asc()),
            in_thread=Window(Count("id"), partition_by=[thread]),
        )
        .filter(place__lte=REPLIES_SHOWN + 1)
        .select_related("author")
        .order_by("id")
    )
    root_ids = sorted((c.pk for c in comments if c.parent_id is None), reverse=newest_first)
    has_next = len(root_ids) > THREADS_PER_PAGE
    if has_next:
        extra = root_ids[THREADS_PER_PAGE]
        comments = [c for c in comments if extra not in (c.pk, c.root_id)]
    threads = build_thread(
        comments,
        order=order,
        moderator_view=moderator_view,
        moderator_ids=frozenset(policy().moderator_ids()),
        viewer=viewer,
    )
    for root in threads:
        root.hidden_replies = max(root.comment.in_thread - 1 - REPLIES_SHOWN, 0)
    return ThreadPage(threads=threads, number=number, has_next=has_next)


def thread_replies_page(root: Comment, *, viewer=None, number: int = 1) -> ThreadPage:
    """A thread's replies in the order written, REPLIES_PER_PAGE at a time, each naming the
    comment it answers (its first comment comes with `root`). One query, and the
    moderators' ids."""
    moderator_view = viewer is not None and policy().is_moderator(viewer)
    moderator_ids = frozenset(policy().moderator_ids())
    start = (number - 1) * REPLIES_PER_PAGE
    replies = list(
        Comment.objects.shown_in_threads(viewer, moderator=moderator_view)
        .filter(root_id=root.pk)
        .select_related("author", "parent__author")
        .order_by("id")[start : start + REPLIES_PER_PAGE + 1]
    )
    has_next = len(replies) > REPLIES_PER_PAGE

    def node(comment: Comment, **extra) -> ThreadNode:
        return ThreadNode(
            comment,
            as_placeholder=not moderator_view and comment.is_placeholder_for(viewer),
            by_moderator=comment.author_id in moderator_ids,
            thread_locked=root.locked_at is not None,
            **extra,
        )

    nodes = [
        node(reply, parent=node(reply.parent), flat=True) for reply in replies[:REPLIES_PER_PAGE]
    ]
    return ThreadPage(threads=nodes, number=number, has_next=has_next)


def _viewer_kind(viewer) -> tuple[bool, bool]:
    """(moderator, member): what shown_in_threads' query depends on, of a viewer."""
    moderator = viewer is not None and policy().is_moderator(viewer)
    return moderator, not moderator and viewer is not None and viewer.is_authenticated


def _shown_to(kind: tuple[bool, bool], viewer_id):
    moderator, member = kind
    viewer = get_user_model()(pk=viewer_id) if member else None
    return Comment.objects.shown_in_threads(viewer, moderator=moderator)


def _counted(comments, by: str):
    """One row, (how many), or none for none: a count as a query of rows (CompiledQuery
    runs those), grouped by a column every counted comment shares."""
    return comments.order_by().values(by).annotate(counted=Count("pk")).values_list("counted")


def _threads_before(shape, *, viewer_id, essay_id, paragraph_id, root_id):
    kind, on_paragraph, newest = shape
    shown = _shown_to(kind, viewer_id).filter(essay_id=essay_id, parent__isnull=True)
    region = (
        shown.filter(paragraph_id=paragraph_id)
        if on_paragraph
        else shown.filter(paragraph__isnull=True)
    )
    before = region.filter(pk__gt=root_id) if newest else region.filter(pk__lt=root_id)
    return _counted(before, "essay_id")


def _replies_before(shape, *, viewer_id, root_id, comment_id):
    return _counted(
        _shown_to(shape, viewer_id).filter(root_id=root_id, pk__lt=comment_id), "root_id"
    )


# Asked as a reader lands after posting: the page that holds their comment. The ids that
# stand in are never sent; the paragraph's is unused for the whole essay's threads.
THREADS_BEFORE = CompiledQuery(
    _threads_before,
    viewer_id=-7_340_011,
    essay_id=-7_340_012,
    paragraph_id=-7_340_013,
    root_id=-7_340_014,
)
REPLIES_BEFORE = CompiledQuery(
    _replies_before, viewer_id=-7_340_015, root_id=-7_340_016, comment_id=-7_340_017
)


def _count_of(rows) -> int:
    return rows[0][0] if rows else 0


def page_number_of(comment: Comment, *, order: str = "oldest", viewer=None) -> int:
    """The page of its discussion (in `order`) that holds `comment`'s thread."""
    kind = _viewer_kind(viewer)
    before = THREADS_BEFORE.rows(
        shape=(kind, comment.paragraph_id is not None, order == "newest"),
        viewer_id=getattr(viewer, "pk", None) or 0,
        essay_id=comment.essay_id,
        paragraph_id=comment.paragraph_id or 0,
        root_id=comment.thread_root_id,
    )
    return _count_of(before) // THREADS_PER_PAGE + 1


def replies_before(comment: Comment, *, viewer=None) -> int:
    """How many replies of `comment`'s thread, as this viewer sees them, came before it."""
    return _count_of(
        REPLIES_BEFORE.rows(
            shape=_viewer_kind(viewer),
            viewer_id=getattr(viewer, "pk", None) or 0,
            root_id=comment.thread_root_id,
            comment_id=comment.pk,
        )
    )


def thread_of(comment: Comment, *, viewer=None) -> list[ThreadNode]:
    """The one thread `comment` belongs to, from its root, as this viewer may see it."""
    moderator_view = viewer is not None and policy().is_moderator(viewer)
    root_id = comment.thread_root_id
    comments = (
        Comment.objects.shown_in_threads(viewer, moderator=moderator_view)
        .filter(Q(pk=root_id) | Q(root_id=root_id))
        .select_related("author")
        .order_by("id")
    )
    return build_thread(
        list(comments),
        moderator_view=moderator_view,
        moderator_ids=frozenset(policy().moderator_ids()),
        viewer=viewer,
    )


def revisions_after(root: Comment):
    """The essay's revisions published after this thread was written, newest first: those
    that may have taken up what it says. (A response imported without a date has only the
    revision it was written against to go by.)"""
    revisions = EssayRevision.objects.filter(
        essay_id=root.essay_id, number__gt=root.anchor_revision
    )
    if root.created is not None:
        revisions = revisions.filter(created__gt=root.created)
    return revisions.order_by("-number")


def published_count(*, essay: Essay, paragraph: Paragraph | None) -> int:
    comments = Comment.objects.published()
    if paragraph is None:
        return comments.on_whole_essay(essay).count()
    return comments.on_paragraph(paragraph).count()


@dataclass
class Margin:
    """What the margin of the reading page shows beside one paragraph."""

    count: int = 0
    # The passages its published comments quote and that are still in it, each once:
    # (quote, prefix), for discussion.js to highlight.
    passages: list[tuple[str, str]] = field(default_factory=list)


def margins_by_paragraph(essay: Essay) -> dict[int, Margin]:
    """Published comments per paragraph id, and the passages they quote as the paragraph
    reads now (Comment.passage: a revision may have edited one): one query, grouped by
    passage, so it costs what the counts alone did whatever the number of comments."""
    rows = (
        Comment.objects.published()
        .filter(essay=essay, paragraph__isnull=False)
        .annotate(passage=Coalesce(NullIf("quote_now", Value("")), "quote"))
        .values("paragraph_id", "passage", "quote_prefix", "quote_lost")
        .annotate(count=Count("id"))
        .order_by("paragraph_id", "passage", "quote_prefix")
    )
    margins: dict[int, Margin] = {}
    for row in rows:
        margin = margins.setdefault(row["paragraph_id"], Margin())
        margin.count += row["count"]
        if row["passage"] and not row["quote_lost"]:
            margin.passages.append((row["passage"], row["quote_prefix"]))
    return margins


# Heat marks: how dense a paragraph's discussion is beside the busiest of its essay. A
# paragraph of an essay where nothing is busy stays quiet (at least this many comments make
# the top level).
HEAT_LEVELS = 4
HEAT_FLOOR = 8


def heat_level(count: int, busiest: int) -> int:
    """0 for no discussion, else 1..HEAT_LEVELS by share of the busiest paragraph's count."""
    if count <= 0:
        return 0
    return max(1, min(HEAT_LEVELS, -(-HEAT_LEVELS * count // max(busiest, HEAT_FLOOR))))


def essays_with_comment_counts():
    return Essay.objects.published().annotate(
        comment_count=Count("comments", filter=Q(comments__status=Comment.Status.PUBLISHED))
    )


def published_comments_by(user):
    """A member's published comments, newest first, with what they are attached to."""
    return (
        Comment.objects.published()
        .filter(author=user, essay__in=Essay.objects.published())
        .select_related("essay", "paragraph")
        .order_by("-id")
    )


def orphaned_threads(*, essay: Essay, viewer=None) -> list[tuple[Paragraph, list[ThreadNode]]]:
    """Threads whose paragraph has left the essay, grouped by that paragraph (one query)."""
    moderator_view = viewer is not None and policy().is_moderator(viewer)
    comments = list(
        Comment.objects.shown_in_threads(viewer, moderator=moderator_view)
        # Through the retired paragraphs (few), not the essay's comments (any number).
        .filter(paragraph__in=essay.paragraphs.filter(retired_in__isnull=False))
        .select_related("author", "paragraph")
        .order_by("paragraph__retired_in", "paragraph__position", "id")
    )
    groups: dict[int, list[Comment]] = {}
    paragraphs: dict[int, Paragraph] = {}
    for comment in comments:
        groups.setdefault(comment.paragraph_id, []).append(comment)
        paragraphs[comment.paragraph_id] = comment.paragraph
    result = []
    for paragraph_id, group in groups.items():
        thread = build_thread(group, moderator_view=moderator_view, viewer=viewer)
        if thread:
            result.append((paragraphs[paragraph_id], thread))
    return result


def threads_on_paragraphs(
    *, essay: Essay, paragraphs: Sequence[Paragraph], viewer
) -> dict[int, list[ThreadSummary]]:
    """The threads on these paragraphs of `essay`, as `viewer` may see them: essays' question
    for the editor's preview of a revision (essays/hooks.py, registered in apps.py). Deleted
    threads are left out; one query, and the moderator check."""
    roots = (
        Comment.objects.filter(essay=essay, parent__isnull=True, paragraph__in=paragraphs)
        .exclude(status=Comment.Status.DELETED)
        .select_related("author")
        .order_by("paragraph__position", "id")
    )
    moderator_view = viewer is not None and policy().is_moderator(viewer)
    threads: dict[int, list[ThreadSummary]] = {}
    for root in roots:
        root.essay = essay  # the access rule reads it: no query per thread
        if root.status == Comment.Status.PENDING and not can_read_text(
            root, viewer, moderator=moderator_view
        ):
            continue  # awaiting review: its author's and the moderators' to know of
        excerpt = excerpt_for(root, viewer, moderator=moderator_view)
        threads.setdefault(root.paragraph_id, []).append(
            ThreadSummary(
                author=root.author_display,
                excerpt=excerpt,
                placeholder="" if excerpt else root.placeholder_text,
                url=reverse("discussion:comment_permalink", kwargs={"pk": root.pk}),
            )
        )
    return threads


def new_comments_count(*, essay: Essay, paragraph: Paragraph | None, viewer, since) -> int:
    """How many comments by others in a paragraph's (or the whole essay's) discussion,
    written after `since`, this viewer may read: for a reader, published ones; for a
    moderator also those awaiting review or hidden after reports (their threads show them,
    and they are what a moderator looks for), never removed or deleted ones (nothing new to
    read there). A reader's own comments are never new to them. One query (and the
    moderator check), whatever the number."""
    moderator_view = viewer is not None and policy().is_moderator(viewer)
    shown = Comment.objects.shown_in_threads(viewer, moderator=moderator_view)
    region = shown.on_whole_essay(essay) if paragraph is None else shown.on_paragraph(paragraph)
    readable = (
        [Comment.Status.PUBLISHED, Comment.Status.PENDING, Comment.Status.HIDDEN]
        if moderator_view
        else [Comment.Status.PUBLISHED]
    )
    new = region.filter(created__gt=since, status__in=readable)
    if viewer is not None and viewer.is_authenticated:
        new = new.exclude(author=viewer)
    return new.count()
