"""Export an essay's whole discussion as one JSON document, and restore it on another site.

`discussion_export(essay)` gives the document; `discussion_import(document)` rebuilds the
essay and its discussion from it, in one transaction, on a site where no essay has that slug.
The commands `export_discussion` and `import_discussion` call them. (This lives in accounts,
the top layer, because it reads essays, discussion, moderation and subscriptions alike.)

The document is for the site's owner, moving or backing up a discussion: it names members
by their email address (their stable reference from one site to another) and display name,
and it holds what only moderators read (private notes, reports, held and removed texts).
It never holds a password hash, a session, or anything else about an account.

Format "margins-discussion", version 1 (FORMAT_VERSION; a reader refuses any other). One
JSON object:

- `format`, `format_version`, `exported_at`.
- `essay`: slug, title, alternate_title, attribution, source, status, published_at,
  comments_open, premoderated, revision, revised_at.
- `paragraphs`, in the order they were created: key, position, kind, html, text, added_in,
  retired_in (null while live). Paragraphs are referred to by their key everywhere else.
- `revisions`, by number: number, title, alternate_title, attribution, source, created,
  summary, and `blocks` (the paragraphs as that revision had them): paragraph (a key),
  position, kind, html, text.
- `members`: email, display_name, is_active, for every member named below. Records name a
  member by email (compared without case); the import finds members by email and creates
  the missing ones, with an unusable password and an unverified address (they set a
  password through "forgot password"), active or deactivated as is_active says; a display
  name the site now refuses is stored as the site shows it. An account found here is never
  changed. is_active came after the first files: it is optional, and a member without it
  is active, so the version stays 1 (a reader of version 1 that predates it ignores it,
  and a file that predates it still reads).
- `comments`, in the order written (a reply after the comment it answers): id, paragraph
  (a key; null: on the whole essay), parent, root (ids; null on a thread's first comment),
  depth, author (an email; null for imported responses and former members), author_name,
  imported, source_id and imported_email (where an imported comment came from), body,
  body_html, status, removal_reason, anchor_text, anchor_revision, anchor_status, quote,
  quote_prefix, quote_suffix, quote_lost, quote_now, quote_start, locked_at, created,
  edited_at, and `earlier_versions` (the edit history, oldest first): body, body_html,
  written_at, replaced_at. quote_now and quote_start (where a revision's edit left the
  passage) came after the first files: a comment without them has none ("" and null).
  reattached_at (when a moderator put the thread on another paragraph), addressed_in and
  addressed_at (the revision its editor said took the thread up) came later still: they
  are optional, null when absent.
- `flags` (readers' reports), in the order made: id, comment (an id), reporter (an email),
  reason, note, created, resolved_at.
- `decisions` (the audit log rows about this essay and its comments), in the order made: id,
  action, comment (an id or null), actor and subject (emails or null), reason_code,
  public_reason, reason, previous_state, undoes (an id or null), created, and `facts` (what
  the rules saw when they held a comment: reasons, watched words, link count; it names no
  row). previous_state is the snapshot the log stored (forum/moderation/snapshots.py) with
  the same ids as this document, except that a re-attachment's paragraphs are named by key.
  facts came after the first files: it is optional (an object; absent, empty), so the
  version stays 1.
- `subscriptions` (follows and mutes of the essay, a paragraph or a thread): member (an
  email), paragraph (a key or null), thread (a comment id or null), level, created.

What is published as HTML is not taken from the file as it is, since a file can be altered
on its way: each revision's blocks are rendered again from that revision's Markdown source,
the live paragraphs from the essay's source, and a retired paragraph takes its HTML from
the last revision that had it (a file whose blocks are not what its sources make, in
number or kind, is refused). Comment texts and their earlier versions go through the
comments' one sanitizer (forum/discussion/markup.py). Where the file's HTML differed, the
site's own is stored and the import says how many differed. `--dry-run` does all of it and
rolls it back.

Ids are the exporting site's and serve only to link records within the document: the import
gives every row a new id, in the same order, so that what is ordered by id stays in order.
Dates and times are ISO 8601 with microseconds and an offset; they come back exactly. The
essay's discussion_version (which names its cached pages) is not carried: the restored essay
starts from a version no earlier essay with its slug can have reached here.

Not exported: restrictions and the decisions about them (they concern a member, not an
essay), notifications (each member's inbox), notification settings and group memberships
(of the account, not the essay), publication jobs (the worker's queue).
"""

