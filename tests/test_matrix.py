"""The site-wide matrix: every URL pattern x every role x GET and POST, plain and htmx, with
real objects in every state (tests/matrix_world.py builds them through the services).

The expectations live in one table, TABLE, keyed by the pattern's "namespace:name". A
pattern the URLconf has and the table lacks fails `test_every_url_pattern_is_in_the_table`
with its name. Django's admin and allauth's pages are covered as groups, GET only
(`test_admin_pages`, `test_allauth_pages`).

Each cell runs in a transaction that is rolled back, so a successful POST leaves the next
cell's world as it was. In every cell:

- the answer is one the table allows, and never a 500 (the exception is reported);
- no response body holds the text of a comment this viewer may not read (`may_read`);
- a refusal (a 4xx, or a redirect to a login page) changes nothing in the database;
- a redirect that is not to a login page leads to a page that answers 200;
- a moderation action that answers with success has changed something (a refusal must
  be a 4xx, not a redirect with a message).

Failures are collected per URL pattern and reported together, one line per cell:
"<pattern> [<variant>] <url> <role> <method>: <what happened>".

Speed: the whole product of variants and roles takes a third longer. Each pattern's key
variants (`Url.keys`) run every role; its other variants run SWEEP_ROLES, the roles whose
answers differ from variant to variant. Every (pattern, role, method, htmx) and every
(comment URL, comment state) is still covered; left out are the unverified reader, the
suspended reader, staff and the superuser on the non-key variants.
"""

import copy
import dataclasses
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from essays.models import Essay, PublicationJob
from tests.conftest import PASSWORD
from tests.matrix_world import (
    MISSING_PK,
    MODERATOR_ROLES,
    ON_PUBLISHED_ESSAY,
    PUBLISHED_STATES,
    ROLES,
    STATES,
    WRITER_ROLES,
    World,
    build_world,
    fingerprint,
    fingerprint_diff,
    marker,
)

PROJECT = Path(__file__).resolve().parent.parent

# The roles whose answers differ from one variant (a comment's state, say) to another. The
# others (unverified, suspended reader, staff, superuser) answer like the reader or the
# moderator whatever the variant: they run on each pattern's key variants.
SWEEP_ROLES = ("anonymous", "reader", "author", "moderator", "suspended_moderator")

# Comment states whose text not everyone may read.
HIDDEN_STATES = ("pending", "hidden", "removed", "deleted", "draft")


def may_read(user_key: str, state: str) -> bool:
    """Who may read a comment's text: published, everyone; pending, its author and
    moderators; hidden after reports, removed, deleted by its author, or on an essay taken
    back to draft, moderators only. A suspended moderator is a reader."""
    if state in PUBLISHED_STATES or user_key in MODERATOR_ROLES:
        return True
    return state == "pending" and user_key == "newbie"  # its author


# Outcomes ---------------------------------------------------------------------------------

# A cell's outcome is its status code as text, or "login" (a redirect to a login page), or
# "redirect" (any other redirect). An expectation is a set of outcomes; "4xx" allows any
# refusal, "*" anything but a 500.
LOGIN = frozenset({"login"})
REDIRECT = frozenset({"redirect"})
OK = frozenset({"200"})
BAD = frozenset({"400"})
FORBIDDEN = frozenset({"403"})
NOT_FOUND = frozenset({"404"})
NOT_ALLOWED = frozenset({"405"})
CONFLICT = frozenset({"409"})
ANY_4XX = frozenset({"4xx"})
NOT_500 = frozenset({"*"})


# The table's vocabulary -------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One way to fill a pattern's arguments, with the facts its rules read."""

    label: str
    kwargs: dict = field(default_factory=dict)
    query: str = ""
    state: str = ""  # the comment's state, for comment URLs
    owner: str = "alice"  # the world user the "author" role stands for here
    posts: dict = field(default_factory=lambda: {"post": {}})  # POST data sets, by label
    facts: frozenset = frozenset()


@dataclass(frozen=True)
class Cell:
    name: str
    variant: Variant
    role: str
    method: str
    htmx: bool
    dataset: str = ""  # the label of the POST data set

    @property
    def state(self) -> str:
        return self.variant.state

    @property
    def anonymous(self) -> bool:
        return self.role == "anonymous"

    def has(self, fact: str) -> bool:
        return fact in self.variant.facts


Rule = Callable[[Cell], frozenset]


@dataclass(frozen=True)
class Url:
    """A pattern: how to fill it from the world, and what each cell must answer.

    `post=None`: a page that only reads; a POST shows it again or answers 405.
    `must_change`: a successful POST must change the database (moderation actions).
    `keys`: the variants that run every role; the others run SWEEP_ROLES. Without keys,
    every variant runs every role."""

    variants: Callable[[World], list[Variant]]
    get: Rule
    post: Rule | None = None
    must_change: bool = False
    keys: tuple = ()


def everyone(result: frozenset) -> Rule:
    return lambda c: result


def only(fact: str, rule: Rule, otherwise: frozenset = NOT_FOUND) -> Rule:
    """The rule where the variant has `fact`; elsewhere (nothing there) a 404."""
    return lambda c: rule(c) if c.has(fact) else otherwise


def members(rule: Rule) -> Rule:
    """login_required: an anonymous visitor is sent to log in."""
    return lambda c: LOGIN if c.anonymous else rule(c)


def moderators(rule: Rule) -> Rule:
    """Moderation: anonymous -> log in; a member who may not moderate (a suspended
    moderator, staff without the permission) -> 403."""

    def check(c):
        if c.anonymous:
            return LOGIN
        return rule(c) if c.role in MODERATOR_ROLES else FORBIDDEN

    return check


def post_only(access: Callable[[Rule], Rule]) -> Rule:
    """GET on a POST-only URL: its access checks first, then 405."""
    return access(everyone(NOT_ALLOWED))


def by_dataset(**rules: Rule) -> Rule:
    return lambda c: rules[c.dataset](c)


def success(c: Cell) -> frozenset:
    """A POST that worked: a redirect; with htmx, the fragment itself may answer."""
    return REDIRECT | OK if c.htmx else REDIRECT


def writer(ok: Rule) -> Rule:
    """Writing a comment or a report: verified, unsuspended members only. A logged-out
    attempt answers 403 (the text kept for after logging in) or sends them to log in."""

    def check(c):
        if c.anonymous:
            return FORBIDDEN | LOGIN
        return ok(c) if c.role in WRITER_ROLES else FORBIDDEN

    return check


