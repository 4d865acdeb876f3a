"""export_discussion and import_discussion: an essay's whole discussion leaves as one JSON
document and comes back exactly, on a site that lacks the essay; anything else is refused
without a change."""

import io
import json
import subprocess
import sys

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from essays.models import Essay, EssayRevision, Paragraph, RevisionBlock
from essays.services import essay_import
from forum.accounts.discussion_export import FORMAT_VERSION, discussion_export
from forum.accounts.models import User
from forum.discussion import services as discussion
from forum.discussion.models import Comment, CommentRevision
from forum.moderation import services as moderation
from forum.moderation.models import Decision, Flag, ReasonCode, WordRule
from forum.moderation.undo import decision_undo
from forum.subscriptions.models import Subscription
from forum.subscriptions.services import subscription_set
from tests.conftest import PROJECT, SEED_SLUG, add_comment, essay_source, make_user, post

SLUG = "exported"
P1 = "The opening states the question the essay will answer, at some length and with care."
P2 = "The second paragraph quotes a famous passage and argues with every word of it."
P3 = "The third paragraph is about to be cut by the author in the second revision."
P4 = "The fourth paragraph concludes, and will gain a sentence in the revision."
# The second revision: new titles and attribution, a heading, P3 cut, P4 changed (a comma
# within a quoted passage dropped, a quoted passage rewritten, a sentence added).
P4_REVISED = P4.replace("concludes,", "concludes").replace("in the revision", "later") + " More."
REVISED = (
    f"---\ntitle: Exported, revised\nalternate_title: Or, second thoughts\nslug: {SLUG}\n"
    f"attribution: T. E., revised\n---\n\n## A heading\n\n{P1}\n\n{P2}\n\n{P4_REVISED}\n"
)


@pytest.fixture(autouse=True)
def generous_limits(settings):
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]
    settings.REPORT_RATE_LIMITS = [(1000, 60)]
    settings.MODERATION_HIDE_THRESHOLD = 2


@pytest.fixture
def moderator(db):
    user = make_user("mod@example.org", "Mo Derator")
    user.groups.add(moderation.moderators_group())
    return user


