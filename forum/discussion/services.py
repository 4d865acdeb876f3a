"""Every change to the discussion goes through here: views validate input and call one service.

Each service checks permission itself (a view cannot forget), makes one atomic change and
announces it after commit.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from essays.models import Essay, Paragraph
from essays.services import check_can_publish
from forum.compiled import CompiledObjects, CompiledQuery
from forum.refusals import Refused, consume_or_refuse

from .access import can_read_text
from .markup import has_visible_text, normalize_body, render_comment, render_guidelines
from .models import Comment, CommentRevision, Guidelines
from .policy import policy
from .quotes import (
    QUOTE_CONTEXT_STORED,
    QUOTE_MAX_LENGTH,
    Found,
    context_around,
    find_passage,
    locate_quote,
    whole_words,
)
from .readers import reader_state_forget
from .signals import comment_held, comment_published, comment_removed
from .threads import revisions_after

# Ids named in one query's IN list: within SQLite's oldest limit on parameters (999).
IDS_PER_QUERY = 900


def _confirmed_addresses(user, email):
    """The member's confirmed address that is their account's address (either may be an
    expression: OuterRef in the query that locks the author)."""
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True)


def has_verified_email(user) -> bool:
    return _confirmed_addresses(user, user.email).exists()


def _unconfirmed_address(user) -> Refused:
    return Refused(
        _(
            "Confirm your email address before your first comment: follow the link we "
            "sent to %(email)s, or ask for a new one from your account settings. "
            "Your text is kept here."
        )
        % {"email": user.email},
        status=403,
    )


def _check_member(user) -> None:
    """Raise Refused unless `user` is a signed-in, active member (asks the database nothing)."""
    if user is None or not user.is_authenticated:
        raise Refused(_("Log in to post. Your text is kept here."), status=403)
    if not user.is_active:
        raise Refused(_("This account cannot post."), status=403)


def check_can_comment(user) -> None:
    """Raise Refused unless `user` may write comments at all."""
    _check_member(user)
    refusal = policy().posting_refusal(user)
    if refusal:
        raise Refused(refusal, status=403)
    if not has_verified_email(user):
        raise _unconfirmed_address(user)


def _author_standing(policy_in_use, *, author_id, essay_id, now):
    """The author's row, to lock, with what check_can_comment asks of them (active, not
    suspended at `now`, their address confirmed) and whether the essay is open."""
    return (
        get_user_model()
        .objects.select_for_update()
        .filter(pk=author_id, is_active=True)
        .annotate(
            essay_open=Exists(Essay.objects.filter(pk=essay_id, comments_open=True)),
            refused=policy_in_use.posting_refused(OuterRef("pk"), now=now),
            verified=Exists(_confirmed_addresses(OuterRef("pk"), OuterRef("email"))),
        )
        .values_list("essay_open", "refused", "verified")[:1]
    )


AUTHOR_STANDING = CompiledQuery(
    _author_standing,
    author_id=-7_340_001,
    essay_id=-7_340_002,
    now=datetime(1901, 2, 3, 4, 5, 6, 7, tzinfo=UTC),
)


def _parent_locked(shape, *, comment_id):
    return Comment.objects.select_for_update(of=("self",)).filter(pk=comment_id)


# The comment a reply answers, read afresh and locked, with its paragraph and its thread's
# first comment (only the parent's row is locked).
PARENT_LOCKED = CompiledObjects(
    _parent_locked, model=Comment, related=("paragraph", "root"), comment_id=-7_340_025
)


def _lock_author(author, essay: Essay) -> bool:
    """Lock the author's row for the rest of the transaction (one author's posts are made
    one at a time) and check, in the same query, what check_can_comment checks: the
    account active, not suspended, its address confirmed. Returns whether the essay is
    open, asked of the database rather than of the `essay` the caller holds (a moderator
    may just have closed it)."""
    standing = AUTHOR_STANDING.rows(
        shape=policy(), author_id=author.pk, essay_id=essay.pk, now=timezone.now()
    )
    if not standing:
        raise Refused(_("This account cannot post."), status=403)
    essay_open, refused, verified = standing[0]
    if refused:
        raise Refused(
            policy().posting_refusal(author) or _("This account cannot post now."), status=403
        )
    if not verified:
        raise _unconfirmed_address(author)
    return bool(essay_open)


def clean_body(body: str) -> str:
    body = normalize_body(body)
    if not body.strip():
        raise Refused(_("Your comment is empty. Write something before posting."))
    if len(body) > settings.COMMENT_MAX_LENGTH:
        raise Refused(
            _("Your comment is %(length)s characters long; the limit is %(limit)s.")
            % {"length": f"{len(body):,}", "limit": f"{settings.COMMENT_MAX_LENGTH:,}"}
        )
    return body


def render_body(body: str) -> tuple[str, str]:
    """Check a body and render it: (the source to store, the HTML to publish)."""
    body = clean_body(body)
    blocked = policy().blocked_words(body)
    if blocked:
        raise Refused(
            _("Your comment uses words this site does not publish: %(words)s. Your text is kept.")
            % {"words": ", ".join(blocked)}
        )
    html = render_comment(body)
    if not has_visible_text(html):
        raise Refused(_("Your comment has no text to show. Write something readable."))
    return body, html


def comment_preview(*, body: str, client: str) -> str:
    """The exact HTML a body would publish as; nothing is stored. One limit for every path
    that previews (`client` is the member, or the address of a visitor)."""
    consume_or_refuse(
        "preview",
        client,
        settings.PREVIEW_RATE_LIMITS,
        _("Too many previews. Try again in %(seconds)s seconds; your text is kept here."),
    )
    return render_body(body)[1]


def _recent_posts_alike(shape, *, author_id, since, body, quote):
    # Only the author's recent comments are asked for, through their (author, created)
    # index, and the place is compared by the caller: with the place in the query,
    # PostgreSQL may walk every comment of the essay's region instead (thousands, on a busy
    # essay).
    return (
        Comment.objects.filter(author_id=author_id, created__gte=since, body=body, quote=quote)
        .exclude(status=Comment.Status.DELETED)
        .order_by("-id")
        .values_list("pk", "essay_id", "paragraph_id", "parent_id")
    )


RECENT_POSTS_ALIKE = CompiledQuery(
    _recent_posts_alike,
    author_id=-7_340_003,
    since=datetime(1901, 2, 3, 4, 5, 6, 8, tzinfo=UTC),
    body="stand-in body 7340004",
    quote="stand-in quote 7340005",
)


def _same_post_just_made(*, author, essay, paragraph, parent, body, quote) -> Comment | None:
    """The comment this author has just posted with the very same text in the same place,
    if any: a double click or a retry after a network error is answered with it."""
    since = timezone.now() - timedelta(seconds=settings.DUPLICATE_POST_WINDOW)
    place = (essay.pk, getattr(paragraph, "pk", None), getattr(parent, "pk", None))
    recent = RECENT_POSTS_ALIKE.rows(author_id=author.pk, since=since, body=body, quote=quote)
    earlier = next((pk for pk, *where in recent if tuple(where) == place), None)
    return None if earlier is None else Comment.objects.get(pk=earlier)


def _consume_posting_allowance(user) -> None:
    consume_or_refuse(
        "comment",
        str(user.pk),
        settings.COMMENT_RATE_LIMITS,
        _(
            "You are posting faster than the site allows. Try again in %(seconds)s "
            "seconds; your text is kept here."
        ),
    )


def _announce(signal, comment: Comment) -> None:
    transaction.on_commit(lambda: signal.send(sender=Comment, comment=comment))


# The rows a new comment points to, which comment_post has just read (the essay, open; the
# author and the parent, locked; the paragraph, loaded by the caller and never deleted):
# full_clean would ask the database once more whether each exists, one query apiece, and
# the foreign keys check them again on insert.
RELATIONS_CHECKED_BY_POST = ["essay", "paragraph", "parent", "root", "author"]


def comment_post(
    *,
    author,
    essay: Essay,
    body: str,
    paragraph: Paragraph | None = None,
    parent: Comment | None = None,
    quote: str = "",
    quote_prefix: str = "",
    quote_suffix: str = "",
) -> Comment:
    """Publish a comment on a paragraph, on the whole essay, or in reply to a comment,
    optionally on an exact passage of the paragraph.

    A reply always joins its parent's thread: same essay, same paragraph. The same post sent
    twice within a few seconds is stored once: the second call returns the first comment.
    The returned comment carries `hold_reasons` (empty when it is published).
    """
    _check_member(author)
    # The body is rendered before the transaction (on SQLite a transaction holds the whole
    # database's write lock), and what is wrong with it is said after the author's standing
    # (a suspended reader is told so, not that their text is empty).
    try:
        rendered, body_refusal = render_body(body), None
    except Refused as refusal:
        rendered, body_refusal = None, refusal
    with transaction.atomic():
        essay_open = _lock_author(author, essay)
        if body_refusal is not None:
            raise body_refusal
        body, body_html = rendered
        if not essay_open:
            raise Refused(_("Comments are closed on this essay."), status=403)
        if parent is not None:
            # Read the parent afresh, locked: it may have been deleted since the form was shown.
            # Its thread's root comes in the same query (only the parent's row is locked).
            parent = PARENT_LOCKED.get(comment_id=parent.pk)
            if parent is None:
                raise Refused(_("That comment is no longer there to reply to."), status=409)
            if parent.essay_id != essay.pk:
                raise Refused(_("That comment belongs to another essay."), status=400)
            if parent.status != Comment.Status.PUBLISHED:
                raise Refused(_("That comment is no longer there to reply to."), status=409)
            root = parent.root or parent
            if root.locked_at is not None:
                raise Refused(_("This thread is locked: it takes no new replies."), status=403)
            paragraph = parent.paragraph
        if paragraph is not None:
            if paragraph.essay_id != essay.pk:
                raise Refused(_("That paragraph belongs to another essay."), status=400)
            # The comment's address names the essay through its paragraph: no query for it.
            paragraph.essay = essay
            if parent is None and (not paragraph.is_live or not paragraph.is_commentable):
                raise Refused(_("That part of the essay cannot be discussed."), status=400)
        quote, quote_prefix, quote_suffix, quote_start = _check_quote(
            paragraph, quote.strip(), quote_prefix, quote_suffix
        )
        earlier = _same_post_just_made(
            author=author, essay=essay, paragraph=paragraph, parent=parent, body=body, quote=quote
        )
        if earlier is not None:
            earlier.hold_reasons = []
            return earlier
        _consume_posting_allowance(author)
        for limit in policy().posting_limits(author=author, parent=parent):
            consume_or_refuse(limit.scope, str(author.pk), limit.limits, limit.message)
        reasons = policy().hold_reasons(author=author, essay=essay, body=body)
        comment = Comment(
            essay=essay,
            paragraph=paragraph,
            **Comment.place_in_thread(parent),
            author=author,
            body=body,
            body_html=body_html,
            status=Comment.Status.PENDING if reasons else Comment.Status.PUBLISHED,
            # A reply belongs to its thread's anchor (moved, orphaned: it answers the same text).
            anchor_text=parent.anchor_text if parent else paragraph.text if paragraph else "",
            anchor_revision=parent.anchor_revision if parent else essay.revision,
            anchor_status=parent.anchor_status if parent else Comment.AnchorStatus.PLACED,
            reattached_at=parent.reattached_at if parent else None,
            quote=quote,
            quote_prefix=quote_prefix,
            quote_suffix=quote_suffix,
            quote_start=quote_start,
        )
        comment.full_clean(exclude=RELATIONS_CHECKED_BY_POST)
        comment.save()
        comment.hold_reasons = reasons
        if reasons:
            # Their pages show it to them alone, awaiting review (readers.py).
            reader_state_forget(author.pk)
            comment_held.send(sender=Comment, comment=comment, reasons=reasons)
        else:
            comment_published.send(sender=Comment, comment=comment)
        return comment


def _check_quote(
    paragraph, quote: str, prefix: str, suffix: str
) -> tuple[str, str, str, int | None]:
    """A quoted passage must be text of the paragraph; its context and place are taken
    from there."""
    if not quote:
        return "", "", "", None
    if paragraph is None:
        raise Refused(_("Only a paragraph's text can be quoted."))
    if len(quote) > QUOTE_MAX_LENGTH:
        raise Refused(
            _("Quote at most %(limit)s characters of the paragraph.")
            % {"limit": f"{QUOTE_MAX_LENGTH:,}"}
        )
    start = locate_quote(
        paragraph.text, quote, prefix[-QUOTE_CONTEXT_STORED:], suffix[:QUOTE_CONTEXT_STORED]
    )
    if start is None:
        raise Refused(
            _("The quoted passage is not in this paragraph: copy it exactly, or leave it empty.")
        )
    start, end = whole_words(paragraph.text, start, start + len(quote))
    if end - start <= QUOTE_MAX_LENGTH:
        quote = paragraph.text[start:end]
    prefix, suffix = context_around(paragraph.text, start, quote)
    return quote, prefix, suffix, start


def comments_reanchor(
    *,
    essay,
    changed: set[int],
    moved: set[int],
    retired: set[int],
    followed: dict[int, int] | None = None,
    parts: dict[int, list[int]] | None = None,
) -> int:
    """After a revision, put every comment on a paragraph where its text went, and say what
    became of it: placed (its paragraph's text unchanged), moved (the paragraph changed,
    moved or joined another: the comment will show the text it was written against) or
    orphaned (no successor: shown under "On earlier versions").

    A thread follows its paragraph into the one it was merged into (`followed`); a thread on
    a passage of a paragraph that was split (`parts`) goes to the part that holds its
    passage. Where a passage's paragraph changed, the passage is found again, approximately
    if it was edited (its text and place now in quote_now and quote_start, the context
    around it in quote_prefix/suffix; `quote` keeps what the comment answered); one that
    nothing close to remains is marked lost. Returns how many comments changed."""
    followed, parts = followed or {}, parts or {}
    comments = list(
        Comment.objects.filter(essay=essay, paragraph__isnull=False)
        .select_related("paragraph")
        .only(
            *("paragraph_id", "root_id", "anchor_text", "anchor_status", "quote_lost"),
            *("quote", "quote_prefix", "quote_suffix", "quote_now", "quote_start"),
            *("paragraph__text", "paragraph__retired_in"),
        )
    )
    # The paragraphs merged and split paragraphs' discussions go to (few), with the text now.
    receiving = {*followed.values(), *(pk for ids in parts.values() for pk in ids)}
    paragraphs = {p.pk: p for p in Paragraph.objects.filter(pk__in=receiving)}
    for comment in comments:
        paragraphs.setdefault(comment.paragraph_id, comment.paragraph)
    # Where each thread goes: its first comment decides for its replies.
    thread_goes_to = {}
    for comment in comments:
        if comment.root_id is None:
            here = comment.paragraph_id
            there = followed.get(here, here)
            if here in parts and comment.quote:
                there = _part_holding(comment, [paragraphs[pk] for pk in parts[here]]) or there
            thread_goes_to[comment.pk] = there
    # Grouped by what they become: one UPDATE per outcome, however many comments (a book's
    # revision re-anchors tens of thousands; bulk_update would write a CASE per row). Only
    # passages found again, each in its own place, are written one by one.
    outcomes: dict[tuple[int, str, bool], list[int]] = defaultdict(list)
    refound = []
    for comment in comments:
        here = comment.paragraph_id
        there = thread_goes_to.get(comment.root_id or comment.pk, followed.get(here, here))
        paragraph = paragraphs[there]
        if there in retired or not paragraph.is_live:
            status = Comment.AnchorStatus.ORPHANED
        elif comment.anchor_text != paragraph.text or there in moved or there != here:
            status = Comment.AnchorStatus.MOVED
        else:
            status = Comment.AnchorStatus.PLACED
        # An orphaned passage comment is shown with the text it was written about, which
        # holds its passage: it is not lost, and is not looked for in another paragraph.
        quote_lost = comment.quote_lost
        if (
            comment.quote
            and paragraph.is_live
            and (there != here or there in changed)
            and _passage_refound(comment, paragraph.text)
        ):
            comment.paragraph_id, comment.anchor_status = there, status
            refound.append(comment)
            continue
        if (there, status, quote_lost) != (here, comment.anchor_status, comment.quote_lost):
            # Grouped by paragraph only for the few threads that change paragraph.
            outcomes[(there if there != here else None, status, quote_lost)].append(comment.pk)
    # The revision has moved the essay's discussion_version already: the plain manager's
    # update, not the one that moves it again for every statement.
    for (there, status, quote_lost), ids in outcomes.items():
        values = {"anchor_status": status, "quote_lost": quote_lost}
        if there is not None:
            values["paragraph_id"] = there
        for start in range(0, len(ids), IDS_PER_QUERY):
            Comment._base_manager.filter(pk__in=ids[start : start + IDS_PER_QUERY]).update(**values)
    Comment._base_manager.bulk_update(refound, REFOUND_FIELDS, batch_size=PASSAGES_PER_QUERY)
    return sum(len(ids) for ids in outcomes.values()) + len(refound)


# What finding a passage again writes, a batch of comments per query.
REFOUND_FIELDS = ["paragraph", "anchor_status", "quote_lost", "quote_now", "quote_start"]
REFOUND_FIELDS += ["quote_prefix", "quote_suffix"]
PASSAGES_PER_QUERY = 100


def _passage_hint(comment: Comment) -> int | None:
    """Where the passage was: its place when last found, else in the text it was quoted from."""
    if comment.quote_start is not None:
        return comment.quote_start
    return locate_quote(
        comment.anchor_text, comment.quote, comment.quote_prefix, comment.quote_suffix
    )


def _find_passage(comment: Comment, text: str) -> Found | None:
    """The comment's passage in `text`: as it last read, else as first quoted."""
    context = (comment.quote_prefix, comment.quote_suffix, _passage_hint(comment))
    found = find_passage(text, comment.passage, *context)
    if found is None and comment.quote_now:
        found = find_passage(text, comment.quote, *context)
    return found