def refused_to_all(c: Cell) -> frozenset:
    """Comments closed, or the thread locked: every attempt to write is refused."""
    return FORBIDDEN | LOGIN if c.anonymous else FORBIDDEN


# The world's objects as URL arguments -----------------------------------------------------


def comment_variants(w: World, posts: dict | None = None) -> list[Variant]:
    """One variant per comment state; "missing" names no comment."""
    return [
        Variant(
            state,
            {"pk": MISSING_PK if state == "missing" else w.comments[state].pk},
            state=state,
            owner=w.author_of(state),
            posts=posts or {"post": {}},
        )
        for state in STATES
    ]


def essay_variants(w: World, posts: dict | None = None) -> list[Variant]:
    posts = posts or {"post": {}}
    e = w.essays
    return [
        Variant("open", {"slug": e["open"].slug}, posts=posts, facts=frozenset({"live"})),
        Variant(
            "closed", {"slug": e["closed"].slug}, posts=posts, facts=frozenset({"live", "closed"})
        ),
        Variant("draft", {"slug": e["draft"].slug}, posts=posts),
        Variant("missing", {"slug": "no-such-essay"}, posts=posts),
    ]


def paragraph_variants(w: World, posts: dict | None = None) -> list[Variant]:
    posts = posts or {"post": {}}
    slug, closed, draft = (w.essays[name].slug for name in ("open", "closed", "draft"))
    p = w.paragraphs

    def variant(label, slug, key, *facts):
        return Variant(label, {"slug": slug, "key": key}, posts=posts, facts=frozenset(facts))

    return [
        # Alpha holds the published and the pending comment; Beta, moved by the revision,
        # the hidden one; Delta's thread is locked; Epsilon received the re-attached thread;
        # Gamma was retired by the revision, its threads orphaned.
        variant("alpha", slug, p["alpha"].key, "live"),
        variant("beta-moved", slug, p["beta"].key, "live"),
        variant("delta-locked", slug, p["delta"].key, "live"),
        variant("epsilon-reattached", slug, p["epsilon"].key, "live"),
        variant("gamma-retired", slug, p["gamma"].key, "retired"),
        variant("heading", slug, p["heading"].key),  # headings are not discussed
        variant("missing", slug, "nosuchkey"),
        variant("closed-essay", closed, p["closed"].key, "live", "closed"),
        variant("draft-essay", draft, p["draft"].key),
    ]


def revision_variants(w: World) -> list[Variant]:
    slug = w.essays["open"].slug
    exists = frozenset({"exists"})
    return [
        Variant("open-r1", {"slug": slug, "number": 1}, facts=exists),
        Variant("open-r2", {"slug": slug, "number": 2}, facts=exists),
        Variant("open-r3-missing", {"slug": slug, "number": 3}),
        Variant("closed-r1", {"slug": w.essays["closed"].slug, "number": 1}, facts=exists),
        Variant("draft-r1", {"slug": w.essays["draft"].slug, "number": 1}),
    ]


def addressed_variants(w: World) -> list[Variant]:
    """Marking a thread addressed in a revision (the open essay has revisions 1 and 2, the
    second published after its threads were written; the closed essay only a first).
    Facts: "done" (the editor's mark is made), "bad" (400), "conflict" (409), "missing"."""
    c = w.comments

    def mark(label, state, data, *facts):
        pk = MISSING_PK if state == "missing" else c[state].pk
        return Variant(label, {"pk": pk}, posts={"post": data}, facts=frozenset(facts))

    r2 = {"revision": "2"}
    return [
        mark("published/r2", "published", r2, "done"),
        mark("reattached/r2", "reattached", r2, "done"),
        mark("published/r1-before-it", "published", {"revision": "1"}, "bad"),
        mark("published/r3-missing", "published", {"revision": "3"}, "bad"),
        mark("published/no-revision", "published", {"revision": "two"}, "bad"),
        mark("published/unmark-unmarked", "published", {"unmark": "1"}, "conflict"),
        mark("closed/r2-of-another-essay", "closed", r2, "bad"),
        mark("retired/a-reply", "retired", r2, "bad"),
        mark("hidden/r2", "hidden", r2, "conflict"),
        mark("pending/r2", "pending", r2, "conflict"),
        mark("deleted/r2", "deleted", r2, "conflict"),
        mark("draft/r1", "draft", {"revision": "1"}, "missing"),
        mark("missing/r2", "missing", r2, "missing"),
    ]


def may_mark_addressed(c: Cell) -> frozenset:
    """Only the essay's editor (here the superuser) marks a thread addressed: anyone else
    is refused before anything is looked up, missing threads included."""
    if c.role != "superuser":
        return FORBIDDEN
    if c.has("done"):
        return success(c)
    if c.has("missing"):
        return NOT_FOUND
    return CONFLICT if c.has("conflict") else BAD


def single(**posts: dict) -> Callable[[World], list[Variant]]:
    return lambda w: [Variant("-", posts=posts or {"post": {}})]


def action(label: str, kwargs: dict, *facts: str, data: dict | None = None) -> Variant:
    """A moderation POST's variant. Facts: "refused" (must answer a 4xx), "missing" (names
    nothing: 404), "owner-only" (only the superuser, the site's owner, may)."""
    return Variant(label, kwargs, posts={"post": data or {}}, facts=frozenset(facts))


NEW_COMMENT = {"body": "A new comment written in the matrix."}
PREVIEW = {"body": "A draft to preview in the matrix.", "preview": "1"}
COMPOSE_POSTS = {"post": NEW_COMMENT, "preview": PREVIEW}
SUSPEND = {"kind": "suspension", "length": "1d", "reason": "Testing the matrix"}

COMMENT_ACTIONS = [
    # (comment state, action, POST data, facts)
    ("pending", "approve", {}, ()),
    ("hidden", "approve", {}, ()),
    ("published", "remove", {"reason_code": "spam"}, ()),
    ("published", "remove", {}, ("refused",)),  # a removal needs its public reason
    ("deleted", "remove", {"reason_code": "spam"}, ("refused",)),
    ("removed", "restore", {}, ()),
    ("published", "restore", {}, ("refused",)),
    ("published", "lock", {}, ()),
    ("locked", "lock", {}, ("refused",)),
    ("locked", "unlock", {}, ()),
    # An action that does not exist names nothing: 404 (stricter than a 403, which says
    # "you may not").
    ("published", "explode", {}, ("missing",)),
]