import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from essays.models import Essay, EssayRevision, Paragraph, RevisionBlock
from essays.rendering import Block, EssaySourceError
from essays.services import essay_document
from forum.discussion.imports import comments_link_threads
from forum.discussion.markup import sanitize_html
from forum.discussion.models import Comment, CommentRevision
from forum.ids import parse_id
from forum.moderation.models import Decision, Flag
from forum.moderation.services import COMMENT_STATUS_ACTIONS
from forum.subscriptions.models import Subscription

from .names import name_for_display, validate_display_name

FORMAT = "margins-discussion"
FORMAT_VERSION = 1

# The plain fields of each row, written and read as the model's field types say.
ESSAY_FIELDS = [
    "slug",
    "title",
    "alternate_title",
    "attribution",
    "source",
    "status",
    "published_at",
    "comments_open",
    "premoderated",
    "revision",
    "revised_at",
]
PARAGRAPH_FIELDS = ["key", "position", "kind", "html", "text", "added_in", "retired_in"]
REVISION_FIELDS = ["number", "title", "alternate_title", "attribution", "source", "created"]
BLOCK_FIELDS = ["position", "kind", "html", "text"]
COMMENT_FIELDS = [
    "depth",
    "author_name",
    "imported",
    "source_id",
    "imported_email",
    "body",
    "body_html",
    "status",
    "removal_reason",
    "anchor_text",
    "anchor_revision",
    "anchor_status",
    "quote",
    "quote_prefix",
    "quote_suffix",
    "quote_lost",
    "quote_now",
    "quote_start",
    "locked_at",
    "created",
    "edited_at",
]
# Comment fields that came after the first files of version 1, with what a record without
# them means.
COMMENT_FIELDS_ADDED = {"quote_now": "", "quote_start": None}
# Comment fields that came after the first files: a file without them still reads.
COMMENT_FIELDS_OPTIONAL = ["reattached_at", "addressed_in", "addressed_at"]
EARLIER_VERSION_FIELDS = ["body", "body_html", "written_at", "replaced_at"]
FLAG_FIELDS = ["reason", "note", "created", "resolved_at"]
DECISION_FIELDS = ["action", "reason_code", "public_reason", "reason", "created"]
SUBSCRIPTION_FIELDS = ["level", "created"]


class DiscussionFileError(Exception):
    """The document cannot be restored here; the message says where and why."""


@dataclass
class DiscussionRestore:
    """What an import did (or, in a dry run, would do)."""

    essay: Essay
    counts: dict[str, int]  # rows written, by kind
    # (the email the file gives, the account here it was matched to), for every member the
    # file names who has an account here already: what the file says they wrote, reported
    # or decided becomes that account's.
    matched: list[tuple[str, object]] = field(default_factory=list)
    rerendered: int = 0  # blocks of essay HTML that were not what their source renders
    sanitized: int = 0  # comment texts (and earlier versions) the sanitizer changed
    dry_run: bool = False


class _DryRunDone(Exception):
    def __init__(self, result: DiscussionRestore):
        self.result = result


# Export --------------------------------------------------------------------------------


