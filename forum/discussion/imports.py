"""Comments brought in from another site's export: WordPress (WXR) or Disqus (XML).

How a file becomes comments on one essay, and why:

- The file's posts (a WXR `item`, a Disqus `thread`) are matched to the essay by its slug
  (the post's slug, the last part of its link, a Disqus identifier) or by a link to the
  essay's page here; or named outright (`thread=`, by link or id). Disqus often splits one
  page into several threads (http and https, old identifiers): every matching thread comes.
- Only what the source published comes: WordPress comments approved (`1`) and of the
  ordinary type (no pingbacks, trackbacks or notes); Disqus posts neither spam nor deleted.
  A reply whose parent did not come joins the nearest ancestor that did (or starts a
  thread), so nothing published is lost and no text that was withheld is stored.
- Threading is kept with our own rule (`Comment.place_in_thread`); depth has no upper
  bound in storage (pages stop indenting past a depth), so a deep thread keeps its shape.
- Dates are the source's (UTC); author names are unclaimed names, like the seed's
  responses (`author=None`, `imported=True`); the address each was written under is kept,
  lower-cased, for claiming only.
- Bodies are HTML at the source: they go through our one sanitizer (`markup.sanitize_html`)
  with the comments' allowlist. WordPress stores a comment's text with its line breaks and
  adds paragraphs when it shows it, so we do the same first. `body` holds the text a reader
  sees (the Markdown source for an edit after the comment is claimed): no HTML is kept.
- CommentPress keeps a paragraph signature with each comment: the first letter of each
  distinct word of the paragraph's HTML, in order (`text_signature_generate` in CommentPress
  Core's parser). We compute the same signatures over our paragraphs and place a thread on
  the paragraph whose signature is the same or, failing that, at least 90% alike (as
  CommentPress itself re-attaches comments after an edit); otherwise on the whole essay.
- Each comment remembers where it came from (`source_id`, unique per essay): the site, the
  post and the comment's id there, because ids repeat from one site to another and even
  between the posts of one file. WordPress: `wxr:<blog>/<post id>/<comment id>`, the blog
  named by its address without the scheme (`wp:base_blog_url`, else the channel's `link`,
  else `wp:base_site_url`, else the post link's host; the base_site_url alone would name
  every wordpress.com blog alike), a post without an id by a hash of its link. Disqus:
  `disqus:<forum>/<post id>` (its ids are global, the forum says whose they are). Past the
  field's 100 characters the site and post become a hash (SOURCE_ID_HASH_LENGTH). So a
  second run adds nothing, a later export adds only what is new, and another site's file
  adds its own comments, never taken for ones already here.
- Planning and writing cost time in proportion to the comments, whatever their order in
  the file or the depth of their threads: parents are resolved through a dict in one walk,
  and the comments are written in one batch, then linked into their threads in SQL.
- Importing sends no notifications: these conversations happened elsewhere, long ago.
"""

import hashlib
import html
import re
import sqlite3
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from difflib import SequenceMatcher
from pathlib import Path
from urllib.parse import urlsplit
from xml.parsers import expat

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from essays.models import Essay, Paragraph

from .markup import has_visible_text, normalize_body, sanitize_html, visible_text
from .models import Comment

WXR = "wxr"
DISQUS = "disqus"
FORMAT_NAMES = {WXR: "WordPress export (WXR)", DISQUS: "Disqus export"}

# WordPress's namespace names its WXR version, and newer exports write it with https.
WP_NAMESPACES = re.compile(r"^\{https?://wordpress\.org/export/[0-9.]+/\}")
DISQUS_NAMESPACE = "{http://disqus.com}"
DISQUS_ID = "{http://disqus.com/disqus-internals}id"