def comment_action_variants(w: World) -> list[Variant]:
    variants = []
    for state, verb, data, facts in COMMENT_ACTIONS:
        label = f"{state}/{verb}" + ("/no-reason" if verb == "remove" and not data else "")
        kwargs = {"pk": w.comments[state].pk, "action": verb}
        variants.append(action(label, kwargs, *facts, data=data))
    variants.append(action("missing/approve", {"pk": MISSING_PK, "action": "approve"}, "missing"))
    return variants


def reattach_variants(w: World) -> list[Variant]:
    c, p = w.comments, w.paragraphs
    orphaned = {"pk": c["orphaned"].pk}
    return [
        action("orphaned->alpha", orphaned, data={"paragraph": p["alpha"].pk}),
        action("moved->alpha", {"pk": c["moved"].pk}, data={"paragraph": p["alpha"].pk}),
        action("orphaned->retired", orphaned, "refused", data={"paragraph": p["gamma"].pk}),
        action("orphaned->heading", orphaned, "refused", data={"paragraph": p["heading"].pk}),
        action(
            "closed->other-essay",
            {"pk": c["closed"].pk},
            "refused",
            data={"paragraph": p["alpha"].pk},
        ),
        action("orphaned->missing", orphaned, "missing", data={"paragraph": MISSING_PK}),
        # A paragraph id that is not a number is the client's mistake: 400 (or 404).
        action("orphaned->abc", orphaned, "bad", data={"paragraph": "abc"}),
        action("missing", {"pk": MISSING_PK}, "missing", data={"paragraph": p["alpha"].pk}),
    ]


def essay_action_variants(w: World) -> list[Variant]:
    e = w.essays
    return [
        action("open/close", {"pk": e["open"].pk, "action": "close"}),
        action("closed/close", {"pk": e["closed"].pk, "action": "close"}, "refused"),
        action("closed/reopen", {"pk": e["closed"].pk, "action": "reopen"}),
        action("open/premoderate", {"pk": e["open"].pk, "action": "premoderate"}),
        action(
            "open/stop-premoderating",
            {"pk": e["open"].pk, "action": "stop-premoderating"},
            "refused",
        ),
        action("open/explode", {"pk": e["open"].pk, "action": "explode"}, "missing"),
        action("missing/close", {"pk": MISSING_PK, "action": "close"}, "missing"),
    ]


def member_variants(w: World) -> list[Variant]:
    return [
        Variant(name, {"pk": w.users[name].pk}, owner=name)
        for name in ("alice", "newbie", "suspended")
    ] + [Variant("missing", {"pk": MISSING_PK}, facts=frozenset({"missing"}))]


def restrict_variants(w: World) -> list[Variant]:
    u = w.users
    return [
        action("alice", {"pk": u["alice"].pk}, data=SUSPEND),
        action("already-suspended", {"pk": u["suspended"].pk}, "refused", data=SUSPEND),
        action("no-reason", {"pk": u["alice"].pk}, "refused", data={**SUSPEND, "reason": ""}),
        # Only the site's owner restricts a moderator (and a moderator never themselves).
        action("the-moderator", {"pk": u["moderator"].pk}, "owner-only", data=SUSPEND),
        action("the-superuser", {"pk": u["superuser"].pk}, "refused", data=SUSPEND),
        action("missing", {"pk": MISSING_PK}, "missing", data=SUSPEND),
    ]


def lift_variants(w: World) -> list[Variant]:
    u = w.users
    return [
        action("suspended", {"pk": u["suspended"].pk, "kind": "suspension"}),
        # Only the site's owner lifts a moderator's suspension.
        action(
            "suspended-moderator",
            {"pk": u["suspended_moderator"].pk, "kind": "suspension"},
            "owner-only",
        ),
        action("alice-nothing", {"pk": u["alice"].pk, "kind": "suspension"}, "refused"),
        # An unknown kind names nothing: 404 (stricter than a 403).
        action("alice-explode", {"pk": u["alice"].pk, "kind": "explode"}, "missing"),
        action("missing", {"pk": MISSING_PK, "kind": "suspension"}, "missing"),
    ]


def level_variants(w: World) -> list[Variant]:
    u = w.users
    trusted = {"level": "2"}
    return [
        action("alice", {"pk": u["alice"].pk}, data=trusted),
        action("no-such-level", {"pk": u["alice"].pk}, "refused", data={"level": "nine"}),
        action("no-change", {"pk": u["alice"].pk}, "refused", data={"level": "auto"}),
        # Only the site's owner sets a moderator's level (and a moderator never their own).
        action("the-moderator", {"pk": u["moderator"].pk}, "owner-only", data=trusted),
        action("the-superuser", {"pk": u["superuser"].pk}, "refused", data=trusted),
        action("missing", {"pk": MISSING_PK}, "missing", data=trusted),
    ]


def undo_variants(w: World) -> list[Variant]:
    d = w.decisions
    return [
        action("a-removal", {"pk": d["remove"].pk}),
        action("an-undo", {"pk": d["undo"].pk}, "refused"),
        action("already-undone", {"pk": d["undone"].pk}, "refused"),
        action("missing", {"pk": MISSING_PK}, "missing"),
    ]


def bulk_variants(w: World) -> list[Variant]:
    c = w.comments
    return [
        action("approve-pending", {}, data={"comments": [c["pending"].pk], "action": "approve"}),
        action(
            "remove-published",
            {},
            data={"comments": [c["published"].pk], "action": "remove", "reason_code": "spam"},
        ),
        # Nothing (valid) chosen: refused, and a refusal is a 4xx.
        action("nothing-chosen", {}, "refused", data={"action": "approve"}),
        action("comments-abc", {}, "refused", data={"comments": ["abc"], "action": "approve"}),
        action(
            "action-bogus", {}, "refused", data={"comments": [c["pending"].pk], "action": "bogus"}
        ),
    ]


FOLLOWABLE_THREADS = PUBLISHED_STATES - {"retired"}  # "retired" is a reply, not a thread