@pytest.fixture
def rich_essay(db, moderator):
    """An essay with every kind of row the export carries, made through the services."""
    alice = make_user("alice@example.org", "Alice")
    bob = make_user("Bob@example.org", "Bob")
    carol = make_user("carol@example.org", "Carol")
    dan = make_user("dan@example.org", "Dan")
    essay = essay_import(source=essay_source(P1, P2, P3, P4, slug=SLUG)).essay
    p1, p2, p3, p4 = essay.paragraphs.order_by("position")

    passage = post(alice, essay, "On *famous*.", paragraph=p2, quote="famous passage")
    reply = post(bob, essay, "I disagree.", parent=passage)
    post(alice, essay, "Why?", parent=reply)
    discussion.comment_edit(comment=passage, editor=alice, body="On *famous*, edited once.")
    discussion.comment_edit(comment=passage, editor=alice, body="On *famous*, edited.")
    discussion.comment_edit(comment=reply, editor=bob, body="I disagree, strongly.")
    doomed = post(bob, essay, "On the cut paragraph.", paragraph=p3, quote="about to be cut")
    post(carol, essay, "A reply on the cut paragraph.", parent=doomed)
    moved_away = post(carol, essay, "Also on the cut paragraph.", paragraph=p3)
    whole = post(carol, essay, "On the whole essay.")
    deleted = post(carol, essay, "Soon deleted.", parent=whole)
    discussion.comment_delete(comment=deleted, actor=carol)
    WordRule.objects.create(word="kumquat", kind=WordRule.Kind.WATCHED)
    post(dan, essay, "A kumquat remark, held for review.", paragraph=p1)
    hidden = post(dan, essay, "Reported twice, hidden.", paragraph=p4)
    post(dan, essay, "On the conclusion.", paragraph=p4, quote="concludes, and will gain")
    post(dan, essay, "When?", paragraph=p4, quote="in the revision")  # rewritten: lost
    moderation.flag_create(reporter=alice, comment=hidden, reason=ReasonCode.SPAM)
    moderation.flag_create(reporter=bob, comment=hidden, reason=ReasonCode.ABUSE, note="Rude.")
    removed = post(dan, essay, "Removed by a moderator.", paragraph=p1)
    moderation.flag_create(reporter=carol, comment=removed, reason=ReasonCode.OTHER, note="Off.")
    moderation.comment_remove(
        actor=moderator, comment=removed, reason_code=ReasonCode.OFF_TOPIC, reason="private"
    )
    restored = post(bob, essay, "Removed, then the removal undone.")
    removal = moderation.comment_remove(
        actor=moderator, comment=restored, reason_code=ReasonCode.SPAM
    )
    decision_undo(actor=moderator, decision=removal, reason="A mistake.")
    moderation.thread_lock_set(actor=moderator, comment=passage, locked=True, reason="Heated.")
    moderation.essay_comments_set(actor=moderator, essay=essay, open_=False)
    moderation.essay_comments_set(actor=moderator, essay=essay, open_=True)
    response, _created = discussion.comment_import_response(
        essay=essay, author_name="A. Reader", body="Imported."
    )
    # What an import from another site's file records (import_comments).
    Comment.objects.filter(pk=response.pk).update(
        source_id="wxr:881", imported_email="reader@elsewhere.example"
    )

    essay = essay_import(source=REVISED).essay
    moderation.thread_reattach(actor=moderator, comment=moved_away, paragraph=p4, reason="Fits.")
    post(alice, essay, "Written on the second revision.", paragraph=p4)
    editor = make_user("editor@example.org", "Ed Itor")
    editor.user_permissions.add(Permission.objects.get(codename="change_essay"))
    discussion.thread_mark_addressed(editor=editor, comment=doomed, revision=2)
    moderation.essay_comments_set(actor=moderator, essay=essay, open_=False)
    Essay.objects.filter(pk=essay.pk).update(premoderated=True)  # as the admin would
    subscription_set(user=dan, essay=essay, level=Subscription.Level.FOLLOW)
    subscription_set(user=alice, essay=essay, paragraph=p4, level=Subscription.Level.MUTE)
    subscription_set(user=bob, essay=essay, thread=passage, level=Subscription.Level.FOLLOW)
    essay.refresh_from_db()
    return essay


def canonical(slug: str) -> dict:
    """Every row of the essay's discussion, every field but its own id and the essay's page
    version, with rows named by what does not change in a move (keys, numbers, emails, and
    each row's place in the order of ids)."""
    essay = Essay.objects.get(slug=slug)
    paragraphs = list(Paragraph.objects.filter(essay=essay).order_by("id"))
    revisions = list(EssayRevision.objects.filter(essay=essay).order_by("number"))
    comments = list(Comment.objects.filter(essay=essay).order_by("id"))
    flags = list(Flag.objects.filter(comment__essay=essay).order_by("id"))
    decisions = list(Decision.objects.filter(essay=essay).order_by("id"))
    key = {p.pk: p.key for p in paragraphs}
    comment_ref = {c.pk: n for n, c in enumerate(comments)}
    flag_ref = {f.pk: n for n, f in enumerate(flags)}
    email = dict(User.objects.values_list("pk", "email"))
    refs = {
        "essay": lambda pk: "the essay",
        "paragraph": key.get,
        "revision": {r.pk: r.number for r in revisions}.get,
        "comment": comment_ref.get,
        "parent": comment_ref.get,
        "root": comment_ref.get,
        "thread": comment_ref.get,
        "undoes": {d.pk: n for n, d in enumerate(decisions)}.get,
        **dict.fromkeys(["author", "reporter", "actor", "subject_user", "user"], email.get),
    }

    def row(instance) -> dict:
        values = {}
        for field in instance._meta.concrete_fields:
            if field.primary_key or field.name == "discussion_version":
                continue
            value = getattr(instance, field.attname)
            values[field.name] = refs[field.name](value) if field.is_relation and value else value
        return values

    def decision_row(decision) -> dict:
        values = row(decision)
        state = dict(decision.previous_state)
        if "open_flags" in state:
            state["open_flags"] = [flag_ref[pk] for pk in state["open_flags"]]
        if "comments" in state:
            state["comments"] = {
                comment_ref[int(pk)]: [key.get(anchor[0]), *anchor[1:]]
                for pk, anchor in state["comments"].items()
            }
        values["previous_state"] = state
        return values

    member_ids = {c.author_id for c in comments} | {f.reporter_id for f in flags}
    return {
        "essay": row(essay),
        "paragraphs": [row(p) for p in paragraphs],
        "revisions": [row(r) for r in revisions],
        "blocks": [
            row(b)
            for b in RevisionBlock.objects.filter(revision__essay=essay).order_by(
                "revision__number", "position"
            )
        ],
        "comments": [row(c) for c in comments],
        "earlier versions": [
            row(v) for v in CommentRevision.objects.filter(comment__essay=essay).order_by("id")
        ],
        "flags": [row(f) for f in flags],
        "decisions": [decision_row(d) for d in decisions],
        "subscriptions": sorted(
            (row(s) for s in Subscription.objects.filter(essay=essay)), key=repr
        ),
        "members": sorted(
            User.objects.filter(pk__in=member_ids - {None}).values_list("email", "display_name")
        ),
    }


