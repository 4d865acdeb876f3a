"""The world the URL matrix (tests/test_matrix.py) walks: every role, and a comment in every
state, made through the same services a reader's or a moderator's request uses.

Every comment's body starts with a unique marker ("SECRET-removed-5d1c"), so that a text
shown to someone who may not read it can be found in any response body.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.test import TestCase, override_settings

from essays.models import Essay
from essays.services import essay_import
from forum.discussion import services as discussion
from forum.discussion.models import Comment, CommentRevision
from forum.moderation import services as moderation
from forum.moderation.models import Decision, Flag, ManualLevel, Restriction, WordRule
from forum.moderation.undo import decision_undo
from forum.subscriptions import services as subscriptions
from forum.subscriptions.models import Notification, Subscription
from tests.conftest import essay_source, make_user

ROLES = (
    "anonymous",
    "unverified",
    "reader",
    "author",
    "suspended",
    "moderator",
    "suspended_moderator",
    "staff",
    "superuser",
)
# Who may moderate: the permission, active, and not suspended. Staff alone is a reader.
MODERATOR_ROLES = frozenset({"moderator", "superuser"})
# May write comments and reports: a verified address, not suspended.
WRITER_ROLES = frozenset({"reader", "author", "moderator", "staff", "superuser"})

# The states a comment can be in; "missing" is a pk that names no comment.
STATES = (
    "published",
    "pending",
    "hidden",
    "removed",
    "deleted",
    "locked",
    "closed",
    "moved",
    "orphaned",
    "retired",
    "reattached",
    "draft",
    "missing",
)
# Published comments on published essays: their text is for everyone.
PUBLISHED_STATES = frozenset(
    {"published", "locked", "closed", "moved", "orphaned", "retired", "reattached"}
)
# Comments that exist on a published essay (a permalink leads somewhere for each).
ON_PUBLISHED_ESSAY = PUBLISHED_STATES | {"pending", "hidden", "removed", "deleted"}

MISSING_PK = 987_654

HEADING = "## Where it starts"
ALPHA = "Alpha paragraph: the opening holds its ground through every revision."
BETA = "Beta paragraph: this one will be moved to the end by the revision."
GAMMA = "Gamma paragraph: nothing like it survives the revision, so it retires."
DELTA = "Delta paragraph: a steady neighbour in the middle of things."
EPSILON = "Epsilon paragraph: the last that stays where it was."

SOURCE_V1 = essay_source(
    HEADING, ALPHA, BETA, GAMMA, DELTA, EPSILON, slug="matrix-essay", title="The matrix essay"
)
# Beta goes to the end (moved); Gamma has no successor (retired, its threads orphaned).
SOURCE_V2 = essay_source(
    HEADING, ALPHA, DELTA, EPSILON, BETA, slug="matrix-essay", title="The matrix essay"
)
CLOSED_SOURCE = essay_source(
    "A closed essay's only paragraph.", slug="matrix-closed", title="A closed essay"
)
DRAFT_SOURCE = essay_source(
    "An essay taken back to draft after it was discussed.",
    slug="matrix-unpublished",
    title="An unpublished essay",
)

BUILD_SETTINGS = {
    "MODERATION_FIRST_COMMENTS_REVIEWED": 0,
    "MODERATION_HIDE_THRESHOLD": 3,
    "COMMENT_RATE_LIMITS": [],
    # The world's authors are new accounts: the ladder's limits would stop its building.
    "MODERATION_NEW_COMMENTS_PER_HOUR": 0,
    "MODERATION_NEW_STRANGER_REPLIES_PER_HOUR": 0,
    "REPORT_RATE_LIMITS": [],
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


def marker(state: str) -> str:
    """The unique text a comment's body starts with (fixed, so that a failure names it)."""
    suffix = {
        "published": "7f3a",
        "pending": "c41e",
        "hidden": "9b07",
        "removed": "5d1c",
        "deleted": "e62f",
        "locked": "3a98",
        "closed": "b2d5",
        "moved": "41f6",
        "orphaned": "d8c3",
        "retired": "6e2b",
        "reattached": "a5f9",
        "draft": "0c7d",
        "reply-under-removed": "8d40",
        "reply-under-deleted": "1b93",
    }[state]
    return f"SECRET-{state}-{suffix}"


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role or name -> User (None: anonymous)
    essays: dict = field(default_factory=dict)  # "open", "closed", "draft" -> Essay
    paragraphs: dict = field(default_factory=dict)  # name -> Paragraph of the open essay
    comments: dict = field(default_factory=dict)  # state or name -> Comment
    decisions: dict = field(default_factory=dict)
    words: dict = field(default_factory=dict)  # "watched" -> WordRule
    notifications: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    def author_of(self, state: str) -> str:
        """The world user name the "author" role stands for with this comment."""
        return "newbie" if state == "pending" else "alice"