def subscription_variants(w: World) -> list[Variant]:
    e, p = w.essays, w.paragraphs
    essay = e["open"].pk
    variants = [
        action("follow-essay", {}, "ok", data={"essay": essay, "level": "follow"}),
        action(
            "mute-paragraph",
            {},
            "ok",
            data={"essay": essay, "paragraph": p["alpha"].pk, "level": "mute"},
        ),
        action("reset-essay", {}, "ok", data={"essay": essay, "level": ""}),
        # Ids that are not numbers, or none at all, are the client's mistake: 400.
        action("essay-abc", {}, "bad", data={"essay": "abc", "level": "follow"}),
        action("no-essay", {}, "bad", data={"level": "follow"}),
        action("thread-abc", {}, "bad", data={"essay": essay, "thread": "abc"}),
        action("paragraph-abc", {}, "bad", data={"essay": essay, "paragraph": "x"}),
        action("level-bogus", {}, "bad", "or-404", data={"essay": essay, "level": "bogus"}),
        action(
            "retired-paragraph",
            {},
            data={"essay": essay, "paragraph": p["gamma"].pk, "level": "follow"},
        ),
        action("draft-essay", {}, data={"essay": e["draft"].pk, "level": "follow"}),
    ]
    # Following a thread: a published one only (by its root), on a published essay.
    for state in STATES:
        comment = w.comments.get(state)
        data = {
            "essay": comment.essay_id if comment else essay,
            "thread": comment.pk if comment else MISSING_PK,
            "level": "follow",
        }
        facts = ("ok",) if state in FOLLOWABLE_THREADS else ()
        variants.append(action(f"thread-{state}", {}, *facts, data=data))
    return variants


def notification_variants(w: World) -> list[Variant]:
    n = w.notifications
    return [
        Variant("reader's", {"pk": n["reader"].pk}, owner="reader", facts=frozenset({"reader"})),
        # Alice's notice that her comment was removed: it leads to its placeholder.
        Variant("alice-removed", {"pk": n["alice-removed"].pk}, facts=frozenset({"alice"})),
        Variant("missing", {"pk": MISSING_PK}),
    ]


def unsubscribe_variants(w: World) -> list[Variant]:
    return [
        Variant(
            "valid",
            {"token": w.tokens["reader"].token},
            posts={"post": {}, "one-click": {"List-Unsubscribe": "One-Click"}},
            facts=frozenset({"valid"}),
        ),
        Variant("unknown", {"token": "no-such-token"}),
    ]


def profile_variants(w: World) -> list[Variant]:
    u = w.users
    shown = frozenset({"shown"})
    return [
        Variant("alice", {"pk": u["alice"].pk}, facts=shown),
        # Newbie has only a pending comment: their profile shows none of it to others.
        Variant("newbie", {"pk": u["newbie"].pk}, owner="newbie", facts=shown),
        Variant("inactive", {"pk": u["inactive"].pk}),
        Variant("missing", {"pk": MISSING_PK}),
    ]


def publish_variants(w: World) -> list[Variant]:
    essay = w.essays["open"]
    preview = {"source": essay.source, "preview": "1"}
    return [
        Variant("open", {"slug": essay.slug}, posts={"preview": preview}),
        Variant("missing", {"slug": "no-such-essay"}, facts=frozenset({"missing"})),
    ]


def publication_variants(w: World) -> list[Variant]:
    """A publication job of the open essay; the same job asked for under another essay."""
    essay = w.essays["open"]
    job, _ = PublicationJob.objects.get_or_create(
        essay=essay, source=essay.source, base_revision=essay.revision, old_paragraphs=0
    )
    missing = frozenset({"missing"})
    return [
        Variant("queued", {"slug": essay.slug, "pk": job.pk}),
        Variant("missing", {"slug": essay.slug, "pk": MISSING_PK}, facts=missing),
        Variant("other-essay", {"slug": w.essays["closed"].slug, "pk": job.pk}, facts=missing),
    ]


# The rules of the pages ---------------------------------------------------------------------

# Writing on an essay or a paragraph: the form answers 200 to all; posting is for writers,
# refused to all on a closed essay; a preview is for anyone. Nothing where nothing is live.
compose = only(
    "live",
    lambda c: (
        OK
        if c.method == "GET" or c.dataset == "preview"
        else refused_to_all(c)
        if c.has("closed")
        else writer(success)(c)
    ),
)


# The answer to a POST replying to a comment that is not published: 409, with the reader's
# text kept in the form and the parent shown only as a placeholder (a GET is a 404). Nothing
# is learnt that the thread's placeholder does not already say.
REPLY_TO_UNPUBLISHED = CONFLICT


def reply(c: Cell) -> frozenset:
    """A reply: refused unless the parent is published, and never showing the parent's
    text (it once did, to an anonymous visitor, with POST and preview=1). Orphaned
    threads still take replies; locked threads and closed essays refuse everyone."""
    if c.state not in PUBLISHED_STATES:
        if c.method == "GET" or c.state in ("missing", "draft"):
            return NOT_FOUND
        return REPLY_TO_UNPUBLISHED
    if c.method == "GET" or c.dataset == "preview":
        return OK
    if c.state in ("locked", "closed"):
        return refused_to_all(c)
    return writer(success)(c)


def own_comment(ok: Rule) -> Rule:
    """Editing or deleting: its author only, while it is published or pending; a hidden,
    removed or deleted comment is a conflict (409). A comment on an essay taken back to
    draft is not there (404) outside moderation, for its author too."""

    def check(c):
        if c.anonymous:
            return LOGIN
        if c.state == "missing":
            return NOT_FOUND
        if c.state == "draft":
            return NOT_FOUND if c.role == "author" else FORBIDDEN | NOT_FOUND
        if c.role != "author":
            return FORBIDDEN
        if c.state in PUBLISHED_STATES or c.state == "pending":
            return ok(c)
        return CONFLICT

    return check


def report(c: Cell) -> frozenset:
    """Published comments, or comments hidden a moment ago (the form was open when the
    third report came), can be reported by verified readers but not by their author;
    every other state is a 404."""
    if c.anonymous:
        return LOGIN
    if c.state not in PUBLISHED_STATES | {"hidden"}:
        return NOT_FOUND
    if c.method == "GET":
        return OK
    return FORBIDDEN if c.role == "author" else writer(success)(c)


def moderator_action(c: Cell) -> frozenset:
    if c.has("missing"):
        return NOT_FOUND
    if c.has("bad"):
        return BAD | NOT_FOUND
    if c.has("refused") or (c.has("owner-only") and c.role != "superuser"):
        return ANY_4XX
    return success(c)