def export_to_file(slug: str, path) -> dict:
    call_command("export_discussion", slug, "--output", str(path), stderr=io.StringIO())
    return json.loads(path.read_text(encoding="utf-8"))


def delete_discussion(slug: str) -> None:
    """Take the essay and everything on it off the site (the audit log keeps an undone
    decision for as long as its undo stands: the undos go first)."""
    Decision.objects.filter(essay__slug=slug, undoes__isnull=False).delete()
    Essay.objects.get(slug=slug).delete()


def import_file(path) -> str:
    out = io.StringIO()
    call_command("import_discussion", str(path), stdout=out)
    return out.getvalue()


def test_the_rich_essay_has_every_state_to_carry(rich_essay):
    """The fixture is rich: each state the round trip must carry is there."""
    statuses = set(rich_essay.comments.values_list("status", flat=True))
    assert statuses == set(Comment.Status.values)
    anchors = set(rich_essay.comments.values_list("anchor_status", flat=True))
    assert anchors == set(Comment.AnchorStatus.values)
    assert rich_essay.comments.filter(quote_lost=False).exclude(quote="").exists()
    assert rich_essay.comments.filter(quote_lost=True).exists()
    assert rich_essay.comments.filter(locked_at__isnull=False).exists()
    assert rich_essay.paragraphs.filter(retired_in=2).exists()
    assert CommentRevision.objects.filter(comment__essay=rich_essay).exists()
    assert Decision.objects.filter(essay=rich_essay, undoes__isnull=False).exists()
    assert Decision.objects.filter(essay=rich_essay, action=Decision.Action.REATTACH).exists()
    assert Flag.objects.filter(comment__essay=rich_essay, resolved_at__isnull=False).exists()


# Fields that hold one value in any one essay's rows, whatever happens to it.
SAME_IN_EVERY_ROW = {"essay", "revision__essay"}


@pytest.mark.parametrize(
    "model",
    [
        Paragraph,
        EssayRevision,
        RevisionBlock,
        Comment,
        CommentRevision,
        Flag,
        Decision,
        Subscription,
    ],
)
def test_the_rich_essay_varies_every_field(rich_essay, model):
    """Every field takes two values at least among the rich essay's rows: a field the
    round trip dropped (restored with one default value) would differ somewhere."""
    rows = model.objects.filter(
        **{"essay": rich_essay}
        if hasattr(model, "essay")
        else {"revision__essay": rich_essay}
        if model is RevisionBlock
        else {"comment__essay": rich_essay}
    )
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in SAME_IN_EVERY_ROW:
            continue
        values = {repr(value) for value in rows.values_list(field.attname, flat=True)}
        assert len(values) >= 2, f"{model.__name__}.{field.name} is always {values}"