# The comment meta key that carries a CommentPress paragraph signature in an export.
# CommentPress Core keeps the signature in a column it adds to WordPress's comments table,
# which WordPress's exporter does not write: a site copies it into comment meta under this
# key before exporting (the README of tests/data/imports/ says how).
SIGNATURE_META_KEYS = ("_cp_comment_signature", "comment_signature")
# CommentPress re-attaches a comment whose paragraph was edited when the signatures are at
# least this alike (its `comments_assign`, 90%).
SIGNATURE_SIMILARITY = 0.9
# The blocks CommentPress signs by default ("tag" parser: p, ul, ol), found as it finds them.
_COMMENTPRESS_BLOCK = re.compile(rb"<(p|ul|ol)[^>]*?>(.*?)</(p|ul|ol)>", re.IGNORECASE | re.DOTALL)
_NOT_A_LETTER = re.compile(rb"[^A-Za-z]")
# CommentPress stops after the word at this position (counting the empty ones).
_SIGNATURE_WORD_LIMIT = 250

# How much of a SHA-256 (in hex) names a site and post too long to be written out.
SOURCE_ID_HASH_LENGTH = 24
# Replies linked to their threads per query: within SQLite's oldest limit on parameters
# (999) at three a row.
THREAD_LINKS_PER_QUERY = 300

# WordPress comment types that are conversation; the rest are pings and notes.
WXR_COMMENT_TYPES = ("", "comment")
# Links whose last part names the page's folder, not the page.
_INDEX_PAGES = ("index.html", "index.htm", "index.php")


class ImportFileError(Exception):
    """The file cannot be imported as it is (not an export we read, or no post to take)."""


# What the file says -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceComment:
    source_id: str  # "wxr:blog.example/18/881", "disqus:forum/4"; "" when the file gives none
    parent_id: str  # the parent's source_id, or ""
    author_name: str
    author_email: str
    created: datetime | None
    html: str  # the body as HTML, before sanitizing
    signature: str = ""  # a CommentPress paragraph signature, or ""
    skip_reason: str = ""  # why it is not imported, or "" when it is


@dataclass
class SourceThread:
    """One post of the file, with its comments in the file's order."""

    source_id: str
    title: str
    link: str
    slugs: frozenset[str]  # what may name it: its slug, its link's last part, an identifier
    comments: list[SourceComment] = field(default_factory=list)

    def matches_essay(self, essay: Essay) -> bool:
        if essay.slug.lower() in self.slugs:
            return True
        return bool(self.link) and urlsplit(self.link).path == essay.get_absolute_url()

    def is_named(self, name: str) -> bool:
        name = name.strip()
        return bool(name) and (
            name in (self.source_id, self.link)
            or name.rstrip("/") == self.link.rstrip("/")
            or name.lower() in self.slugs
        )


@dataclass
class SourceFile:
    format: str
    threads: list[SourceThread]

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES[self.format]


def read_export(path: Path | str) -> SourceFile:
    """Read a WordPress (WXR) or Disqus export; raise ImportFileError for anything else."""
    path = Path(path)
    root_tag = _root_tag(path)
    try:
        if root_tag == "rss":
            return SourceFile(WXR, list(_read_wxr(path)))
        if root_tag == f"{DISQUS_NAMESPACE}disqus":
            return SourceFile(DISQUS, _read_disqus(path))
    except ElementTree.ParseError as error:
        raise ImportFileError(
            _("The file is not well-formed XML: %(error)s") % {"error": error}
        ) from error
    raise ImportFileError(
        _("The file is neither a WordPress (WXR) nor a Disqus export: its root is <%(tag)s>.")
        % {"tag": root_tag}
    )


class _RootFound(Exception):
    def __init__(self, tag: str):
        self.tag = tag