def subscription_set(c: Cell) -> frozenset:
    if c.has("ok"):
        return success(c)
    if c.has("bad"):
        return BAD | NOT_FOUND if c.has("or-404") else BAD
    return NOT_FOUND


def recipient_only(c: Cell) -> frozenset:
    """A notification opens (a redirect to its comment) for its recipient only."""
    if c.anonymous:
        return LOGIN
    return REDIRECT if c.has(c.variant.owner if c.role == "author" else c.role) else NOT_FOUND


def live_variants(variants: list[Variant]) -> list[Variant]:
    """Each variant asked first (no query) and later (`?since=0`), and one bad question."""
    asked = [
        dataclasses.replace(v, label=v.label + tag, query=query)
        for v in variants
        for tag, query in (("", ""), ("+since", "?since=0"))
    ]
    bad = dataclasses.replace(variants[0], label="bad-since", query="?since=soon")
    return [*asked, dataclasses.replace(bad, facts=bad.facts | {"bad"})]


def live_question(c: Cell) -> frozenset:
    """Whether others have written: a count (200) or nothing new (204) where the discussion
    is live; a question that is not a time is a 400."""
    if c.has("bad"):
        return BAD
    return frozenset({"200", "204"}) if c.has("live") else NOT_FOUND


def claim_refused(c: Cell) -> frozenset:
    """Claiming a comment: the world's comments were written here, not imported, so every
    member is refused (403); a comment on an unpublished essay, or none, is not found."""
    return NOT_FOUND if c.state in ("draft", "missing") else FORBIDDEN


def may_publish(c: Cell) -> frozenset:
    """The essay publish page is for editors (here the superuser). A member without the
    permission gets a 403, not a loop back to the login page."""
    if c.anonymous:
        return LOGIN
    if c.role != "superuser":
        return FORBIDDEN | NOT_FOUND if c.has("missing") else FORBIDDEN
    return NOT_FOUND if c.has("missing") else OK


def paragraph_page(c: Cell) -> frozenset:
    """Paragraph pages answer 200 to every role. A retired paragraph's page is not a 404
    (stricter reading: links from before the revision keep working): it shows the
    paragraph as on an earlier version, or redirects to a page that does."""
    if c.has("live"):
        return OK
    return OK | REDIRECT if c.has("retired") else NOT_FOUND


def paragraph_panel(c: Cell) -> frozenset:
    """The discussion panel of the reading page (htmx); without htmx, a redirect to the
    paragraph's page. A retired paragraph has no panel, or leads to its page."""
    shown = OK if c.htmx else REDIRECT
    if c.has("live"):
        return shown
    return NOT_FOUND | shown if c.has("retired") else NOT_FOUND