def test_the_rich_essay_has_no_default_left_on_the_essay(rich_essay):
    for field in Essay._meta.concrete_fields:
        if field.has_default() and not field.primary_key:
            assert getattr(rich_essay, field.attname) != field.get_default(), field.name


def test_round_trip_restores_every_row_exactly(rich_essay, moderator, tmp_path):
    before = canonical(SLUG)
    document = export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    User.objects.exclude(pk=moderator.pk).delete()

    output = import_file(tmp_path / "discussion.json")

    assert "restored" in output
    assert canonical(SLUG) == before
    assert document["format_version"] == FORMAT_VERSION


def test_members_are_matched_by_email_or_created_without_a_password(
    rich_essay, moderator, tmp_path
):
    export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    User.objects.exclude(pk=moderator.pk).delete()
    import_file(tmp_path / "discussion.json")

    restored = Essay.objects.get(slug=SLUG)
    assert Decision.objects.filter(essay=restored, actor=moderator).exists()  # the same row
    bob = User.objects.get(email="Bob@example.org")
    assert bob.display_name == "Bob"
    assert not bob.has_usable_password()
    assert EmailAddress.objects.filter(user=bob, verified=False, primary=True).exists()
    assert restored.comments.filter(author=bob).count() == 3


def test_restored_decisions_still_undo_exactly(rich_essay, moderator, tmp_path):
    """The ids inside the log's snapshots are the restored site's: undoing a removal reopens
    the restored reports, and undoing a re-attachment puts the thread back on the paragraph
    it came from."""
    export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    import_file(tmp_path / "discussion.json")
    restored = Essay.objects.get(slug=SLUG)

    removal = Decision.objects.get(essay=restored, action=Decision.Action.REMOVE, reason="private")
    decision_undo(actor=moderator, decision=removal)
    removed = removal.comment
    removed.refresh_from_db()
    assert removed.status == Comment.Status.PUBLISHED
    assert removed.flags.open().count() == 1

    reattachment = Decision.objects.get(essay=restored, action=Decision.Action.REATTACH)
    decision_undo(actor=moderator, decision=reattachment)
    thread = reattachment.comment
    thread.refresh_from_db()
    assert thread.paragraph.text == P3
    assert thread.anchor_status == Comment.AnchorStatus.ORPHANED


def test_restored_essay_pages_render(rich_essay, tmp_path, client):
    export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    import_file(tmp_path / "discussion.json")
    restored = Essay.objects.get(slug=SLUG)
    orphaned = restored.comments.get(body="On the cut paragraph.")
    passage = restored.comments.get(body="On *famous*, edited.")

    page = client.get(restored.get_absolute_url())
    assert page.status_code == 200
    assert "On the whole essay." in page.text
    assert client.get(passage.paragraph.get_absolute_url()).status_code == 200
    earlier = client.get(reverse("discussion:comment_permalink", kwargs={"pk": orphaned.pk}))
    assert earlier.status_code == 200
    assert "On the cut paragraph." in earlier.text
    revision = client.get(reverse("essays:revision_detail", args=[SLUG, 1]))
    assert P3 in revision.text


def test_no_cached_page_of_the_earlier_essay_is_served(rich_essay, tmp_path, client):
    """A page cached for the essay that was there before (here: with a comment the export
    does not hold) is keyed by slug and version: the restored essay starts past it."""
    export_to_file(SLUG, tmp_path / "discussion.json")
    add_comment(rich_essay, body="Written after the export.")
    assert "Written after the export." in client.get(rich_essay.get_absolute_url()).text
    old_version = Essay.objects.get(slug=SLUG).discussion_version
    delete_discussion(SLUG)

    import_file(tmp_path / "discussion.json")

    assert Essay.objects.get(slug=SLUG).discussion_version > old_version
    page = client.get(rich_essay.get_absolute_url())
    assert page.status_code == 200
    assert "On the whole essay." in page.text
    assert "Written after the export." not in page.text