def _part_holding(comment: Comment, parts: list[Paragraph]) -> int | None:
    """The id of the part of a split paragraph that holds the comment's passage, if any."""
    best, best_rank = None, None
    for part in parts:
        found = _find_passage(comment, part.text)
        if found is not None and (best_rank is None or (found.exact, found.score) > best_rank):
            best, best_rank = part.pk, (found.exact, found.score)
    return best


def _passage_refound(comment: Comment, text: str) -> bool:
    """Find the comment's passage in its paragraph's new `text` and record where; False when
    nothing changes (lost before and still lost)."""
    found = _find_passage(comment, text)
    if found is None:
        if comment.quote_lost:
            return False
        comment.quote_lost, comment.quote_now, comment.quote_start = True, "", None
        return True
    now = text[found.start : found.end]
    comment.quote_lost = False
    comment.quote_now = "" if now == comment.quote else now
    comment.quote_start = found.start
    comment.quote_prefix, comment.quote_suffix = context_around(text, found.start, now)
    return True


def on_essay_revised(
    sender, essay, revision, changed, moved, retired, followed=None, parts=None, **kwargs
) -> None:
    """Receiver of essays' `essay_revised`, in the import's own transaction."""
    comments_reanchor(
        essay=essay,
        changed=changed,
        moved=moved,
        retired=retired,
        followed=followed,
        parts=parts,
    )