def _root_tag(path: Path) -> str:
    """The root element's name, read up to it and no further. Neither format declares a
    document type; a file that does is refused, so that no entity it defines is expanded."""

    def refuse_doctype(*args):
        raise ImportFileError(_("The file declares a document type; exports do not."))

    def root(name, attributes):
        raise _RootFound(name)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.StartElementHandler = root
    try:
        with path.open("rb") as file:
            while chunk := file.read(64 * 1024):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _RootFound as found:
        # expat writes "namespace}name"; ElementTree writes "{namespace}name".
        return "{" + found.tag if "}" in found.tag else found.tag
    except expat.ExpatError as error:
        raise ImportFileError(
            _("The file is not well-formed XML: %(error)s") % {"error": error}
        ) from error
    raise ImportFileError(_("The file is empty."))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ElementTree.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    """The first child with this local name, whatever its namespace (WXR 1.0, 1.1, 1.2)."""
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (child for child in element if _local(child.tag) == name)


def _read_wxr(path: Path) -> list[SourceThread]:
    depth = 0
    threads: list[SourceThread] = []
    channel: dict[str, str] = {}  # what the channel says of the site: link, base URLs
    # No entity can be declared: _root_tag refused any document type before this parse.
    for event, element in ElementTree.iterparse(path, events=("start", "end")):  # noqa: S314
        if event == "start":
            depth += 1
            continue
        depth -= 1
        # rss > channel > item: an item nested anywhere else is not a post.
        if depth == 2 and element.tag == "item":
            threads.append(_wxr_thread(element))
            element.clear()
        elif depth == 2 and _local(element.tag) in ("link", "base_blog_url", "base_site_url"):
            channel.setdefault(_local(element.tag), _text(element))
    # The channel's own elements may follow its items: the ids are named once all is read.
    site = channel.get("base_blog_url") or channel.get("link") or channel.get("base_site_url")
    return [_wxr_thread_named(thread, site or "") for thread in threads]


def _wxr_thread_named(thread: SourceThread, site: str) -> SourceThread:
    """The thread with its comments' ids in the file (`comment_id`) made ids of their own
    blog and post (see the module's docstring)."""
    site = _site_name(site or urlsplit(thread.link).netloc)
    post = thread.source_id or f"link-{_digest(thread.link)}"

    def named(comment_id: str) -> str:
        return _source_id(WXR, f"{site}/{post}", comment_id) if comment_id else ""

    thread.comments = [
        replace(comment, source_id=named(comment.source_id), parent_id=named(comment.parent_id))
        for comment in thread.comments
    ]
    return thread


def _site_name(url: str) -> str:
    """A site's address as it names the site: no scheme, no trailing slash, the host in
    lower case (a move from http to https keeps the name)."""
    parts = urlsplit(url.strip() if "//" in url else f"//{url.strip()}")
    return f"{parts.netloc.lower()}{parts.path}".rstrip("/")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SOURCE_ID_HASH_LENGTH]


def _source_id(format_: str, origin: str, item_id: str) -> str:
    """`format:origin/item`, within the field's length: a long origin becomes its hash, and
    an item id still too long (no export writes one) makes the whole a hash."""
    limit = Comment._meta.get_field("source_id").max_length
    for candidate in (
        f"{format_}:{origin}/{item_id}",
        f"{format_}:#{_digest(origin)}/{item_id}",
    ):
        if len(candidate) <= limit:
            return candidate
    return f"{format_}:#{_digest(f'{origin}/{item_id}')}"


def _wxr_thread(item: ElementTree.Element) -> SourceThread:
    link = _text(_child(item, "link"))
    post_name = _text(_child(item, "post_name"))
    thread = SourceThread(
        source_id=_text(_child(item, "post_id")),
        title=html.unescape(_text(_child(item, "title"))),
        link=link,
        slugs=_slugs(post_name, _slug_of_link(link)),
    )
    for element in _children(item, "comment"):
        if not WP_NAMESPACES.match(element.tag):
            continue
        thread.comments.append(_wxr_comment(element))
    return thread