def test_the_export_names_members_by_email_and_holds_no_secret(rich_essay, client, tmp_path):
    """The document is for the site's owner: emails are in it, password hashes and sessions
    are not."""
    client.force_login(User.objects.get(email="alice@example.org"))
    export_to_file(SLUG, tmp_path / "discussion.json")
    text = (tmp_path / "discussion.json").read_text(encoding="utf-8")

    assert "alice@example.org" in text
    for user in User.objects.all():
        assert user.password not in text
    assert "password" not in text
    assert client.session.session_key not in text


def test_export_costs_a_constant_number_of_queries(rich_essay, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        document = discussion_export(rich_essay)
    assert len(document["comments"]) == rich_essay.comments.count()


def test_import_refuses_an_essay_that_exists_and_changes_nothing(rich_essay, tmp_path):
    export_to_file(SLUG, tmp_path / "discussion.json")
    before = canonical(SLUG)
    users = User.objects.count()

    with pytest.raises(CommandError, match="exists on this site: nothing was imported"):
        import_file(tmp_path / "discussion.json")

    assert canonical(SLUG) == before
    assert User.objects.count() == users


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda d: d.update(format_version=FORMAT_VERSION + 1), "version 2 of the format"),
        (lambda d: d.pop("format"), "not an export of a discussion"),
        (lambda d: d.pop("comments"), "“comments” is missing"),
        (lambda d: d["comments"][1].update(parent=999999), "comments.1.?parent|comments\\[1\\]"),
        (lambda d: d["comments"][0].update(status="vanished"), "not a valid choice"),
        (lambda d: d["comments"][0].update(created="yesterday"), "ISO 8601"),
        (lambda d: d["flags"][0].update(reporter="nobody@example.org"), "not one of the members"),
        (lambda d: d["paragraphs"][1].update(key=d["paragraphs"][0]["key"]), "same key"),
        (lambda d: d["decisions"][-1].update(comment=424242), "not one of the comments"),
    ],
)
def test_import_refuses_a_malformed_file_and_writes_nothing(rich_essay, tmp_path, spoil, message):
    document = export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    users = User.objects.count()
    spoil(document)
    (tmp_path / "spoilt.json").write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(CommandError, match=message):
        import_file(tmp_path / "spoilt.json")

    assert not Essay.objects.exists()
    assert User.objects.count() == users


def test_import_refuses_what_is_not_json(db, tmp_path):
    (tmp_path / "broken.json").write_text('{"format": ', encoding="utf-8")
    with pytest.raises(CommandError, match="is not JSON"):
        import_file(tmp_path / "broken.json")
    with pytest.raises(CommandError, match="Cannot read"):
        import_file(tmp_path / "missing.json")


def test_export_refuses_an_unknown_slug(db):
    with pytest.raises(CommandError, match="No essay has the slug"):
        call_command("export_discussion", "nowhere")