def access_comment_for_edit(*, user, comment_id: int, lock: bool = False) -> Comment:
    """Load a comment its author may change; 404 if absent, Refused if not theirs.

    Services pass `lock`: the row is locked and read afresh, so a moderator's decision made
    a moment ago is seen (and never overwritten with a stale status)."""
    comments = Comment.objects.select_related("essay", "paragraph", "author")
    if lock:
        comments = comments.select_for_update(of=("self",))
    # Nothing on an essay taken back to draft is changed (or shown) outside moderation.
    comment = get_object_or_404(comments, pk=comment_id, essay__in=Essay.objects.published())
    if not user.is_authenticated or comment.author_id != user.pk:
        raise Refused(_("Only its author can change this comment."), status=403)
    if comment.status == Comment.Status.DELETED:
        raise Refused(_("This comment has been deleted."), status=409)
    if comment.status == Comment.Status.REMOVED:
        raise Refused(
            _("A moderator removed this comment; it can no longer be changed."), status=409
        )
    if comment.status == Comment.Status.HIDDEN:
        raise Refused(_("This comment is waiting for a moderator."), status=409)
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, editor, body: str) -> Comment:
    """Replace a comment's text, keeping the earlier version for moderators."""
    comment = access_comment_for_edit(user=editor, comment_id=comment.pk, lock=True)
    check_can_comment(editor)
    body, body_html = render_body(body)
    if body == comment.body:
        return comment
    # Asked of the comment as it stands: an edit of a published comment is judged on what
    # it adds (a watched word, links past the limit) and on its author's standing; an edit
    # of a held comment goes back to review.
    reasons = policy().hold_reasons(author=editor, essay=comment.essay, body=body, editing=comment)
    CommentRevision.objects.create(
        comment=comment,
        body=comment.body,
        body_html=comment.body_html,
        written_at=comment.edited_at or comment.created,
    )
    comment.body = body
    comment.body_html = body_html
    comment.edited_at = timezone.now()
    was_published = comment.status == Comment.Status.PUBLISHED
    if reasons:
        comment.status = Comment.Status.PENDING
    comment.full_clean()
    comment.save(update_fields=["body", "body_html", "edited_at", "status"])
    comment.hold_reasons = reasons
    if reasons:
        reader_state_forget(editor.pk)  # theirs, awaiting review (readers.py)
        comment_held.send(sender=Comment, comment=comment, reasons=reasons)
        if was_published:
            _announce(comment_removed, comment)
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, actor) -> Comment:
    """Delete a comment at its author's request; a placeholder keeps its replies in place."""
    comment = access_comment_for_edit(user=actor, comment_id=comment.pk, lock=True)
    if comment.status == Comment.Status.PENDING:
        reader_state_forget(comment.author_id)  # nothing of theirs awaits review there now
    comment.status = Comment.Status.DELETED
    comment.save(update_fields=["status"])
    _announce(comment_removed, comment)
    return comment


