"""Revision scenarios: which comments stay placed, move or are orphaned, and none is lost."""

import pytest
from django.contrib.auth.models import Permission

from essays.models import EssayRevision, Paragraph
from essays.services import essay_import, revision_publish
from forum.discussion import services as discussion
from forum.discussion.models import Comment
from tests.conftest import SEED_SOURCE, essay_source, make_user

P1 = "The first paragraph sets the scene with a long and careful sentence about the camps."
P2 = (
    "The second paragraph argues that industrialisation by terror was the point, not a side effect."
)
P3 = (
    "The third paragraph counts the dead. Estimates range widely between historians. "
    "Some count famine victims, others only executions, and the difference is millions."
)
P4 = "The fourth paragraph turns to ideology and the legitimising role of official Marxism."
P5 = "The fifth paragraph concludes that the identification helped capitalism more than anyone."


@pytest.fixture(autouse=True)
def generous_limits(settings):
    settings.COMMENT_RATE_LIMITS = [(1000, 60)]


@pytest.fixture
def essay(db):
    return essay_import(source=essay_source(P1, P2, P3, P4, P5)).essay


@pytest.fixture
def comments(essay, user):
    """Two comments on every paragraph, keyed by the paragraph's text."""
    made = {}
    for paragraph in essay.paragraphs.live().order_by("position"):
        made[paragraph.text] = [
            discussion.comment_post(
                author=user,
                essay=essay,
                body=f"On {paragraph.position} ({n}).",
                paragraph=paragraph,
            )
            for n in range(2)
        ]
    return made


def revise(*blocks):
    return essay_import(source=essay_source(*blocks))


def statuses(comments):
    result = {}
    for text, pair in comments.items():
        for comment in pair:
            comment.refresh_from_db()
        result[text] = {c.anchor_status for c in pair}
    return {text: status.pop() for text, status in result.items()}


def keys(essay):
    return list(essay.paragraphs.live().order_by("position").values_list("key", flat=True))


def old_keys(essay):
    return {p.text: p.key for p in essay.paragraphs.all()}


def test_a_typo_fixed_inside_a_commented_paragraph(essay, comments):
    before = old_keys(essay)
    revise(P1, P2.replace("industrialisation", "industrialization"), P3, P4, P5)
    assert keys(essay) == [before[t] for t in (P1, P2, P3, P4, P5)]
    assert statuses(comments) == {
        P1: "placed",
        P2: "moved",
        P3: "placed",
        P4: "placed",
        P5: "placed",
    }
    moved = comments[P2][0]
    assert moved.anchor_text == P2  # the text it was written against


def test_a_paragraph_inserted_above(essay, comments):
    before = old_keys(essay)
    revise("A new opening paragraph, written after readers asked for context.", P1, P2, P3, P4, P5)
    assert keys(essay)[1:] == [before[t] for t in (P1, P2, P3, P4, P5)]
    assert set(statuses(comments).values()) == {"placed"}


def test_half_of_a_paragraph_rewritten(essay, comments):
    before = old_keys(essay)
    rewritten = (
        "The third paragraph counts the dead. Estimates range widely between historians. "
        "Recent archival work narrows the range, yet the core dispute about famine remains."
    )
    revise(P1, P2, rewritten, P4, P5)
    assert keys(essay)[2] == before[P3]
    assert statuses(comments) == {
        P1: "placed",
        P2: "placed",
        P3: "moved",
        P4: "placed",
        P5: "placed",
    }


def test_two_paragraphs_swapped(essay, comments):
    before = old_keys(essay)
    revise(P1, P3, P2, P4, P5)
    assert keys(essay) == [before[t] for t in (P1, P3, P2, P4, P5)]
    assert statuses(comments) == {
        P1: "placed",
        P2: "placed",
        P3: "moved",
        P4: "placed",
        P5: "placed",
    }


def test_a_paragraph_deleted(essay, comments):
    before = old_keys(essay)
    revise(P1, P2, P3, P5)
    assert keys(essay) == [before[t] for t in (P1, P2, P3, P5)]
    assert statuses(comments) == {
        P1: "placed",
        P2: "placed",
        P3: "placed",
        P4: "orphaned",
        P5: "placed",
    }
    retired = Paragraph.objects.get(key=before[P4])
    assert retired.retired_in == 2 and retired.text == P4