def test_a_refused_import_exits_non_zero_without_a_traceback(tmp_path):
    (tmp_path / "broken.json").write_text("[1, 2", encoding="utf-8")
    finished = subprocess.run(  # noqa: S603 (our own manage.py, a file of this test)
        [sys.executable, str(PROJECT / "manage.py"), "import_discussion", tmp_path / "broken.json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode != 0
    assert "is not JSON" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_the_seed_essay_round_trips(seeded_essay, tmp_path, client):
    before = canonical(SEED_SLUG)
    export_to_file(SEED_SLUG, tmp_path / "seed.json")
    delete_discussion(SEED_SLUG)

    import_file(tmp_path / "seed.json")

    assert canonical(SEED_SLUG) == before
    page = client.get(Essay.objects.get(slug=SEED_SLUG).get_absolute_url())
    assert page.status_code == 200


# An altered file: nothing executable reaches a page -------------------------------------

# (The sanitizer keeps the text inside a tag it strips: "alert(1)" may remain, as text.)
DANGERS = ("<script>", "<iframe", "onerror", "onmouseover", "javascript:")


def restored_html(slug: str) -> list[str]:
    """Every piece of stored HTML the restored essay publishes."""
    essay = Essay.objects.get(slug=slug)
    return [
        *Paragraph.objects.filter(essay=essay).values_list("html", flat=True),
        *RevisionBlock.objects.filter(revision__essay=essay).values_list("html", flat=True),
        *Comment.objects.filter(essay=essay).values_list("body_html", flat=True),
        *CommentRevision.objects.filter(comment__essay=essay).values_list("body_html", flat=True),
    ]


def test_an_altered_files_html_is_rendered_again_and_sanitized(rich_essay, tmp_path, client):
    """Essay HTML comes from the file's Markdown sources through our renderer, comment HTML
    through our sanitizer: a script written into the file's HTML is on no page, feed or
    annotation, and the essay's HTML is exactly what the site had."""
    before = canonical(SLUG)
    document = export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    whole = next(c for c in document["comments"] if c["body"] == "On the whole essay.")
    whole["body_html"] = (
        "<p>On the whole essay.<script>alert(1)</script><img src=x onerror=alert(2)>"
        '<a href="javascript:alert(3)">more</a></p>'
    )
    edited = next(c for c in document["comments"] if c["earlier_versions"])
    edited["earlier_versions"][0]["body_html"] = "<p>Once<script>alert(4)</script></p>"
    live = next(p for p in document["paragraphs"] if p["retired_in"] is None)
    live["html"] += '<script>alert(5)</script><iframe src="https://evil.example/"></iframe>'
    retired = next(p for p in document["paragraphs"] if p["retired_in"] is not None)
    retired["html"] = f'<p onmouseover="alert(6)">{P3}</p>'
    document["revisions"][0]["blocks"][0]["html"] = "<script>alert(7)</script>"
    (tmp_path / "altered.json").write_text(json.dumps(document), encoding="utf-8")

    output = import_file(tmp_path / "altered.json")

    assert "Warning: 3 blocks of essay HTML" in output
    assert "Warning: 2 comment texts in the file held HTML the sanitizer removes" in output
    after = canonical(SLUG)
    for rows in ("paragraphs", "blocks"):
        assert after[rows] == before[rows]
    stored = "\n".join(restored_html(SLUG))
    for danger in DANGERS:
        assert danger not in stored
    restored = Essay.objects.get(slug=SLUG)
    comment = restored.comments.get(body="On the whole essay.")
    assert comment.body_html == (
        '<p>On the whole essay.alert(1)<a rel="nofollow ugc noopener">more</a></p>'
    )
    orphaned = restored.comments.get(body="On the cut paragraph.")
    pages = [
        restored.get_absolute_url(),
        reverse("discussion:essay_feed", args=[SLUG]),
        reverse("discussion:essay_annotations", args=[SLUG]),
        reverse("essays:revision_detail", args=[SLUG, 1]),
        reverse("discussion:comment_permalink", kwargs={"pk": orphaned.pk}),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        for danger in DANGERS:
            assert danger not in text, (url, danger)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda d: d["revisions"][0]["blocks"].pop(), r"revisions\[0\]\.source: the file has 3"),
        (lambda d: d["essay"].update(source=d["revisions"][0]["source"]), "essay.source: the"),
        (lambda d: d["revisions"][1].update(source="no front matter"), "cannot be rendered"),
        (lambda d: d["members"][0].update(is_active="no"), "expected true or false"),
    ],
)
def test_a_file_whose_html_its_sources_do_not_make_is_refused(rich_essay, tmp_path, spoil, message):
    document = export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    users = User.objects.count()
    spoil(document)
    (tmp_path / "spoilt.json").write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(CommandError, match=message):
        import_file(tmp_path / "spoilt.json")

    assert not Essay.objects.exists()
    assert User.objects.count() == users


# Members: matched accounts are named, deactivated members stay so -------------------------