def _wxr_comment(element: ElementTree.Element) -> SourceComment:
    def value(name: str) -> str:
        return _text(_child(element, name))

    meta = {
        _text(_child(entry, "meta_key")): _text(_child(entry, "meta_value"))
        for entry in _children(element, "commentmeta")
    }
    comment_id = value("comment_id")
    parent = value("comment_parent")
    content = _child(element, "comment_content")
    if value("comment_approved") != "1":
        skip = "not approved"
    elif value("comment_type") not in WXR_COMMENT_TYPES:
        skip = "pingback, trackback or note"
    elif not comment_id:
        skip = "no id"
    else:
        skip = ""
    return SourceComment(
        # The ids in the file: _wxr_thread_named makes them the blog's and post's.
        source_id=comment_id,
        parent_id=parent if parent not in ("", "0") else "",
        author_name=value("comment_author"),
        author_email=value("comment_author_email"),
        # The blog's local time stands in, as UTC, when WordPress wrote no UTC time (its
        # zone is not in the file): a date a few hours out rather than none.
        created=_wxr_date(value("comment_date_gmt")) or _wxr_date(value("comment_date")),
        html=_autop(content.text or "") if content is not None else "",
        signature=next((meta[key] for key in SIGNATURE_META_KEYS if meta.get(key)), ""),
        skip_reason=skip,
    )


def _wxr_date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:  # empty, or WordPress's "0000-00-00 00:00:00"
        return None


def _autop(text: str) -> str:
    """Paragraphs and line breaks as WordPress adds them when it shows a comment (a plain
    version of its `wpautop`): a blank line ends a paragraph, a newline breaks a line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [chunk.strip() for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]
    return "\n".join(f"<p>{chunk.replace(chr(10), '<br>' + chr(10))}</p>" for chunk in paragraphs)


def _read_disqus(path: Path) -> list[SourceThread]:
    threads: dict[str, SourceThread] = {}
    forums: dict[str, str] = {}  # thread id -> the forum it belongs to
    posts: list[tuple[str, SourceComment]] = []
    depth = 0
    # No entity can be declared: _root_tag refused any document type before this parse.
    for event, element in ElementTree.iterparse(path, events=("start", "end")):  # noqa: S314
        if event == "start":
            depth += 1
            continue
        depth -= 1
        # Threads and posts are the root's children; a post names its thread inside itself.
        if depth != 1:
            continue
        if element.tag == f"{DISQUS_NAMESPACE}thread":
            thread_id = element.get(DISQUS_ID, "")
            link = _text(_child(element, "link"))
            identifier = _text(_child(element, "id"))
            threads[thread_id] = SourceThread(
                source_id=thread_id,
                title=_text(_child(element, "title")),
                link=link,
                slugs=_slugs(_slug_of_link(link), identifier, _slug_of_link(identifier)),
            )
            forums[thread_id] = _text(_child(element, "forum"))
        elif element.tag == f"{DISQUS_NAMESPACE}post":
            posts.append(_disqus_post(element))
        element.clear()
    for thread_id, post in posts:
        if thread_id in threads:
            forum = forums[thread_id]

            def named(post_id: str, forum=forum) -> str:
                return _source_id(DISQUS, forum, post_id) if post_id else ""

            threads[thread_id].comments.append(
                replace(post, source_id=named(post.source_id), parent_id=named(post.parent_id))
            )
    return list(threads.values())


def _disqus_post(element: ElementTree.Element) -> tuple[str, SourceComment]:
    post_id = element.get(DISQUS_ID, "")
    parent = _child(element, "parent")
    thread = _child(element, "thread")
    author = _child(element, "author")
    if _text(_child(element, "isSpam")).lower() == "true":
        skip = "spam"
    elif _text(_child(element, "isDeleted")).lower() == "true":
        skip = "deleted"
    elif not post_id:
        skip = "no id"
    else:
        skip = ""
    parent_id = parent.get(DISQUS_ID, "") if parent is not None else ""
    message = _child(element, "message")
    comment = SourceComment(
        # The ids in the file: _read_disqus makes them the forum's.
        source_id=post_id,
        parent_id=parent_id,
        author_name=_text(_child(author, "name")) if author is not None else "",
        author_email=_text(_child(author, "email")) if author is not None else "",
        created=_disqus_date(_text(_child(element, "createdAt"))),
        # Disqus stores a message as the HTML it shows.
        html=(message.text or "") if message is not None else "",
        skip_reason=skip,
    )
    return (thread.get(DISQUS_ID, "") if thread is not None else ""), comment


def _disqus_date(value: str) -> datetime | None:
    try:
        created = datetime.fromisoformat(value)
    except ValueError:
        return None
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def _slug_of_link(link: str) -> str:
    """The last part of a link's path, without an index page or an extension."""
    parts = [part for part in urlsplit(link.strip()).path.split("/") if part]
    if parts and parts[-1].lower() in _INDEX_PAGES:
        parts.pop()
    if not parts:
        return ""
    return re.sub(r"\.(html?|php)$", "", parts[-1], flags=re.IGNORECASE)