def test_duplicate_paragraphs_follow_their_neighbours(db, user):
    same = "A refrain that the author repeats word for word."
    essay = essay_import(source=essay_source(P1, same, P2, same, P3)).essay
    first, second = essay.paragraphs.filter(text=same).order_by("position")
    on_first = discussion.comment_post(
        author=user, essay=essay, body="First refrain.", paragraph=first
    )
    on_second = discussion.comment_post(
        author=user, essay=essay, body="Second refrain.", paragraph=second
    )
    revise(P1, P2, same, P3)  # the first refrain goes
    on_first.refresh_from_db()
    on_second.refresh_from_db()
    assert on_second.anchor_status == "placed" and on_second.paragraph.is_live
    assert on_first.anchor_status == "orphaned" and not on_first.paragraph.is_live


def test_an_unrelated_rewrite_is_not_matched_but_orphans_honestly(essay, comments):
    revise(P1, P2, "Something else entirely, about the weather in Odessa in 1921.", P4, P5)
    assert statuses(comments)[P3] == "orphaned"


@pytest.mark.parametrize(
    "blocks",
    [
        (P1, P2.replace("terror", "terror,"), P3, P4, P5),
        ("Inserted.", P1, P2, P3, P4, P5),
        (P1, P3, P2, P4, P5),
        (P1, P2, P4, P5),
        (P5, P4, P3, P2, P1),
    ],
)
def test_nothing_lost_nothing_duplicated(essay, comments, blocks):
    before = sorted(Comment.objects.values_list("pk", "body"))
    revise(*blocks)
    assert sorted(Comment.objects.values_list("pk", "body")) == before
    assert Comment.objects.filter(paragraph__isnull=True).count() == 0


def test_revisions_are_recorded_with_a_summary(essay, comments):
    before = old_keys(essay)
    revise("Inserted.", P1, P2.replace("point", "whole point"), P4, P3)
    revision = EssayRevision.objects.get(essay=essay, number=2)
    assert revision.summary["changed"] == [before[P2]]
    assert revision.summary["removed"] == [before[P5]]
    assert len(revision.summary["added"]) == 1
    assert revision.summary["moved"] in ([before[P4]], [before[P3]])
    assert revision.blocks.count() == 5
    first = EssayRevision.objects.get(essay=essay, number=1)
    assert [b.text for b in first.blocks.order_by("position")] == [P1, P2, P3, P4, P5]


def test_quotes_follow_their_paragraph_or_say_they_are_lost(essay, user):
    third = essay.paragraphs.get(text=P3)
    kept = discussion.comment_post(
        author=user,
        essay=essay,
        body="On the range.",
        paragraph=third,
        quote="Estimates range widely between historians.",
    )
    lost = discussion.comment_post(
        author=user,
        essay=essay,
        body="On the millions.",
        paragraph=third,
        quote="the difference is millions",
    )
    assert kept.quote_prefix.endswith("counts the dead. ") and kept.quote_suffix.startswith(
        " Some count"
    )
    revise(
        P1,
        P2,
        P3.replace(
            "Some count famine victims, others only executions, and the difference is millions.",
            "Archival work has narrowed the range considerably since then.",
        ),
        P4,
        P5,
    )
    kept.refresh_from_db()
    lost.refresh_from_db()
    assert not kept.quote_lost and lost.quote_lost
    assert lost.quote == "the difference is millions"  # the original passage is kept


def test_a_passage_on_a_deleted_paragraph_is_orphaned_with_its_text_not_lost(essay, user, client):
    third = essay.paragraphs.get(text=P3)
    comment = discussion.comment_post(
        author=user, essay=essay, body="Which ones?", paragraph=third, quote="counts the dead"
    )
    revise(P1, P2, P4, P5)
    comment.refresh_from_db()
    assert comment.anchor_status == "orphaned" and not comment.quote_lost
    page = client.get(essay.get_absolute_url()).content.decode()
    assert "counts the dead" in page  # under "On earlier versions", with its paragraph's text
    assert "This passage is no longer in the paragraph" not in page


def test_reimporting_the_seed_unchanged_changes_nothing(db):
    source = SEED_SOURCE.read_text(encoding="utf-8")
    essay_import(source=source)
    before = list(Paragraph.objects.values_list("pk", "key", "position", "html"))
    result = essay_import(source=source)
    assert not result.revised
    assert EssayRevision.objects.count() == 1
    assert list(Paragraph.objects.values_list("pk", "key", "position", "html")) == before


# Merges and splits: discussion follows the text when paragraphs join or part.


@pytest.fixture
def editor(db):
    user = make_user("editor@example.org", "Ed Itor")
    user.user_permissions.add(Permission.objects.get(codename="change_essay"))
    return user


def publish(editor, essay, *blocks):
    """Publish a revision as an editor does from the site (essays' service)."""
    essay.refresh_from_db()
    return revision_publish(
        editor=editor, essay=essay, source=essay_source(*blocks), onto_revision=essay.revision
    )