def build_world(case: type[TestCase]) -> World:
    """Make the world through the services, running what they leave for after commit."""
    w = World()
    with override_settings(**BUILD_SETTINGS):
        with case.captureOnCommitCallbacks(execute=True):
            _people(w)
            _essays(w)
            _comments(w)
            _revision(w)
            _moderation(w)
        with case.captureOnCommitCallbacks(execute=True):
            _notifications(w)
    _check(w)
    return w


def _people(w: World) -> None:
    u = w.users
    u["anonymous"] = None
    u["unverified"] = make_user("unverified@example.org", "Un Verified", verified=False)
    u["reader"] = make_user("reader@example.org", "Rea Der")
    u["alice"] = make_user("alice@example.org", "Alice Author")
    u["newbie"] = make_user("newbie@example.org", "New Bie")
    for number in (1, 2, 3):
        u[f"reporter{number}"] = make_user(f"reporter{number}@example.org", f"Repor Ter{number}")
    u["suspended"] = make_user("suspended@example.org", "Sus Pended")
    u["moderator"] = make_user("moderator@example.org", "Mo Derator")
    u["suspended_moderator"] = make_user("suspmod@example.org", "Suspended Moderator")
    for name in ("moderator", "suspended_moderator"):
        u[name].groups.add(moderation.moderators_group())
    u["staff"] = make_user("staff@example.org", "Staff Without Permissions")
    u["staff"].is_staff = True
    u["staff"].save(update_fields=["is_staff"])
    u["superuser"] = make_user("superuser@example.org", "Super User")
    u["superuser"].is_staff = u["superuser"].is_superuser = True
    u["superuser"].save(update_fields=["is_staff", "is_superuser"])
    u["inactive"] = make_user("inactive@example.org", "In Active")
    u["inactive"].is_active = False
    u["inactive"].save(update_fields=["is_active"])


def _essays(w: World) -> None:
    w.essays["open"] = essay_import(source=SOURCE_V1).essay
    w.essays["closed"] = essay_import(source=CLOSED_SOURCE).essay
    w.essays["draft"] = essay_import(source=DRAFT_SOURCE).essay
    paragraphs = list(w.essays["open"].paragraphs.order_by("position"))
    names = ["heading", "alpha", "beta", "gamma", "delta", "epsilon"]
    w.paragraphs.update(zip(names, paragraphs, strict=True))
    w.paragraphs["closed"] = w.essays["closed"].paragraphs.get()
    w.paragraphs["draft"] = w.essays["draft"].paragraphs.get()


def _post(w: World, state: str, *, author="alice", essay="open", paragraph=None, parent=None):
    body = f"{marker(state)} is what this comment says, and only who may read it sees it."
    return discussion.comment_post(
        author=w.users[author],
        essay=w.essays[essay],
        body=body,
        paragraph=w.paragraphs[paragraph] if paragraph else None,
        parent=parent,
    )


def _reply(w: World, parent: Comment, name: str) -> Comment:
    """A reader's published reply, which keeps its parent's placeholder in the thread."""
    return discussion.comment_post(
        author=w.users["reader"],
        essay=parent.essay,
        body=f"{marker(name)}: a published reply under a comment that will leave the page.",
        parent=parent,
    )


def _comments(w: World) -> None:
    c, u = w.comments, w.users
    # The reader follows the essay, so the published comment notifies them.
    subscriptions.subscription_set(user=u["reader"], essay=w.essays["open"], level="follow")
    c["published"] = _post(w, "published", paragraph="alpha")
    with override_settings(MODERATION_FIRST_COMMENTS_REVIEWED=1):
        c["pending"] = _post(w, "pending", author="newbie", paragraph="alpha")
    c["hidden"] = _post(w, "hidden", paragraph="beta")
    c["moved"] = _post(w, "moved", paragraph="beta")
    c["orphaned"] = _post(w, "orphaned", paragraph="gamma")
    c["retired"] = _post(w, "retired", parent=c["orphaned"])
    c["removed"] = _post(w, "removed", parent=c["orphaned"])
    c["reply-under-removed"] = _reply(w, c["removed"], "reply-under-removed")
    c["reattached"] = _post(w, "reattached", paragraph="gamma")
    c["deleted"] = _post(w, "deleted")  # on the whole essay
    c["reply-under-deleted"] = _reply(w, c["deleted"], "reply-under-deleted")
    c["locked"] = _post(w, "locked", paragraph="delta")
    c["closed"] = _post(w, "closed", essay="closed", paragraph="closed")
    c["draft"] = _post(w, "draft", essay="draft", paragraph="draft")
    # Reports: one open report on the published comment, three hide another.
    moderation.flag_create(reporter=u["reporter1"], comment=c["published"], reason="spam")
    for number in (1, 2, 3):
        moderation.flag_create(reporter=u[f"reporter{number}"], comment=c["hidden"], reason="spam")
    discussion.comment_delete(comment=c["deleted"], actor=u["alice"])