def _slugs(*names: str) -> frozenset[str]:
    return frozenset(name.lower() for name in names if name)


# CommentPress paragraph signatures ---------------------------------------------------------


def text_signature(block_html: bytes) -> str:
    """CommentPress Core's signature of one block of HTML (`text_signature_generate`): the
    first letter of each distinct word, in order, where a word is a run of ASCII letters
    of the entity-decoded HTML, tags included. It works on bytes, as PHP does, so that the
    word limit counts what CommentPress counts."""
    decoded = html.unescape(block_html.decode("utf-8", "replace")).encode("utf-8")
    words = _NOT_A_LETTER.sub(b" ", decoded).split(b" ")
    seen = set()
    signature = []
    for position, word in enumerate(words):
        if word in seen:
            continue
        seen.add(word)
        signature.append(word[:1].decode("ascii"))
        if position > _SIGNATURE_WORD_LIMIT:
            break
    return "".join(signature)


def paragraph_signatures(paragraphs: list[Paragraph]) -> dict[str, Paragraph]:
    """The signature CommentPress would give each block of these paragraphs (in order),
    with its numbering of repeated signatures ("abc", "abc_1", ...)."""
    signatures: dict[str, Paragraph] = {}
    seen: set[str] = set()
    repeats: Counter[str] = Counter()
    for paragraph in paragraphs:
        for block in _COMMENTPRESS_BLOCK.finditer(paragraph.html.encode("utf-8")):
            signature = text_signature(block.group(0))
            if signature in seen:
                repeats[signature] += 1
                signature = f"{signature}_{repeats[signature]}"
            seen.add(signature)
            if paragraph.is_commentable:
                signatures[signature] = paragraph
    return signatures


def paragraph_for_signature(signature: str, signatures: dict[str, Paragraph]) -> Paragraph | None:
    """The paragraph a signature names: the same signature, else the most alike one that is
    at least SIGNATURE_SIMILARITY alike (the text was edited since); else none."""
    if not signature:
        return None
    if signature in signatures:
        return signatures[signature]
    best, best_ratio = None, SIGNATURE_SIMILARITY
    for candidate, paragraph in signatures.items():
        matcher = SequenceMatcher(None, signature, candidate, autojunk=False)
        if matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio >= best_ratio:
            best, best_ratio = paragraph, ratio
    return best


# The plan -----------------------------------------------------------------------------------


@dataclass
class PlannedComment:
    source: SourceComment
    parent_id: str  # the source_id of the comment it will reply to, or ""
    thread_id: str  # the source_id of its thread's first comment
    paragraph: Paragraph | None
    author_name: str
    author_email: str
    body: str
    body_html: str