def paragraph_of(comment):
    comment.refresh_from_db()
    return comment.paragraph


def test_two_paragraphs_merged_keep_both_threads(essay, comments, editor):
    before = old_keys(essay)
    result = publish(editor, essay, P1, f"{P2} {P3}", P4, P5)
    assert result.revised
    merged = essay.paragraphs.live().get(position=1)
    assert merged.key in (before[P2], before[P3])
    for comment in comments[P2] + comments[P3]:
        assert paragraph_of(comment) == merged and comment.anchor_status == "moved"
    assert {c.anchor_text for c in comments[P2]} == {P2}  # each shows what it answered
    assert {paragraph_of(c).key for c in comments[P1] + comments[P4]} == {
        before[P1],
        before[P4],
    }
    gone = (set(before.values()) - set(keys(essay))).pop()
    assert Paragraph.objects.get(key=gone).retired_in == 2
    revision = EssayRevision.objects.get(essay=essay, number=2)
    assert revision.summary["merged"] == [{"into": merged.key, "from": [gone]}]
    assert not Comment.objects.filter(anchor_status="orphaned").exists()


def test_paragraphs_made_into_a_list_keep_their_threads(essay, comments, editor):
    publish(editor, essay, P1, f"- {P2}\n- {P3}\n- {P4}", P5)
    listed = essay.paragraphs.live().get(position=1)
    assert listed.kind == "list"
    for comment in comments[P2] + comments[P3] + comments[P4]:
        assert paragraph_of(comment) == listed and comment.anchor_status == "moved"
    assert statuses(comments)[P1] == statuses(comments)[P5] == "placed"
    assert not Comment.objects.filter(anchor_status="orphaned").exists()


def test_a_paragraph_split_in_two_sends_threads_where_their_text_went(essay, user, editor):
    third = essay.paragraphs.get(text=P3)
    on_paragraph = discussion.comment_post(
        author=user, essay=essay, body="On the whole count.", paragraph=third
    )
    on_opening = discussion.comment_post(
        author=user, essay=essay, body="Which dead?", paragraph=third, quote="counts the dead"
    )
    reply = discussion.comment_post(
        author=user, essay=essay, body="The famine's, surely.", parent=on_opening
    )
    on_millions = discussion.comment_post(
        author=user, essay=essay, body="Millions!", paragraph=third, quote="is millions"
    )
    opening, rest = P3.split(" Estimates ")
    publish(editor, essay, P1, P2, opening, f"Estimates {rest}", P4, P5)
    first_half, second_half = essay.paragraphs.live().order_by("position")[2:4]
    # The thread goes where most of the text went: the second half, with the old key.
    assert paragraph_of(on_paragraph) == second_half and second_half.key == third.key
    assert paragraph_of(on_millions) == second_half and not on_millions.quote_lost
    # A comment on a passage goes, with its replies, to the half that holds its passage.
    assert paragraph_of(on_opening) == first_half and paragraph_of(reply) == first_half
    assert not on_opening.quote_lost and on_opening.anchor_status == "moved"
    assert on_opening.quote_start == first_half.text.index("counts the dead")
    revision = EssayRevision.objects.get(essay=essay, number=2)
    assert revision.summary["split"] == [
        {"from": third.key, "into": [first_half.key, second_half.key]}
    ]


def test_a_passage_after_a_one_word_spelling_fix_is_found_again(essay, user, editor, client):
    second = essay.paragraphs.get(text=P2)
    comment = discussion.comment_post(
        author=user,
        essay=essay,
        body="Why the British spelling?",
        paragraph=second,
        quote="industrialisation by terror",
    )
    publish(editor, essay, P1, P2.replace("industrialisation", "industrialization"), P3, P4, P5)
    comment.refresh_from_db()
    second.refresh_from_db()
    assert not comment.quote_lost and comment.anchor_status == "moved"
    assert comment.quote == "industrialisation by terror"  # what the comment answered
    assert comment.quote_now == "industrialization by terror"  # what the paragraph says now
    assert comment.quote_start == second.text.index("industrialization by terror")
    assert comment.quote_prefix.endswith("second paragraph argues that ")
    page = client.get(second.get_absolute_url()).content.decode()
    assert 'data-quote="industrialization by terror"' in page
    assert "industrialisation by terror" in page and "no longer in the paragraph" not in page