def discussion_export(essay: Essay) -> dict:
    """Everything needed to rebuild `essay`'s discussion, in a constant number of queries."""
    paragraphs = list(Paragraph.objects.filter(essay=essay).order_by("id"))
    key_of = {paragraph.pk: paragraph.key for paragraph in paragraphs}
    blocks: dict[int, list[dict]] = {}
    for block in RevisionBlock.objects.filter(revision__essay=essay).order_by(
        "revision_id", "position", "id"
    ):
        blocks.setdefault(block.revision_id, []).append(
            {"paragraph": key_of[block.paragraph_id], **_values_out(block, BLOCK_FIELDS)}
        )
    earlier: dict[int, list[dict]] = {}
    for version in CommentRevision.objects.filter(comment__essay=essay).order_by(
        "comment_id", "replaced_at", "id"
    ):
        earlier.setdefault(version.comment_id, []).append(
            _values_out(version, EARLIER_VERSION_FIELDS)
        )
    comments = list(Comment.objects.filter(essay=essay).order_by("id"))
    flags = list(Flag.objects.filter(comment__essay=essay).order_by("id"))
    decisions = list(
        Decision.objects.filter(models.Q(essay=essay) | models.Q(comment__essay=essay)).order_by(
            "id"
        )
    )
    action_of = {decision.pk: decision.action for decision in decisions}
    subscriptions = list(Subscription.objects.filter(essay=essay).order_by("id"))
    member_ids = (
        {comment.author_id for comment in comments}
        | {flag.reporter_id for flag in flags}
        | {decision.actor_id for decision in decisions}
        | {decision.subject_user_id for decision in decisions}
        | {subscription.user_id for subscription in subscriptions}
    ) - {None}
    email_of = dict(get_user_model().objects.filter(pk__in=member_ids).values_list("pk", "email"))
    members = (
        get_user_model()
        .objects.filter(pk__in=member_ids)
        .order_by("email")
        .values("email", "display_name", "is_active")
    )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": _when_out(timezone.now()),
        "essay": _values_out(essay, ESSAY_FIELDS),
        "paragraphs": [_values_out(paragraph, PARAGRAPH_FIELDS) for paragraph in paragraphs],
        "revisions": [
            {
                **_values_out(revision, REVISION_FIELDS),
                "summary": revision.summary,
                "blocks": blocks.get(revision.pk, []),
            }
            for revision in EssayRevision.objects.filter(essay=essay).order_by("number")
        ],
        "members": list(members),
        "comments": [
            {
                "id": comment.pk,
                "paragraph": key_of.get(comment.paragraph_id),
                "parent": comment.parent_id,
                "root": comment.root_id,
                "author": email_of.get(comment.author_id),
                **_values_out(comment, COMMENT_FIELDS + COMMENT_FIELDS_OPTIONAL),
                "earlier_versions": earlier.get(comment.pk, []),
            }
            for comment in comments
        ],
        "flags": [
            {
                "id": flag.pk,
                "comment": flag.comment_id,
                "reporter": email_of[flag.reporter_id],
                **_values_out(flag, FLAG_FIELDS),
            }
            for flag in flags
        ],
        "decisions": [
            {
                "id": decision.pk,
                "comment": decision.comment_id,
                "actor": email_of.get(decision.actor_id),
                "subject": email_of.get(decision.subject_user_id),
                **_values_out(decision, DECISION_FIELDS),
                "previous_state": _state_out(
                    decision.previous_state,
                    _snapshot_kind(decision.action, action_of.get(decision.undoes_id)),
                    key_of,
                ),
                "undoes": decision.undoes_id,
                "facts": decision.facts,
            }
            for decision in decisions
        ],
        "subscriptions": [
            {
                "member": email_of[subscription.user_id],
                "paragraph": key_of.get(subscription.paragraph_id),
                "thread": subscription.thread_id,
                **_values_out(subscription, SUBSCRIPTION_FIELDS),
            }
            for subscription in subscriptions
        ],
    }