@dataclass
class ImportPlan:
    essay: Essay
    source: SourceFile
    threads: list[SourceThread]
    comments: list[PlannedComment]  # to create, parents before their replies
    skipped: Counter[str]  # reason -> how many
    already_imported: int
    existing: dict[str, Comment]  # source_id -> a comment an earlier run created

    def per_paragraph(self) -> list[tuple[Paragraph | None, int, int]]:
        """(paragraph or None for the whole essay, comments, new threads), in essay order."""
        comments: Counter = Counter()
        threads: Counter = Counter()
        for planned in self.comments:
            comments[planned.paragraph] += 1
            threads[planned.paragraph] += not planned.parent_id
        return sorted(
            ((paragraph, comments[paragraph], threads[paragraph]) for paragraph in comments),
            key=lambda row: -1 if row[0] is None else row[0].position,
        )

    def per_thread(self) -> list[tuple[str, list[PlannedComment]]]:
        """(first comment's source_id, the planned comments of that thread), in file order."""
        threads: dict[str, list[PlannedComment]] = defaultdict(list)
        for planned in self.comments:
            threads[planned.thread_id].append(planned)
        return list(threads.items())


def threads_for_essay(source: SourceFile, essay: Essay, *, thread: str = "") -> list[SourceThread]:
    """The file's posts that hold this essay's comments: the one `thread` names (link, id
    or slug), else every post matching the essay's slug or address."""
    if thread:
        chosen = [candidate for candidate in source.threads if candidate.is_named(thread)]
    else:
        chosen = [candidate for candidate in source.threads if candidate.matches_essay(essay)]
    if chosen:
        return chosen
    listing = "\n".join(
        f"  {candidate.link or '(no link)'}  id {candidate.source_id or '?'}: "
        + ngettext("%(count)d comment", "%(count)d comments", len(candidate.comments))
        % {"count": len(candidate.comments)}
        for candidate in source.threads
        if candidate.comments
    )
    wanted = (
        _("named “%(thread)s”") % {"thread": thread}
        if thread
        else (_("matching the essay’s slug “%(slug)s”") % {"slug": essay.slug})
    )
    raise ImportFileError(
        _(
            "No post in the file is %(wanted)s. Posts with comments:\n%(listing)s\n"
            "Name one with --thread (its link or id)."
        )
        % {"wanted": wanted, "listing": listing or _("  (none)")}
    )


def import_plan(source: SourceFile, essay: Essay, *, thread: str = "") -> ImportPlan:
    """What importing would create on `essay`; reads the database, writes nothing."""
    threads = threads_for_essay(source, essay, thread=thread)
    in_file = [comment for candidate in threads for comment in candidate.comments]
    by_id = {comment.source_id: comment for comment in in_file if comment.source_id}
    existing = {
        comment.source_id: comment
        for comment in Comment.objects.filter(essay=essay)
        .exclude(source_id="")
        .select_related("paragraph", "root")
        .defer("body", "body_html", "root__body", "root__body_html")
    }
    skipped: Counter[str] = Counter()
    bodies: dict[str, tuple[str, str]] = {}
    for comment in in_file:
        reason = comment.skip_reason
        if not reason and comment.source_id in existing:
            continue
        if not reason:
            body_html = sanitize_html(comment.html)
            if has_visible_text(body_html):
                bodies[comment.source_id] = (_reading_text(body_html), body_html)
            else:
                reason = "no text"
        if reason:
            skipped[reason] += 1
    kept = set(bodies) | set(existing)
    parents = _nearest_kept_parents(by_id, bodies, kept)
    signatures = paragraph_signatures(
        list(essay.paragraphs.live().order_by("position")) if source.format == WXR else []
    )
    planned: dict[str, PlannedComment] = {}

    def place(source_id: str) -> PlannedComment:
        comment, parent_id = by_id[source_id], parents[source_id]
        if parent_id in planned:
            parent = planned[parent_id]
            paragraph, thread_id = parent.paragraph, parent.thread_id
        elif parent_id:
            parent = existing[parent_id]
            paragraph, thread_id = parent.paragraph, (parent.root or parent).source_id
        else:
            # A thread's place is its first comment's; replies follow their thread.
            paragraph = paragraph_for_signature(comment.signature, signatures)
            thread_id = source_id
        body, body_html = bodies[source_id]
        return PlannedComment(
            source=comment,
            parent_id=parent_id,
            thread_id=thread_id,
            paragraph=paragraph,
            author_name=_author_name(comment.author_name),
            author_email=_email(comment.author_email),
            body=body,
            body_html=body_html,
        )

    for source_id in _parents_first(list(bodies), parents):
        planned[source_id] = place(source_id)
    return ImportPlan(
        essay=essay,
        source=source,
        threads=threads,
        comments=list(planned.values()),
        skipped=skipped,
        already_imported=sum(1 for comment in in_file if comment.source_id in existing),
        existing=existing,
    )