def test_a_passage_rewritten_beyond_recognition_is_lost_and_says_so(essay, user, editor, client):
    third = essay.paragraphs.get(text=P3)
    comment = discussion.comment_post(
        author=user,
        essay=essay,
        body="Which?",
        paragraph=third,
        quote="Some count famine victims, others only executions",
    )
    rewritten = P3.replace(
        "Some count famine victims, others only executions",
        "Archival work has since narrowed the range considerably",
    )
    publish(editor, essay, P1, P2, rewritten, P4, P5)
    comment.refresh_from_db()
    assert comment.quote_lost and comment.quote_now == "" and comment.quote_start is None
    page = client.get(third.get_absolute_url()).content.decode()
    assert "This passage is no longer in the paragraph" in page


def test_a_passage_found_again_is_followed_through_the_next_revision(essay, user, editor):
    second = essay.paragraphs.get(text=P2)
    comment = discussion.comment_post(
        author=user, essay=essay, body="On terror.", paragraph=second, quote="industrialisation"
    )
    fixed = P2.replace("industrialisation", "industrialization")
    publish(editor, essay, P1, fixed, P3, P4, P5)
    publish(editor, essay, P1, "Put simply: " + fixed, P3, P4, P5)
    comment.refresh_from_db()
    assert comment.quote_now == "industrialization" and not comment.quote_lost
    assert comment.quote_start == ("Put simply: " + fixed).index("industrialization")


# How the editor's preview and the changes page show a join and a split.


def _preview_of(editor, essay, *blocks):
    from essays.changes import revision_preview
    from essays.services import preview_revision

    _essay, live, plan, new_blocks = preview_revision(source=essay_source(*blocks))
    return revision_preview(essay=essay, live=live, plan=plan, blocks=new_blocks, viewer=editor)


def test_the_preview_lists_a_join_once_with_the_threads_of_both(essay, comments, editor):
    from essays.changes import Outcome, ThreadFate

    preview = _preview_of(editor, essay, P1, f"{P2} {P3}", P4, P5)
    assert [(c.outcome, len(c.threads)) for c in preview.changes] == [(Outcome.MERGED, 4)]
    joined = preview.changes[0]
    assert [p.text for p in joined.before] == [P2, P3]
    assert "<del>" not in joined.marked.before  # nothing taken out, only joined
    assert preview.thread_counts[ThreadFate.FOLLOW] == 4
    assert preview.thread_counts[ThreadFate.ORPHAN] == 0
    assert (preview.added, preview.removed, preview.joined) == (0, 0, 1)


def test_the_preview_lists_a_split_once_with_its_parts(essay, comments, editor):
    from essays.changes import Outcome

    opening, rest = P3.split(" Estimates ")
    preview = _preview_of(editor, essay, P1, P2, opening, f"Estimates {rest}", P4, P5)
    assert [(c.outcome, len(c.threads)) for c in preview.changes] == [(Outcome.SPLIT, 2)]
    split = preview.changes[0]
    assert split.after.text == f"Estimates {rest}"  # the part that took most of the text
    assert [part.text for part in split.parts] == [opening, f"Estimates {rest}"]  # in order
    assert "<del>" not in split.marked.before and "<ins>" not in split.marked.after
    assert preview.added == 0


def test_the_changes_page_shows_joins_and_splits_once(client, essay, comments, editor):
    publish(editor, essay, P1, f"{P2} {P3}", P4, P5)
    page = client.get(f"/essays/{essay.slug}/r/2/changes/").content.decode()
    assert "0 added, 0 changed, 0 moved, 0 removed,\n  1 joined or split." in page
    assert "2 paragraphs joined into one; their threads follow it." in page
    assert page.count("The third paragraph counts the dead.") == 2  # before, and after
    opening, rest = P3.split(" Estimates ")
    publish(editor, essay, P1, f"{P2} {opening}", f"Estimates {rest}", P4, P5)
    page = client.get(f"/essays/{essay.slug}/r/3/changes/").content.decode()
    assert "One paragraph split into 2" in page
    assert "0 added, 0 changed, 0 moved, 0 removed,\n  1 joined or split." in page


def test_a_link_to_a_paragraph_joined_into_another_leads_to_it(essay, comments, editor, client):
    before = old_keys(essay)
    publish(editor, essay, P1, f"{P2} {P3}", P4, P5)
    joined = essay.paragraphs.live().get(position=1)
    gone = ({before[P2], before[P3]} - {joined.key}).pop()
    response = client.get(f"/essays/{essay.slug}/p/{gone}/")
    assert response.status_code == 302 and response.url == joined.get_absolute_url()
    # Joined again in a later revision: the link still finds where the discussion went.
    publish(editor, essay, P1, f"{P2} {P3} {P4}", P5)
    rejoined = essay.paragraphs.live().get(position=1)
    response = client.get(f"/essays/{essay.slug}/p/{gone}/")
    assert response.status_code == 302 and response.url == rejoined.get_absolute_url()