def check_may_mark_addressed(user, essay: Essay | None) -> None:
    """Whoever may publish revisions of the essay may say which of its threads a revision
    took up. (Editors are the site's, not an essay's: `essay` is where that would change.)"""
    try:
        check_can_publish(user)
    except Refused:
        raise Refused(
            _("Only the site’s editors can mark a thread as addressed by a revision."),
            status=403,
        ) from None


def access_thread_for_addressing(*, editor, comment_id: int, lock: bool = False) -> Comment:
    """A thread's first comment on a published essay, for its editor to mark addressed or
    not; Refused if `editor` is not the essay's editor, or if it is a reply; 404 if absent.

    Services pass `lock`: the row is locked and read afresh (a moderator may just have
    removed it)."""
    comments = Comment.objects.select_related("essay", "paragraph")
    if lock:
        comments = comments.select_for_update(of=("self",))
    comment = comments.filter(pk=comment_id, essay__in=Essay.objects.published()).first()
    if comment is not None:
        check_may_mark_addressed(editor, comment.essay)
    else:
        check_may_mark_addressed(editor, None)  # a non-editor learns nothing of which exist
        raise Http404("No such comment.")
    if not can_read_text(comment, editor) and comment.status == Comment.Status.PENDING:
        # A comment awaiting review is its author's and the moderators' to know of.
        raise Http404("No such comment.")
    if comment.parent_id is not None:
        raise Refused(
            _("Only a thread can be marked addressed, not a reply: mark its first comment."),
            status=400,
        )
    return comment