def _nearest_kept_parents(
    by_id: dict[str, SourceComment], bodies: dict[str, tuple[str, str]], kept: set[str]
) -> dict[str, str]:
    """Each comment to create -> the comment it will answer: its parent if that one comes
    (or is here already), else the nearest ancestor that does (unapproved, deleted or spam
    parents are passed over), else "" (it starts a thread). One walk over the file: what a
    walk up through left-out comments finds is remembered for each of them."""
    found: dict[str, str] = {}  # a left-out comment -> the kept ancestor it leads to, or ""
    parents = {}
    for source_id in bodies:
        path, on_path = [], set()
        parent_id = by_id[source_id].parent_id
        while parent_id and parent_id not in kept and parent_id not in found:
            if parent_id in on_path:  # left-out comments answering one another in a loop
                parent_id = ""
                break
            on_path.add(parent_id)
            path.append(parent_id)
            parent_id = by_id[parent_id].parent_id if parent_id in by_id else ""
        if parent_id in found:
            parent_id = found[parent_id]
        found.update(dict.fromkeys(path, parent_id))
        # An ancestor that leads back to the comment itself is a loop: it starts a thread.
        parents[source_id] = "" if parent_id == source_id else parent_id
    return parents


def _parents_first(source_ids: list[str], parents: dict[str, str]) -> list[str]:
    """The comments to create, each after the one it answers, otherwise in the file's order:
    a walk up from each comment to the first placed ancestor, in linear time. Comments that
    answer one another in a loop (a broken file) lose one parent, the loop's first in the
    file's order: it starts a thread (`parents` is updated to say so)."""
    index = {source_id: position for position, source_id in enumerate(source_ids)}
    placed: set[str] = set()
    order: list[str] = []
    for source_id in source_ids:
        chain: list[str] = []  # from this comment up to its first placed (or no) ancestor
        on_chain: dict[str, int] = {}
        current = source_id
        while current in index and current not in placed:
            if current in on_chain:
                loop = chain[on_chain[current] :]
                first = min(loop, key=index.__getitem__)
                parents[first] = ""
                chain = chain[: on_chain[first] + 1]
                break
            on_chain[current] = len(chain)
            chain.append(current)
            current = parents[current]
        for planned in reversed(chain):
            placed.add(planned)
            order.append(planned)
    return order


def _reading_text(body_html: str) -> str:
    """The text a reader sees, kept as the comment's source (see the module's docstring)."""
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", visible_text(body_html))
    return normalize_body(re.sub(r"\n{3,}", "\n\n", text).strip())


def _author_name(name: str) -> str:
    # WordPress stores names HTML-escaped ("Ping 1 &laquo; ..."); we store text.
    name = " ".join(html.unescape(name).split())
    return name[: Comment._meta.get_field("author_name").max_length]


def _email(address: str) -> str:
    address = address.strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


# Writing ------------------------------------------------------------------------------------

RELATIONS_SET_HERE = ["essay", "paragraph", "parent", "root", "author"]