def _when_out(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat(timespec="microseconds") if when else None


def _values_out(instance: models.Model, names: list[str]) -> dict:
    values = {}
    for name in names:
        value = getattr(instance, name)
        values[name] = _when_out(value) if isinstance(value, datetime) else value
    return values


# What a decision's previous_state holds that names rows: a comment's status (its open
# reports, by flag id), or a thread's anchors (by comment id, each with its paragraph's id).
# An undo stores the same kind of snapshot as the decision it undid.
STATUS_SNAPSHOT, ANCHORS_SNAPSHOT = "status", "anchors"


def _snapshot_kind(action: str, undone_action: str | None) -> str | None:
    if action == Decision.Action.UNDO:
        action = undone_action
    if action in COMMENT_STATUS_ACTIONS:
        return STATUS_SNAPSHOT
    if action == Decision.Action.REATTACH:
        return ANCHORS_SNAPSHOT
    return None


def _state_out(state: dict, kind: str | None, key_of: dict[int, str]) -> dict:
    if kind != ANCHORS_SNAPSHOT or not isinstance(state.get("comments"), dict):
        return state
    return {
        **state,
        "comments": {
            comment_id: [key_of.get(anchor[0]), *anchor[1:]]
            for comment_id, anchor in state["comments"].items()
        },
    }


# Import --------------------------------------------------------------------------------


def discussion_import(document, *, dry_run: bool = False) -> DiscussionRestore:
    """Restore the essay and its discussion a document describes, all or nothing: the essay
    and every row, linked as in the document, members found by email or created, essay
    HTML rendered again and comment HTML sanitized. Says what was written and which
    accounts here the file's members were matched to. Raises DiscussionFileError, having
    written nothing, when the document is not one we read or names an essay that exists
    here. A dry run does all of it, the database's checks included, and rolls it back."""
    _check_format(document)
    try:
        with transaction.atomic():
            result = _Restore(document).run()
            if dry_run:
                result.dry_run = True
                raise _DryRunDone(result)
            return result
    except _DryRunDone as done:
        return done.result
    except DatabaseError as error:
        raise DiscussionFileError(
            f"The database refused the file's rows; nothing was imported ({error})."
        ) from error


def _check_format(document) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DiscussionFileError(f"This is not an export of a discussion (format “{FORMAT}”).")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise DiscussionFileError(
            f"The file is in version {version!r} of the format; this site reads version "
            f"{FORMAT_VERSION} only."
        )


class _Restore:
    """One import: the document, and the new rows found or written so far, by reference."""

    def __init__(self, document: dict):
        self.document = document
        self.counts: dict[str, int] = {}
        self.matched: list[tuple[str, object]] = []
        self.rerendered = 0
        self.sanitized = 0

    def run(self) -> DiscussionRestore:
        self.essay = self._essay()
        self.members = self._members()
        revisions, blocks, last_html = self._read_revisions()
        self.paragraph_ids = self._paragraphs(last_html)
        self._write_revisions(revisions, blocks)
        self.comment_ids = self._comments()
        self.flag_ids = self._flags()
        self._decisions()
        self._subscriptions()
        # Threads were linked in SQL, past the comments' own bookkeeping: say that the
        # essay's pages are new once more (and forget its state again after the commit).
        Essay.objects.filter(pk=self.essay.pk).discussion_changed()
        return DiscussionRestore(
            essay=self.essay,
            counts=self.counts,
            matched=self.matched,
            rerendered=self.rerendered,
            sanitized=self.sanitized,
        )

    def records(self, name: str) -> list[tuple[str, dict]]:
        """The document's list `name`, each record with where it is (for messages)."""
        records = self.document.get(name)
        if not isinstance(records, list):
            raise DiscussionFileError(f"“{name}” is missing or is not a list.")
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                raise DiscussionFileError(f"{name}[{index}] is not an object.")
        self.counts[name] = len(records)
        return [(f"{name}[{index}]", record) for index, record in enumerate(records)]

    def _essay(self) -> Essay:
        record = self.document.get("essay")
        if not isinstance(record, dict):
            raise DiscussionFileError("“essay” is missing or is not an object.")
        essay = Essay(**_values_in(Essay, ESSAY_FIELDS, record, "essay"))
        if Essay.objects.filter(slug=essay.slug).exists():
            raise DiscussionFileError(
                f"An essay with the slug “{essay.slug}” exists on this site: nothing was "
                "imported. The import only restores an essay into a site that lacks it."
            )
        _check_fields(essay, "essay")
        # Pages of an earlier essay with this slug may still be cached under its versions
        # (they are keyed by slug and version): start from a version no earlier essay here
        # can have reached, the time in microseconds, which no run of +1s catches up with.
        essay.discussion_version = time.time_ns() // 1000
        essay.save()
        return essay

    def _members(self) -> dict[str, object]:
        """Every member the document names, by email in lower case: found, or created."""
        User = get_user_model()
        listed: dict[str, tuple[str, str, bool]] = {}
        for where, record in self.records("members"):
            email = _text(record, "email", where)
            name = _text(record, "display_name", where)
            # Optional (see the module's docstring): files written before it name no one
            # deactivated.
            is_active = record.get("is_active", True)
            if not isinstance(is_active, bool):
                raise DiscussionFileError(
                    f"{where}.is_active: expected true or false, found {is_active!r}."
                )
            try:
                validate_display_name(name)
            except ValidationError:
                # Stored before the rules on names: kept as the site shows it.
                name = name_for_display(name)
            if "@" not in email or email.lower() in listed:
                raise DiscussionFileError(f"{where}: “{email}” is not a new email address.")
            listed[email.lower()] = (email, name, is_active)
        members = {
            user.email_lower: user
            for user in User.objects.annotate(email_lower=Lower("email")).filter(
                email_lower__in=list(listed)
            )
        }
        created = 0
        for lowered, (email, name, is_active) in listed.items():
            if lowered in members:
                self.matched.append((email, members[lowered]))
                continue
            user = User(
                email=User.objects.normalize_email(email), display_name=name, is_active=is_active
            )
            user.set_unusable_password()
            _check_fields(user, f"members ({email})", exclude=["password", "last_login"])
            user.save()
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
            members[lowered] = user
            created += 1
        self.counts["members created"] = created
        return members

    def member(self, record: dict, name: str, where: str, *, null: bool):
        email = record.get(name) if name in record else _missing(where, name)
        if email is None and null:
            return None
        if not isinstance(email, str) or email.lower() not in self.members:
            raise DiscussionFileError(f"{where}.{name}: {email!r} is not one of the members.")
        return self.members[email.lower()]

    def paragraph_id(self, record: dict, name: str, where: str, *, null: bool) -> int | None:
        key = record.get(name) if name in record else _missing(where, name)
        if key is None and null:
            return None
        if key not in self.paragraph_ids:
            raise DiscussionFileError(f"{where}.{name}: {key!r} is not one of the paragraphs.")
        return self.paragraph_ids[key]

    def _paragraphs(self, last_html: dict[str, str]) -> dict[str, int]:
        """The paragraphs, their HTML rendered here: a live one's from the essay's source, a
        retired one's as the last revision that had it showed it."""
        paragraphs = []
        for where, record in self.records("paragraphs"):
            paragraph = Paragraph(
                essay=self.essay, **_values_in(Paragraph, PARAGRAPH_FIELDS, record, where)
            )
            _check_fields(paragraph, where)
            paragraphs.append((where, paragraph))
        keys = [paragraph.key for _where, paragraph in paragraphs]
        if len(set(keys)) != len(keys):
            raise DiscussionFileError("paragraphs: two paragraphs have the same key.")
        live = sorted(
            (paragraph for _where, paragraph in paragraphs if paragraph.retired_in is None),
            key=lambda paragraph: paragraph.position,
        )
        if live:
            self._render_again(live, self.essay.source, "essay.source", "live paragraphs")
        for where, paragraph in paragraphs:
            if paragraph.retired_in is None:
                continue
            if paragraph.key not in last_html:
                raise DiscussionFileError(
                    f"{where}: a retired paragraph that no revision has: its HTML cannot be "
                    "rendered again from a source. Nothing was imported."
                )
            self._use_html(paragraph, last_html[paragraph.key])
        Paragraph.objects.bulk_create([paragraph for _where, paragraph in paragraphs])
        return {paragraph.key: paragraph.pk for _where, paragraph in paragraphs}

    def _render_again(self, blocks: list, source: str, where: str, what: str) -> None:
        """Give `blocks` (paragraphs or revision blocks, in order) the HTML `source` renders
        to, block for block, each of the kind the source makes there (a revision keeps each
        paragraph's kind: essays/reanchoring.py matches only blocks of one kind)."""
        try:
            rendered: list[Block] = essay_document(source).blocks
        except EssaySourceError as error:
            raise DiscussionFileError(
                f"{where}: the Markdown source cannot be rendered ({error}). Nothing was imported."
            ) from None
        if len(rendered) != len(blocks):
            raise DiscussionFileError(
                f"{where}: the file has {len(blocks)} {what}, its Markdown source makes "
                f"{len(rendered)}: the file was altered, or written by a site that renders "
                "essays otherwise. Nothing was imported."
            )
        for position, (block, block_rendered) in enumerate(zip(blocks, rendered, strict=True)):
            if block.kind != block_rendered.kind:
                raise DiscussionFileError(
                    f"{where}: the file's {what} number {position + 1} is a {block.kind}, "
                    f"its Markdown source makes a {block_rendered.kind} there: the file was "
                    "altered. Nothing was imported."
                )
            self._use_html(block, block_rendered.html)

    def _use_html(self, block, html: str) -> None:
        if block.html != html:
            self.rerendered += 1
            block.html = html

    def _read_revisions(self):
        """The revisions and their blocks, not yet stored (a block names its paragraph by
        key), each revision's blocks rendered again from its source; and the HTML each
        paragraph had in the last revision that had it."""
        revisions, blocks = [], []
        last_html: dict[str, str] = {}
        for where, record in self.records("revisions"):
            summary = record.get("summary") if "summary" in record else _missing(where, "summary")
            revision = EssayRevision(
                essay=self.essay,
                summary=summary,
                **_values_in(EssayRevision, REVISION_FIELDS, record, where),
            )
            _check_fields(revision, where)
            revisions.append(revision)
            listed = record.get("blocks")
            if not isinstance(listed, list):
                raise DiscussionFileError(f"{where}.blocks is missing or is not a list.")
            own = []
            for index, block_record in enumerate(listed):
                at = f"{where}.blocks[{index}]"
                if not isinstance(block_record, dict):
                    raise DiscussionFileError(f"{at} is not an object.")
                if "paragraph" not in block_record:
                    _missing(at, "paragraph")
                key = block_record["paragraph"]
                block = RevisionBlock(**_values_in(RevisionBlock, BLOCK_FIELDS, block_record, at))
                _check_fields(block, at)
                own.append((at, key, block))
            own.sort(key=lambda entry: entry[2].position)
            if own:
                self._render_again(
                    [block for _at, _key, block in own],
                    revision.source,
                    f"{where}.source",
                    "blocks",
                )
            blocks += [(revision, at, key, block) for at, key, block in own]
        numbers = [revision.number for revision in revisions]
        if len(set(numbers)) != len(numbers):
            raise DiscussionFileError("revisions: two revisions have the same number.")
        for _revision, _at, key, block in sorted(blocks, key=lambda entry: entry[0].number):
            if isinstance(key, str):
                last_html[key] = block.html
        return revisions, blocks, last_html

    def _write_revisions(self, revisions: list, blocks: list) -> None:
        for _revision, at, key, block in blocks:
            block.paragraph_id = self.paragraph_id({"paragraph": key}, "paragraph", at, null=False)
        EssayRevision.objects.bulk_create(revisions)
        for revision, _at, _key, block in blocks:
            block.revision = revision
        RevisionBlock.objects.bulk_create([block for _revision, _at, _key, block in blocks])

    def _comments(self) -> dict[int, int]:
        """Comments are stored in the document's order, then linked into their threads (a
        comment's id is known only once it is stored)."""
        comments: list[Comment] = []
        links: list[tuple[Comment, int | None, int | None]] = []
        earlier: list[tuple[Comment, CommentRevision]] = []
        seen: dict[int, tuple[int | None, int]] = {}  # id -> (its root's id, its depth)
        for where, record in self.records("comments"):
            source_id = _reference(record, "id", where, null=False)
            if source_id in seen:
                raise DiscussionFileError(f"{where}: the id {source_id} is used twice.")
            comment = Comment(
                essay=self.essay,
                paragraph_id=self.paragraph_id(record, "paragraph", where, null=True),
                author=self.member(record, "author", where, null=True),
                **_values_in(Comment, COMMENT_FIELDS, {**COMMENT_FIELDS_ADDED, **record}, where),
                **_values_in(
                    Comment,
                    [name for name in COMMENT_FIELDS_OPTIONAL if name in record],
                    record,
                    where,
                ),
            )
            _check_fields(comment, where)
            self._sanitize(comment)
            parent_id = _reference(record, "parent", where, null=True)
            root_id = _reference(record, "root", where, null=True)
            _check_threading(where, parent_id, root_id, comment.depth, seen)
            seen[source_id] = (root_id, comment.depth)
            comments.append(comment)
            links.append((comment, parent_id, root_id))
            versions = record.get("earlier_versions")
            if not isinstance(versions, list):
                raise DiscussionFileError(f"{where}.earlier_versions is missing or is not a list.")
            for index, version_record in enumerate(versions):
                at = f"{where}.earlier_versions[{index}]"
                if not isinstance(version_record, dict):
                    raise DiscussionFileError(f"{at} is not an object.")
                version = CommentRevision(
                    **_values_in(CommentRevision, EARLIER_VERSION_FIELDS, version_record, at)
                )
                _check_fields(version, at)
                self._sanitize(version)
                earlier.append((comment, version))
        Comment.objects.bulk_create(comments)
        new_id = {source: comment.pk for source, comment in zip(seen, comments, strict=True)}
        comments_link_threads(
            [
                (comment.pk, new_id[parent_id], new_id[root_id])
                for comment, parent_id, root_id in links
                if parent_id is not None
            ]
        )
        for comment, version in earlier:
            version.comment = comment
        CommentRevision.objects.bulk_create([version for _comment, version in earlier])
        self.counts["earlier versions"] = len(earlier)
        return new_id

    def _sanitize(self, text: Comment | CommentRevision) -> None:
        """A comment's HTML as the site would have made it: through its one sanitizer
        (idempotent, so what this site wrote comes back the same)."""
        clean = sanitize_html(text.body_html)
        if clean != text.body_html:
            self.sanitized += 1
            text.body_html = clean

    def comment_id(self, record: dict, name: str, where: str, *, null: bool) -> int | None:
        source_id = _reference(record, name, where, null=null)
        if source_id is None:
            return None
        if source_id not in self.comment_ids:
            raise DiscussionFileError(f"{where}.{name}: {source_id} is not one of the comments.")
        return self.comment_ids[source_id]

    def _flags(self) -> dict[int, int]:
        flags, source_ids = [], []
        for where, record in self.records("flags"):
            source_ids.append(_reference(record, "id", where, null=False))
            flag = Flag(
                comment_id=self.comment_id(record, "comment", where, null=False),
                reporter=self.member(record, "reporter", where, null=False),
                **_values_in(Flag, FLAG_FIELDS, record, where),
            )
            _check_fields(flag, where)
            flags.append(flag)
        if len(set(source_ids)) != len(source_ids):
            raise DiscussionFileError("flags: two flags have the same id.")
        Flag.objects.bulk_create(flags)
        return {source: flag.pk for source, flag in zip(source_ids, flags, strict=True)}

    def _decisions(self) -> None:
        """Stored in the document's order (undoing and later_decision read the log by id);
        a decision that undoes one not yet stored waits for it."""
        new_id: dict[int, int] = {}
        actions: dict[int, str] = {}
        waiting: list[tuple[int, Decision]] = []

        def store():
            Decision.objects.bulk_create([decision for _source, decision in waiting])
            new_id.update((source, decision.pk) for source, decision in waiting)
            waiting.clear()

        for where, record in self.records("decisions"):
            source_id = _reference(record, "id", where, null=False)
            undoes = _reference(record, "undoes", where, null=True)
            if source_id in actions:
                raise DiscussionFileError(f"{where}: the id {source_id} is used twice.")
            if undoes is not None and undoes not in actions:
                raise DiscussionFileError(
                    f"{where}.undoes: {undoes} is not one of the decisions before it."
                )
            decision = Decision(
                essay=self.essay,
                comment_id=self.comment_id(record, "comment", where, null=True),
                actor=self.member(record, "actor", where, null=True),
                subject_user=self.member(record, "subject", where, null=True),
                **_values_in(Decision, DECISION_FIELDS, record, where),
            )
            decision.facts = record.get("facts", {})
            if not isinstance(decision.facts, dict):
                raise DiscussionFileError(f"{where}.facts: expected an object.")
            _check_fields(decision, where)
            actions[source_id] = decision.action
            if "previous_state" not in record:
                _missing(where, "previous_state")
            kind = _snapshot_kind(decision.action, actions.get(undoes))
            decision.previous_state = self._state_in(
                record["previous_state"], kind, f"{where}.previous_state"
            )
            if undoes is not None:
                if undoes not in new_id:
                    store()
                decision.undoes_id = new_id[undoes]
            waiting.append((source_id, decision))
        store()

    def _state_in(self, state, kind: str | None, where: str) -> dict:
        """The snapshot with this site's ids: reports and comments no longer in the
        document are left out (an undo must never touch another row that has their id)."""
        if not isinstance(state, dict):
            raise DiscussionFileError(f"{where} is not an object.")
        if kind == STATUS_SNAPSHOT and isinstance(state.get("open_flags"), list):
            flags = state["open_flags"]
            return {**state, "open_flags": [self.flag_ids[f] for f in flags if f in self.flag_ids]}
        if kind == ANCHORS_SNAPSHOT and isinstance(state.get("comments"), dict):
            comments = {}
            for source_id, anchor in state["comments"].items():
                new_id = self.comment_ids.get(parse_id(source_id))
                if new_id is None:
                    continue
                if not isinstance(anchor, list) or not anchor:
                    raise DiscussionFileError(f"{where}.comments.{source_id} is not a list.")
                paragraph = self.paragraph_id(
                    {"paragraph": anchor[0]},
                    "paragraph",
                    f"{where}.comments.{source_id}",
                    null=True,
                )
                comments[str(new_id)] = [paragraph, *anchor[1:]]
            return {**state, "comments": comments}
        return state

    def _subscriptions(self) -> None:
        subscriptions = []
        for where, record in self.records("subscriptions"):
            subscription = Subscription(
                essay=self.essay,
                user=self.member(record, "member", where, null=False),
                paragraph_id=self.paragraph_id(record, "paragraph", where, null=True),
                thread_id=self.comment_id(record, "thread", where, null=True),
                **_values_in(Subscription, SUBSCRIPTION_FIELDS, record, where),
            )
            _check_fields(subscription, where)
            subscriptions.append(subscription)
        Subscription.objects.bulk_create(subscriptions)


def _missing(where: str, name: str):
    raise DiscussionFileError(f"{where}: “{name}” is missing.")


def _text(record: dict, name: str, where: str) -> str:
    value = record.get(name) if name in record else _missing(where, name)
    if not isinstance(value, str):
        raise DiscussionFileError(f"{where}.{name}: expected a text, found {value!r}.")
    return value


def _reference(record: dict, name: str, where: str, *, null: bool) -> int | None:
    value = record.get(name) if name in record else _missing(where, name)
    if value is None and null:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DiscussionFileError(f"{where}.{name}: expected an id, found {value!r}.")
    return value


def _check_threading(where, parent_id, root_id, depth, seen) -> None:
    """A reply comes after the comment it answers, in its thread, one level deeper."""
    if parent_id is None:
        if root_id is not None or depth != 0:
            raise DiscussionFileError(f"{where}: a first comment has no root and depth 0.")
        return
    if parent_id not in seen:
        raise DiscussionFileError(
            f"{where}.parent: {parent_id} is not one of the comments before it."
        )
    parent_root, parent_depth = seen[parent_id]
    if root_id != (parent_root if parent_root is not None else parent_id):
        raise DiscussionFileError(f"{where}.root: {root_id} is not its parent's thread.")
    if depth != parent_depth + 1:
        raise DiscussionFileError(f"{where}.depth: {depth} is not its parent's depth plus one.")


def _values_in(model, names: list[str], record: dict, where: str) -> dict:
    """The record's values for the model's fields `names`, each of the field's type."""
    values = {}
    for name in names:
        if name not in record:
            _missing(where, name)
        values[name] = _value_in(model._meta.get_field(name), record[name], f"{where}.{name}")
    return values


def _value_in(field, value, where: str):
    if value is None:
        if field.null:
            return None
        raise DiscussionFileError(f"{where}: may not be null.")
    if isinstance(field, models.DateTimeField):
        when = None
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                when = datetime.fromisoformat(value)
        if when is None or when.tzinfo is None:
            raise DiscussionFileError(
                f"{where}: expected a date and time with its offset (ISO 8601), found {value!r}."
            )
        return when
    if isinstance(field, models.BooleanField):
        expected, ok = "true or false", isinstance(value, bool)
    elif isinstance(field, models.IntegerField):
        expected, ok = "a whole number", isinstance(value, int) and not isinstance(value, bool)
    else:
        expected, ok = "a text", isinstance(value, str)
    if not ok:
        raise DiscussionFileError(f"{where}: expected {expected}, found {value!r}.")
    return value


def _check_fields(instance: models.Model, where: str, *, exclude: list[str] = ()) -> None:
    """The model's own checks of each value (lengths, choices, slugs), without a query.

    An empty value is let through: rows the site wrote itself may hold one where a form
    would refuse it (the text of a comment whose author left, for one)."""
    relations = [field.name for field in instance._meta.fields if field.is_relation]
    try:
        instance.clean_fields(exclude=[*relations, *exclude])
    except ValidationError as error:
        problems = [
            f"{name}: {' '.join(message for e in errors for message in e.messages)}"
            for name, errors in error.error_dict.items()
            if any(e.code != "blank" for e in errors)
        ]
        if problems:
            raise DiscussionFileError(f"{where}: {'; '.join(problems)}") from None