@transaction.atomic
def thread_mark_addressed(*, editor, comment: Comment, revision: int) -> Comment:
    """The essay's editor says that `revision` took up what the thread says: readers see
    the mark, linked to what that revision changed. Only a published thread, and only a
    revision of its essay published after the thread was written."""
    root = access_thread_for_addressing(editor=editor, comment_id=comment.pk, lock=True)
    if not root.is_addressable:
        raise Refused(
            _("Only a published thread can be marked addressed; this one is “%(status)s”.")
            % {"status": root.get_status_display()},
            status=409,
        )
    if not root.essay.revisions.filter(number=revision).exists():
        raise Refused(
            _("“%(essay)s” has no revision %(number)s.")
            % {"essay": root.essay.title, "number": revision},
            status=400,
        )
    if not revisions_after(root).filter(number=revision).exists():
        raise Refused(
            _(
                "Revision %(number)s was published before this thread was written: choose "
                "a later one."
            )
            % {"number": revision},
            status=400,
        )
    if root.addressed_in == revision:
        raise Refused(
            _("This thread is already marked addressed in revision %(number)s.")
            % {"number": revision},
            status=409,
        )
    root.addressed_in = revision
    root.addressed_at = timezone.now()
    root.save(update_fields=["addressed_in", "addressed_at"])
    return root