@transaction.atomic
def comments_import(plan: ImportPlan) -> list[Comment]:
    """Create the planned comments in one transaction; returns them. Comments an earlier or
    concurrent run created are skipped (the essay's row is the lock), so a second run adds
    nothing. They are written in the plan's order (parents first, so ids follow the
    threads), in batches without their parents, then linked to them in SQL: a thread
    thousands deep costs no more than as many top-level comments. The batch bumps the
    essay's discussion_version (CommentQuerySet.bulk_create), so cached pages refresh."""
    essay = Essay.objects.select_for_update().get(pk=plan.essay.pk)
    taken = set(
        Comment.objects.filter(essay=essay)
        .exclude(source_id="")
        .values_list("source_id", flat=True)
    )
    comments: dict[str, Comment] = dict(plan.existing)
    if taken & {planned.source.source_id for planned in plan.comments}:
        # Another run created some of them since the plan was made: reply under those.
        comments.update(
            (comment.source_id, comment)
            for comment in Comment.objects.filter(essay=essay, source_id__in=taken)
        )
    created: list[Comment] = []
    links: list[tuple[Comment, Comment, Comment]] = []  # (reply, parent, root)
    for planned in plan.comments:
        if planned.source.source_id in taken:
            continue
        comment = _new_comment(essay, planned, comments)
        if comment.parent is not None:
            links.append((comment, comment.parent, comment.root))
        created.append(comment)
    if not created:
        return []
    for reply, _parent, _root in links:
        # Stored without them (a parent may have no id yet), at the depth already set.
        reply.parent = reply.root = None
    Comment.objects.bulk_create(created)
    comments_link_threads([(reply.pk, parent.pk, root.pk) for reply, parent, root in links])
    for reply, parent, root in links:
        reply.parent, reply.root = parent, root
    return created


def comments_link_threads(links: list[tuple[int, int, int]]) -> None:
    """Give stored replies their parent and root: (comment id, parent id, root id) each.

    Not bulk_update: the CASE WHEN it builds for each row costs Django about 2 ms a reply
    (10 s for 4,000 replies); UPDATE ... FROM a list of values is a join, as
    essays/services.py writes paragraphs. The caller renews the essay's pages."""
    if not links:
        return
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33):
        replies = [Comment(pk=pk, parent_id=parent, root_id=root) for pk, parent, root in links]
        Comment.objects.bulk_update(replies, ["parent", "root"], batch_size=THREAD_LINKS_PER_QUERY)
        return
    quote = connection.ops.quote_name
    table = quote(Comment._meta.db_table)
    pk, parent, root = (
        quote(Comment._meta.get_field(name).column) for name in ("id", "parent", "root")
    )
    row = "(CAST(%s AS bigint), CAST(%s AS bigint), CAST(%s AS bigint))"
    with connection.cursor() as cursor:
        for start in range(0, len(links), THREAD_LINKS_PER_QUERY):
            batch = links[start : start + THREAD_LINKS_PER_QUERY]
            # Only quoted names of our own model and placeholders go into the text.
            cursor.execute(
                f"WITH incoming (reply, parent, root) AS (VALUES {', '.join([row] * len(batch))}) "  # noqa: S608
                f"UPDATE {table} SET {parent} = incoming.parent, {root} = incoming.root "
                f"FROM incoming WHERE {table}.{pk} = incoming.reply",
                [value for link in batch for value in link],
            )


def _new_comment(essay: Essay, planned: PlannedComment, comments: dict[str, Comment]) -> Comment:
    parent = comments[planned.parent_id] if planned.parent_id else None
    comment = Comment(
        essay=essay,
        paragraph=planned.paragraph,
        **Comment.place_in_thread(parent),
        author=None,
        author_name=planned.author_name,
        imported=True,
        imported_email=planned.author_email,
        source_id=planned.source.source_id,
        body=planned.body,
        body_html=planned.body_html,
        status=Comment.Status.PUBLISHED,
        created=planned.source.created,
        # As comment_post does: a reply belongs to its thread's anchor.
        anchor_text=parent.anchor_text if parent else getattr(planned.paragraph, "text", ""),
        anchor_revision=parent.anchor_revision if parent else essay.revision,
        anchor_status=parent.anchor_status if parent else Comment.AnchorStatus.PLACED,
    )
    comment.full_clean(exclude=RELATIONS_SET_HERE, validate_constraints=False)
    comments[planned.source.source_id] = comment
    return comment