TABLE: dict[str, Url] = {
    # Django's admin ("admin:*") and allauth's pages ("account_*", no namespace) are not
    # listed here: they are covered as groups, GET only, by test_admin_pages and
    # test_allauth_pages.
    # essays: earlier revisions and what they changed, for everyone; publishing, for editors.
    "essays:revision_detail": Url(
        revision_variants, get=only("exists", everyone(OK)), keys=("open-r2",)
    ),
    "essays:revision_changes": Url(
        revision_variants, get=only("exists", everyone(OK)), keys=("open-r2",)
    ),
    "essays:essay_publish": Url(publish_variants, get=may_publish, post=may_publish),
    "essays:publication_detail": Url(publication_variants, get=may_publish),
    # discussion ---------------------------------------------------------------------------
    "discussion:home": Url(single(), get=everyone(OK)),
    # The community guidelines: read by everyone, edited only in the admin.
    "discussion:guidelines": Url(single(), get=everyone(OK)),
    # For load balancers: the same answer for everyone (the world's worker is not behind).
    "healthz": Url(single(), get=everyone(OK)),
    # The essay page answers 200 to every role whatever its threads' states (orphaned ones
    # included: signed-in readers once got a 500 there).
    "discussion:essay_detail": Url(essay_variants, get=only("live", everyone(OK)), keys=("open",)),
    "discussion:essay_comment": Url(
        lambda w: essay_variants(w, COMPOSE_POSTS),
        get=compose,
        post=compose,
        keys=("open", "closed"),
    ),
    "accounts:claims": Url(single(), get=members(everyone(OK))),
    "accounts:claim": Url(
        comment_variants, get=post_only(members), post=members(claim_refused), keys=("published",)
    ),
    "discussion:paragraph_detail": Url(
        paragraph_variants, get=paragraph_page, keys=("beta-moved",)
    ),
    "discussion:paragraph_thread": Url(
        paragraph_variants, get=paragraph_panel, keys=("beta-moved",)
    ),
    "discussion:paragraph_comment": Url(
        lambda w: paragraph_variants(w, COMPOSE_POSTS),
        get=compose,
        post=compose,
        keys=("beta-moved", "closed-essay"),
    ),
    # No login needed, nothing stored.
    "discussion:comment_preview": Url(
        single(post={"body": "Some *Markdown* to preview."}),
        get=everyone(NOT_ALLOWED),
        post=everyone(OK),
    ),
    # Every comment on a published essay has a working permalink: a redirect to its place,
    # or a page showing it in context (orphaned ones); none elsewhere.
    "discussion:comment_permalink": Url(
        comment_variants,
        get=lambda c: OK | REDIRECT if c.state in ON_PUBLISHED_ESSAY else NOT_FOUND,
        keys=("hidden", "orphaned"),
    ),
    # A thread's own page, every reply: from any of its comments, a redirect to its first.
    "discussion:comment_thread": Url(
        comment_variants,
        get=lambda c: OK | REDIRECT if c.state in ON_PUBLISHED_ESSAY else NOT_FOUND,
        keys=("hidden", "orphaned"),
    ),
    "discussion:comment_reply": Url(
        lambda w: comment_variants(w, COMPOSE_POSTS),
        get=reply,
        post=reply,
        keys=("published", "removed"),
    ),
    "discussion:comment_edit": Url(
        lambda w: comment_variants(w, {"post": {"body": "An edited text."}}),
        get=own_comment(everyone(OK)),
        post=own_comment(success),
        keys=("published", "pending"),
    ),
    "discussion:thread_addressed": Url(
        addressed_variants,
        get=post_only(members),
        post=members(may_mark_addressed),
        must_change=True,
        keys=("published/r2", "closed/r2-of-another-essay"),
    ),
    "discussion:comment_delete": Url(
        comment_variants,
        get=own_comment(everyone(OK)),
        post=own_comment(success),
        keys=("published", "hidden"),
    ),
    # Feeds and annotations: what an anonymous reader may read, same for every role; POST 405.
    "discussion:essay_feed": Url(essay_variants, get=only("live", everyone(OK)), keys=("open",)),
    "discussion:essay_annotations": Url(
        essay_variants, get=only("live", everyone(OK)), keys=("open",)
    ),
    "discussion:paragraph_feed": Url(
        paragraph_variants,
        get=lambda c: OK if c.has("live") or c.has("retired") else NOT_FOUND,
        keys=("beta-moved",),
    ),
    "discussion:thread_feed": Url(
        comment_variants,
        get=lambda c: OK if c.state in ON_PUBLISHED_ESSAY - {"pending"} else NOT_FOUND,
        keys=("hidden", "orphaned"),
    ),
    "discussion:essay_new_comments": Url(
        lambda w: live_variants(essay_variants(w)), get=live_question, keys=("open", "open+since")
    ),
    "discussion:paragraph_new_comments": Url(
        lambda w: live_variants(paragraph_variants(w)),
        get=live_question,
        keys=("alpha", "alpha+since"),
    ),
    "discussion:member_feed": Url(
        profile_variants, get=only("shown", everyone(OK)), keys=("newbie",)
    ),
    # moderation ---------------------------------------------------------------------------
    "moderation:report": Url(
        lambda w: comment_variants(w, {"post": {"reason": "spam"}}),
        get=report,
        post=report,
        keys=("published", "hidden"),
    ),
    "moderation:index": Url(
        lambda w: [
            Variant("reported"),
            Variant("pending", query="?queue=pending"),
            Variant("all", query="?queue=all"),
            Variant("decided", query="?queue=decided"),
            Variant("bad-page", query="?queue=bogus&page=abc"),
        ],
        get=moderators(everyone(OK)),
    ),
    "moderation:bulk": Url(
        bulk_variants,
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    "moderation:comment": Url(
        comment_variants,
        get=moderators(lambda c: NOT_FOUND if c.state == "missing" else OK),
        keys=("removed",),
    ),
    "moderation:thread_reattach": Url(
        reattach_variants,
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    "moderation:comment_action": Url(
        comment_action_variants,
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    "moderation:essay_action": Url(
        essay_action_variants,
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    "moderation:author": Url(
        member_variants, get=moderators(lambda c: NOT_FOUND if c.has("missing") else OK)
    ),
    "moderation:author_restrict": Url(
        restrict_variants,
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    "moderation:author_level": Url(
        level_variants,
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    "moderation:author_lift": Url(
        lift_variants,
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    "moderation:log": Url(
        lambda w: [
            Variant("all"),
            Variant("by-moderator", query=f"?moderator={w.users['moderator'].pk}"),
            Variant("bad-page", query="?page=abc"),
            Variant(
                "bad-filters",
                query="?essay=abc&moderator=abc&page=abc",
                facts=frozenset({"unreadable"}),
            ),
            Variant("site-holds", query="?moderator=site&action=hold&since=2000-01-01"),
            Variant(
                "bad-dates",
                query="?since=2030-01-02&until=2030-01-01&action=bogus",
                facts=frozenset({"unreadable"}),
            ),
        ],
        # A filter that cannot be read lists nothing, and says so.
        get=moderators(lambda c: BAD if c.has("unreadable") else OK),
    ),
    "moderation:undo": Url(
        undo_variants,
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    "moderation:words": Url(
        single(
            post={"word": "matrix-new-word", "kind": "blocked"},
            repeat={"word": "matrix-watched", "kind": "watched"},
            invalid={"word": " ", "kind": "watched"},
        ),
        get=moderators(everyone(OK)),
        post=moderators(by_dataset(post=success, repeat=everyone(ANY_4XX), invalid=everyone(BAD))),
        must_change=True,
    ),
    "moderation:word_remove": Url(
        lambda w: [
            action("watched", {"pk": w.words["watched"].pk}),
            action("missing", {"pk": MISSING_PK}, "missing"),
        ],
        get=post_only(moderators),
        post=moderators(moderator_action),
        must_change=True,
    ),
    # The outcomes of one's own comments and account: any logged-in member.
    "moderation:notices": Url(single(), get=members(everyone(OK))),
    # subscriptions ------------------------------------------------------------------------
    "subscriptions:list": Url(
        single(post={"email": "daily", "follow_on_post": "on"}, invalid={"email": "bogus"}),
        get=members(everyone(OK)),
        post=members(by_dataset(post=success, invalid=everyone(BAD))),
    ),
    "subscriptions:set": Url(
        subscription_variants,
        get=post_only(members),
        post=members(subscription_set),
        keys=("follow-essay", "thread-published"),
    ),
    "subscriptions:notifications": Url(single(), get=members(everyone(OK))),
    "subscriptions:bell": Url(single(), get=members(everyone(OK))),
    "subscriptions:read_all": Url(single(), get=post_only(members), post=members(success)),
    "subscriptions:open": Url(notification_variants, get=recipient_only, post=recipient_only),
    # The token is the credential (one-click unsubscribe, RFC 8058): any role, no CSRF.
    "subscriptions:unsubscribe": Url(
        unsubscribe_variants, get=only("valid", everyone(OK)), post=only("valid", everyone(OK))
    ),
    # accounts -----------------------------------------------------------------------------
    "accounts:settings": Url(
        single(post={"display_name": "A New Name"}, invalid={"display_name": " "}),
        get=members(everyone(OK)),
        post=members(by_dataset(post=success, invalid=everyone(BAD))),
    ),
    "accounts:export": Url(single(), get=post_only(members), post=members(everyone(OK))),
    "accounts:delete": Url(
        single(
            keep={"comments": "keep", "password": PASSWORD},
            wrong_password={"comments": "delete", "password": "not-the-password"},
        ),
        get=members(everyone(OK)),
        post=members(by_dataset(keep=success, wrong_password=everyone(BAD))),
    ),
    "accounts:profile": Url(profile_variants, get=only("shown", everyone(OK)), keys=("newbie",)),
}

# Admin pages a member of staff without any permission may open.
STAFF_ADMIN_PAGES = {"admin:index", "admin:password_change", "admin:password_change_done"}


# Walking the URLconf ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # "namespace:name", or the route of an unnamed pattern
    route: str
    group: str  # "" for the site's own patterns, else "admin" or "allauth"
    named: bool
    takes_arguments: bool


def url_patterns(resolver=None, prefix="", namespace="", group="") -> list[Pattern]:
    """Every pattern of the URLconf, recursively, with its full route and namespace."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            module = getattr(entry.urlconf_module, "__name__", "")
            inner_group = group or (
                "admin"
                if entry.namespace == "admin"
                else "allauth"
                if module.startswith("allauth")
                else ""
            )
            inner_namespace = ":".join(n for n in (namespace, entry.namespace) if n)
            found += url_patterns(entry, prefix + str(entry.pattern), inner_namespace, inner_group)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = ":".join(n for n in (namespace, entry.name) if n)
            takes_arguments = bool(re.search(r"<\w|\(\?P<", route))
            key = name if entry.name else route
            found.append(Pattern(key, route, group, bool(entry.name), takes_arguments))
    return found


def fill_route(route: str, values: dict) -> str:
    """A concrete path for a route: "<path:object_id>" and "(?P<app_label>...)" filled in."""

    def value(match):
        return str(values[match.group("name")])

    path = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, route)
    path = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", value, path)
    return "/" + path.replace("^", "").replace("$", "")


# One cell -------------------------------------------------------------------------------------


def redirect_target(response) -> str:
    """Where a response sends the browser: a redirect, or htmx's HX-Redirect."""
    return response.headers.get("Location") or response.headers.get("HX-Redirect") or ""


def classify(response) -> str:
    status = response.status_code
    if 300 <= status < 400 or response.has_header("HX-Redirect"):
        location = urlsplit(redirect_target(response)).path
        return (
            "login"
            if location in (reverse("account_login"), reverse("admin:login"))
            else "redirect"
        )
    return str(status)


def allowed(outcome: str, expected: frozenset) -> bool:
    if outcome == "500":
        return False
    return "*" in expected or outcome in expected or ("4xx" in expected and outcome.startswith("4"))


def describe_exception(response) -> str:
    exc_info = getattr(response, "exc_info", None)
    if not exc_info:
        return "500 (no exception recorded)"
    _type, value, tb = exc_info
    frames = traceback.extract_tb(tb)
    frame = ([f for f in frames if "site-packages" not in f.filename] or frames)[-1]
    where = Path(frame.filename)
    where = where.relative_to(PROJECT) if where.is_relative_to(PROJECT) else where.name
    return f"500 {type(value).__name__}: {str(value)[:200]} (at {where}:{frame.lineno})"


class URLMatrix(TestCase):
    """Every URL x role x method x htmx, with the expectations of TABLE. One test per
    pattern (generated below), plus the coverage test and the groups."""

    @classmethod
    def setUpTestData(cls):
        cls.world = build_world(cls)

    def setUp(self):
        self.clients = {}
        self.baseline = fingerprint()
        # A crash is reported as a failing cell with its exception; the log adds nothing.
        request_logger = logging.getLogger("django.request")
        self.addCleanup(request_logger.setLevel, request_logger.level)
        request_logger.setLevel(logging.CRITICAL)

    def client_for(self, user_key: str) -> Client:
        """One client per person, logged in and holding a CSRF token; made outside any
        cell, so that its session outlives every cell's rollback."""
        if user_key not in self.clients:
            client = Client(enforce_csrf_checks=True, raise_request_exception=False)
            user = self.world.users[user_key]
            if user is not None:
                client.force_login(user)
            for page in ("/", reverse("account_login")):
                if "csrftoken" not in client.cookies:
                    client.get(page)
            self.assertIn("csrftoken", client.cookies, user_key)
            self.clients[user_key] = client
        return self.clients[user_key]

    def run_cell(
        self,
        cell: Cell,
        url: str,
        expected: frozenset,
        *,
        data=None,
        must_change=False,
        follow=True,
    ) -> list[str]:
        """Make one request in a rolled-back transaction; return what went wrong."""
        user_key = cell.variant.owner if cell.role == "author" else cell.role
        client = self.client_for(user_key)
        token = client.cookies["csrftoken"].value
        headers = {"HX-Request": "true"} if cell.htmx else {}
        cookies = copy.deepcopy(client.cookies)
        cache.clear()  # rate limits count in the cache, which no rollback resets
        problems = []
        try:
            with transaction.atomic():
                if cell.method == "GET":
                    response = client.get(url, headers=headers)
                else:
                    data = dict(data or {})
                    if cell.htmx:
                        headers["X-CSRFToken"] = token
                    else:
                        data["csrfmiddlewaretoken"] = token
                    response = client.post(url, data, headers=headers)
                problems += self.check_response(response, expected, user_key)
                outcome = classify(response)
                if outcome == "login" or outcome.startswith("4"):
                    changed = fingerprint_diff(self.baseline, fingerprint())
                    if changed:
                        problems.append(f"database changed on a refusal: {', '.join(changed)}")
                elif (
                    must_change
                    and cell.method == "POST"
                    and outcome in ("200", "redirect")
                    and not fingerprint_diff(self.baseline, fingerprint())
                ):
                    problems.append(
                        f"answered {outcome} as if done, but changed nothing (a refusal is a 4xx)"
                    )
                if follow and outcome == "redirect":
                    problems += self.follow(client, response, user_key)
                transaction.set_rollback(True)
        except Exception as error:  # reported as this cell's failure, not raised
            problems.append(f"the test client raised {type(error).__name__}: {error}")
        finally:
            client.cookies = cookies
        return problems

    def check_response(self, response, expected: frozenset, user_key: str) -> list[str]:
        problems = []
        outcome = classify(response)
        if outcome == "500":
            problems.append(describe_exception(response))
        elif not allowed(outcome, expected):
            target = redirect_target(response) if outcome in ("login", "redirect") else ""
            to = f" to {target}" if target else ""
            problems.append(f"answered {outcome}{to}, expected {'/'.join(sorted(expected))}")
        body = (
            b"".join(response.streaming_content)
            if getattr(response, "streaming", False)
            else response.content
        )
        leaks = [
            marker(state)
            for state in HIDDEN_STATES
            if not may_read(user_key, state) and marker(state).encode() in body
        ]
        if leaks:
            problems.append(f"leaks {', '.join(leaks)} (answered {outcome})")
        return problems

    def follow(self, client: Client, response, user_key: str) -> list[str]:
        location = urlsplit(redirect_target(response))
        if location.netloc not in ("", "testserver"):
            return []
        target = location.path + (f"?{location.query}" if location.query else "")
        landed = client.get(target)
        return [
            f"after the redirect to {target}: {problem}"
            for problem in self.check_response(landed, OK, user_key)
        ]

    @staticmethod
    def line(cell: Cell, url: str, problem: str) -> str:
        method = ("htmx " if cell.htmx else "") + cell.method
        if cell.dataset not in ("", "post"):
            method += f" [{cell.dataset}]"
        return f"{cell.name} [{cell.variant.label}] {url} {cell.role} {method}: {problem}"

    def report(self, failures: list[str]) -> None:
        if failures:
            self.fail(f"{len(failures)} failing cells:\n" + "\n".join(failures))

    # The site's own patterns -----------------------------------------------------------------

    def run_pattern(self, name: str) -> None:
        entry = TABLE[name]
        post_rule = entry.post or (lambda c: entry.get(c) | NOT_ALLOWED)
        failures = []
        for variant in entry.variants(self.world):
            url = reverse(name, kwargs=variant.kwargs) + variant.query
            roles = SWEEP_ROLES if entry.keys and variant.label not in entry.keys else ROLES
            for role in roles:
                for htmx in (False, True):
                    get = Cell(name, variant, role, "GET", htmx)
                    failures += [
                        self.line(get, url, problem)
                        for problem in self.run_cell(get, url, entry.get(get))
                    ]
                    for label, data in variant.posts.items():
                        post = Cell(name, variant, role, "POST", htmx, label)
                        problems = self.run_cell(
                            post, url, post_rule(post), data=data, must_change=entry.must_change
                        )
                        failures += [self.line(post, url, problem) for problem in problems]
        self.report(failures)

    def test_every_url_pattern_is_in_the_table(self):
        own = [p for p in url_patterns() if not p.group]
        unnamed = sorted(p.route for p in own if not p.named)
        missing = sorted(p.key for p in own if p.named and p.key not in TABLE)
        stale = sorted(set(TABLE) - {p.key for p in own})
        self.assertEqual(unnamed, [], "URL patterns without a name: name them, add them")
        self.assertEqual(missing, [], "URL patterns the matrix's TABLE does not cover")
        self.assertEqual(stale, [], "TABLE entries for patterns that no longer exist")
        for name, entry in TABLE.items():
            labels = {v.label for v in entry.variants(self.world)}
            self.assertLessEqual(set(entry.keys), labels, name)

    def test_the_markers_are_found_where_their_readers_look(self):
        """The leak check is not vacuous: every text shows to those who may read it."""
        w = self.world
        moderator = self.client_for("moderator")
        for state in (*HIDDEN_STATES, "published"):
            url = reverse("moderation:comment", kwargs={"pk": w.comments[state].pk})
            self.assertContains(moderator.get(url), marker(state), msg_prefix=state)
        # Its author sees a pending comment in its place.
        page = self.client_for("newbie").get(w.paragraphs["alpha"].get_absolute_url())
        self.assertContains(page, marker("pending"))
        anonymous = self.client_for("anonymous")
        for state in sorted(PUBLISHED_STATES):
            url = reverse("discussion:comment_permalink", kwargs={"pk": w.comments[state].pk})
            self.assertContains(anonymous.get(url, follow=True), marker(state), msg_prefix=state)

    # The groups ------------------------------------------------------------------------------

    def run_group(self, group: str, rule: Callable[[Pattern, str], frozenset], roles) -> None:
        failures = []
        for pattern in url_patterns():
            if pattern.group != group:
                continue
            url = fill_route(pattern.route, self.group_values(pattern))
            for role in roles:
                cell = Cell(pattern.key, Variant("-"), role, "GET", htmx=False)
                problems = self.run_cell(cell, url, rule(pattern, role), follow=False)
                failures += [self.line(cell, url, problem) for problem in problems]
        self.report(failures)

    def group_values(self, pattern: Pattern) -> dict:
        """Arguments for the groups' patterns: real objects where the admin wants them."""
        object_id = self.world.essays["open"].pk  # the admin's view_on_site: an essay
        for model in admin.site._registry:
            meta = model._meta
            if pattern.route.startswith(f"admin/{meta.app_label}/{meta.model_name}/"):
                first = model.objects.order_by("pk").first()
                object_id = first.pk if first else MISSING_PK
        return {
            "object_id": object_id,
            "content_type_id": ContentType.objects.get_for_model(Essay).pk,
            "id": self.world.users["alice"].pk,
            "app_label": "discussion",
            "url": "nothing-here/",
            "key": "not-a-real-key",
            "uidb36": "zz",
        }

    def test_admin_pages(self):
        """Every admin URL, GET only: the superuser gets in; staff without permissions see
        the index and no model's page; everyone else is sent to log in. Never a 500."""

        def rule(pattern: Pattern, role: str) -> frozenset:
            if pattern.key in ("admin:login", "admin:logout"):
                return NOT_500
            if role not in ("staff", "superuser"):
                return LOGIN
            if role == "superuser":
                if pattern.takes_arguments:
                    return OK | REDIRECT | ANY_4XX
                # Read-only models have no add page; autocomplete wants its parameters.
                if pattern.key.endswith("_add") or pattern.key == "admin:autocomplete":
                    return OK | FORBIDDEN
                return OK
            if pattern.key in STAFF_ADMIN_PAGES:
                return OK
            if pattern.key in ("admin:jsi18n", "admin:view_on_site"):
                return OK | REDIRECT
            return FORBIDDEN | NOT_FOUND | (REDIRECT if pattern.takes_arguments else frozenset())

        # The roles that differ here: outside, a member, a moderator (not staff), staff
        # without permissions, the superuser.
        self.run_group("admin", rule, ("anonymous", "reader", "moderator", "staff", "superuser"))

    def test_allauth_pages(self):
        """Every allauth URL, GET only, for every role: never a 500, never a leak."""
        self.run_group("allauth", lambda pattern, role: NOT_500, ROLES)


def _pattern_test(name: str):
    def test(self):
        self.run_pattern(name)

    test.__name__ = "test_" + re.sub(r"\W", "_", name)
    test.__doc__ = f"Every cell of {name} answers as TABLE says."
    return test


for _name in TABLE:
    _test = _pattern_test(_name)
    setattr(URLMatrix, _test.__name__, _test)