@transaction.atomic
def thread_unmark_addressed(*, editor, comment: Comment) -> Comment:
    """Take the mark back (in whatever state the thread is now)."""
    root = access_thread_for_addressing(editor=editor, comment_id=comment.pk, lock=True)
    if root.addressed_in is None:
        raise Refused(_("This thread is not marked addressed."), status=409)
    root.addressed_in = None
    root.addressed_at = None
    root.save(update_fields=["addressed_in", "addressed_at"])
    return root


@transaction.atomic
def comments_release_author(*, author, delete: bool) -> int:
    """Detach a departing member from their comments: deleted, or kept as a former member's.

    Deleted comments lose their text too (and their earlier versions); replies by others
    stay in place under the placeholder. Returns how many comments were affected.
    """
    comments = Comment.objects.filter(author=author)
    affected = list(comments.filter(status=Comment.Status.PUBLISHED))
    if delete:
        CommentRevision.objects.filter(comment__author=author).delete()
        count = comments.update(author=None, status=Comment.Status.DELETED, body="", body_html="")
        for comment in affected:
            _announce(comment_removed, comment)
    else:
        count = comments.update(author=None)
    return count


@transaction.atomic
def comment_import_response(*, essay: Essay, author_name: str, body: str) -> tuple[Comment, bool]:
    """Publish a response that came with an essay's source, once: importing again finds it.

    Such a response has no account and no date (we invent none); it is a top-level comment
    on the whole essay. Returns the comment and whether it was created.
    """
    body = normalize_body(body)
    existing = (
        Comment.objects.on_whole_essay(essay)
        .filter(imported=True, author_name=author_name, body=body, parent__isnull=True)
        .first()
    )
    if existing:
        return existing, False
    comment = Comment(
        essay=essay,
        author_name=author_name,
        body=body,
        body_html=render_comment(body),
        status=Comment.Status.PUBLISHED,
        imported=True,
        created=None,
    )
    comment.full_clean()
    comment.save()
    return comment, True