def _revision(w: World) -> None:
    essay_import(source=SOURCE_V2)
    w.essays["open"].refresh_from_db()
    for paragraph in w.paragraphs.values():
        paragraph.refresh_from_db()


def _moderation(w: World) -> None:
    c, u, d = w.comments, w.users, w.decisions
    mod = u["moderator"]
    d["remove"] = moderation.comment_remove(actor=mod, comment=c["removed"], reason_code="spam")
    moderation.thread_lock_set(actor=mod, comment=c["locked"], locked=True)
    moderation.essay_comments_set(actor=mod, essay=w.essays["closed"], open_=False)
    moderation.thread_reattach(
        actor=mod, comment=c["reattached"], paragraph=w.paragraphs["epsilon"]
    )
    # An undone decision and the decision that undid it.
    d["undone"] = moderation.essay_comments_set(actor=mod, essay=w.essays["open"], open_=False)
    d["undo"] = decision_undo(actor=mod, decision=d["undone"])
    # Only the site's owner restricts a moderator.
    for name, actor in (("suspended", mod), ("suspended_moderator", u["superuser"])):
        moderation.user_restrict(
            actor=actor, user=u[name], kind=Restriction.Kind.SUSPENSION, reason="Testing the matrix"
        )
    moderation.word_rule_set(actor=mod, word="matrix-watched", kind=WordRule.Kind.WATCHED)
    w.words["watched"] = WordRule.objects.get(word="matrix-watched")
    # No service takes an essay back to draft: the site's owner does it in the admin.
    Essay.objects.filter(pk=w.essays["draft"].pk).update(status=Essay.Status.DRAFT)
    for comment in c.values():
        comment.refresh_from_db()
    for essay in w.essays.values():
        essay.refresh_from_db()


def _notifications(w: World) -> None:
    # The worker's fan-out, run here: the reader hears of the published comment.
    subscriptions.fan_out(w.comments["published"].pk)
    n = w.notifications
    n["reader"] = Notification.objects.get(recipient=w.users["reader"])
    n["alice-removed"] = Notification.objects.get(
        recipient=w.users["alice"], comment=w.comments["removed"]
    )
    w.tokens["reader"] = subscriptions.unsubscribe_token_for(w.users["reader"], [n["reader"]])


def _check(w: World) -> None:
    """The world is what the matrix says it is; a changed service shows here first."""
    c = w.comments
    expected = {
        "published": ("published", "placed"),
        "pending": ("pending", "placed"),
        "hidden": ("hidden", "moved"),
        "removed": ("removed", "orphaned"),
        "deleted": ("deleted", "placed"),
        "locked": ("published", "placed"),
        "closed": ("published", "placed"),
        "moved": ("published", "moved"),
        "orphaned": ("published", "orphaned"),
        "retired": ("published", "orphaned"),
        # On a paragraph whose text is not the one it was written about: it shows that text.
        "reattached": ("published", "moved"),
        "draft": ("published", "placed"),
    }
    actual = {state: (c[state].status, c[state].anchor_status) for state in expected}
    assert actual == expected, actual
    assert c["locked"].locked_at is not None
    assert c["reattached"].paragraph_id == w.paragraphs["epsilon"].pk
    assert w.paragraphs["gamma"].retired_in == 2
    assert not w.essays["closed"].comments_open and w.essays["open"].comments_open
    assert w.essays["draft"].status == Essay.Status.DRAFT


# What a refused request must leave alone -------------------------------------------------


def fingerprint() -> dict:
    """A cheap picture of everything a request could change: the rows (and so the counts
    and the highest ids) of every table a reader's or a moderator's action writes to."""

    def rows(model, *fields):
        return list(model.objects.order_by("pk").values_list("pk", *fields))

    return {
        "comments": rows(
            Comment, "status", "paragraph_id", "locked_at", "body", "anchor_status", "addressed_in"
        ),
        "essays": rows(Essay, "comments_open", "premoderated"),
        "word rules": rows(WordRule, "word", "kind"),
        "flags": rows(Flag, "resolved_at"),
        "restrictions": rows(Restriction, "lifted_at"),
        "manual levels": rows(ManualLevel, "level"),
        "subscriptions": rows(Subscription, "level"),
        "notifications": rows(Notification, "read_at"),
        "users": rows(get_user_model(), "display_name", "is_active"),
        # Append-only tables: their size and last id say it all.
        "decisions": Decision.objects.aggregate(n=Count("pk"), last=Max("pk")),
        "comment revisions": CommentRevision.objects.aggregate(n=Count("pk"), last=Max("pk")),
    }


def fingerprint_diff(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]