def test_the_import_names_the_accounts_the_files_members_were_matched_to(
    rich_essay, moderator, tmp_path
):
    export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    User.objects.exclude(pk__in=[moderator.pk]).exclude(email="alice@example.org").delete()
    alice = User.objects.get(email="alice@example.org")
    User.objects.filter(pk=alice.pk).update(is_superuser=True, is_staff=True)

    output = import_file(tmp_path / "discussion.json")

    assert "2 members of the file are accounts of this site already" in output
    assert f"alice@example.org → account {alice.pk}, alice@example.org (“Alice”, superuser" in (
        output
    )
    assert f"mod@example.org → account {moderator.pk}" in output
    for created in ("bob@example.org", "carol@example.org", "dan@example.org"):
        assert created not in output.lower()


def test_deactivated_members_come_back_deactivated_and_accounts_here_are_unchanged(
    rich_essay, moderator, tmp_path
):
    User.objects.filter(email="dan@example.org").update(is_active=False)
    User.objects.filter(email="carol@example.org").update(is_active=False)
    document = export_to_file(SLUG, tmp_path / "discussion.json")
    assert {m["email"]: m["is_active"] for m in document["members"]}["dan@example.org"] is False
    delete_discussion(SLUG)
    # Carol is back here, active: the file's word does not change her account.
    User.objects.exclude(pk=moderator.pk).exclude(email="carol@example.org").delete()
    User.objects.filter(email="carol@example.org").update(is_active=True)

    import_file(tmp_path / "discussion.json")

    assert not User.objects.get(email="dan@example.org").is_active
    assert User.objects.get(email="Bob@example.org").is_active
    assert User.objects.get(email="carol@example.org").is_active


def test_a_version_1_file_without_where_passages_went_still_restores(rich_essay, tmp_path):
    document = export_to_file(SLUG, tmp_path / "discussion.json")
    assert any(c["quote_now"] for c in document["comments"])  # the passage a revision edited
    delete_discussion(SLUG)
    for comment in document["comments"]:
        del comment["quote_now"], comment["quote_start"]
    (tmp_path / "older.json").write_text(json.dumps(document), encoding="utf-8")

    import_file(tmp_path / "older.json")

    restored = Comment.objects.filter(essay__slug=SLUG)
    assert restored.exclude(quote="").exists()
    assert not restored.exclude(quote_now="").exists()
    assert not restored.filter(quote_start__isnull=False).exists()


def test_a_version_1_file_without_is_active_restores_active_members(rich_essay, tmp_path):
    document = export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    User.objects.filter(email="dan@example.org").delete()
    for member in document["members"]:
        del member["is_active"]
    (tmp_path / "older.json").write_text(json.dumps(document), encoding="utf-8")

    import_file(tmp_path / "older.json")

    assert User.objects.get(email="dan@example.org").is_active


def test_a_version_1_file_without_decision_facts_restores_them_empty(rich_essay, tmp_path):
    document = export_to_file(SLUG, tmp_path / "discussion.json")
    assert any(d["facts"].get("reasons") for d in document["decisions"])  # the holds'
    delete_discussion(SLUG)
    for decision in document["decisions"]:
        del decision["facts"]
    (tmp_path / "older.json").write_text(json.dumps(document), encoding="utf-8")

    import_file(tmp_path / "older.json")

    restored = Essay.objects.get(slug=SLUG)
    assert not Decision.objects.filter(essay=restored).exclude(facts={}).exists()


def test_a_dry_run_checks_the_whole_file_and_writes_nothing(rich_essay, moderator, tmp_path):
    comments = rich_essay.comments.count()
    export_to_file(SLUG, tmp_path / "discussion.json")
    delete_discussion(SLUG)
    User.objects.exclude(pk=moderator.pk).delete()
    out = io.StringIO()

    call_command("import_discussion", str(tmp_path / "discussion.json"), "--dry-run", stdout=out)

    assert f"Dry run: essay “Exported, revised” ({SLUG}) would be restored" in out.getvalue()
    assert f"comments: {comments};" in out.getvalue()
    assert f"mod@example.org → account {moderator.pk}" in out.getvalue()
    assert not Essay.objects.exists()
    assert list(User.objects.all()) == [moderator]
    assert "restored" in import_file(tmp_path / "discussion.json")