# The community guidelines ----------------------------------------------------------------


DEFAULT_GUIDELINES = """\
Margins is a place to read closely and to disagree well. These guidelines say what
moderators act on; every removal names the section it was about.

## Write about the text {#off-topic}

Comments sit beside a paragraph or an essay: say what you make of it. Side conversations,
and comments that could be posted under any text, may be removed as off-topic.

## Be civil {#abuse}

Argue with ideas, not with people. Insults, threats, harassment and attempts to expose
someone's private life are removed, and repeated abuse leads to a suspension.

## No hate {#hate}

Nothing that attacks people for who they are: their origin, religion, gender, sexuality,
disability or the like.

## No spam {#spam}

No advertising, no links posted for their own sake, no text repeated across threads.

## Anything else {#other}

Moderators may remove what breaks the law or puts someone at risk, and say why. If you
think a decision was wrong, write to the site's owner.

## Reports

Report a comment that breaks these guidelines; the author never learns who reported it.
You will hear what the moderators decided.
"""


@transaction.atomic
def guidelines_edit(*, editor, body: str) -> Guidelines:
    """Replace the community guidelines' text (the site owner's, from the admin), rendered
    and sanitized now, with its sections."""
    if not editor.has_perm("discussion.change_guidelines"):
        raise Refused(_("Only the site’s owner can change the community guidelines."), status=403)
    body = normalize_body(body).strip()
    if not body:
        raise Refused(_("Write the guidelines."))
    html, sections = render_guidelines(body)
    guidelines = Guidelines.objects.select_for_update().order_by("pk").first() or Guidelines()
    guidelines.body, guidelines.body_html = body, html
    guidelines.sections = [list(section) for section in sections]
    guidelines.updated_at = timezone.now()
    guidelines.save()
    return guidelines
