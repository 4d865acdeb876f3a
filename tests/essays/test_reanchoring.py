"""The revision matcher on its own (essays/reanchoring.py): two lists of blocks in, a plan out.

Prose comes from real texts: the seed essay as supplied (tests/data/) and three consecutive
versions of a chapter of The Rust Programming Language (tests/data/revisions/README.md).
"""

import difflib
from pathlib import Path

import pytest

from essays import reanchoring
from essays.reanchoring import (
    New,
    Old,
    names_differ,
    plan_revision,
    terms,
    text_similarity,
    words,
)
from essays.rendering import parse_essay
from tests.conftest import essay_source

DATA = Path(__file__).resolve().parent.parent / "data"
PROSE = [
    block
    for block in (DATA / "stalinism-the-inner-truth-of-bolshevism.txt")
    .read_text(encoding="utf-8")
    .split("\n\n")
    if len(block.split()) > 15 and not block.startswith(("\n", " "))
]


def plan(old_blocks, new_blocks):
    """Plan a revision of blocks given as text (a paragraph) or as (kind, text)."""

    def kind_and_text(block):
        return block if isinstance(block, tuple) else ("paragraph", block)

    old = [Old(f"k{i}", *kind_and_text(block)) for i, block in enumerate(old_blocks)]
    new = [New(*kind_and_text(block)) for block in new_blocks]
    return plan_revision(old, new)


def test_the_prose_is_the_real_essay():
    assert len(PROSE) >= 30 and all(len(words(text)) > 15 for text in PROSE)


def test_words_ignore_case_and_punctuation():
    assert words("What is Ownership?") == ["what", "is", "ownership"]
    assert text_similarity("Then the guard checks.", "Then, the guard checks") == 1.0
    assert text_similarity("* * *", "- - -") == 0.0  # no words: alike only when equal


# Speed: the work grows with the essay, not with the square of what changed.


class CountedSequenceMatcher(difflib.SequenceMatcher):
    """difflib's matcher, counting the texts compared and stopping past a budget."""

    compared = 0
    budget = 0

    def ratio(self):
        CountedSequenceMatcher.compared += 1
        if CountedSequenceMatcher.compared > CountedSequenceMatcher.budget:
            raise AssertionError("compared far more pairs than the essay has paragraphs")
        return super().ratio()


@pytest.fixture
def counted(monkeypatch):
    monkeypatch.setattr(reanchoring, "SequenceMatcher", CountedSequenceMatcher)
    CountedSequenceMatcher.compared = 0
    return CountedSequenceMatcher


def edited(text: str, n: int) -> str:
    """The text with its third word replaced by one of its own."""
    parts = text.split(" ")
    parts[2] = f"edited{n}"
    return " ".join(parts)


def test_a_book_with_every_paragraph_edited_costs_a_few_comparisons_each(counted):
    book = [f"{PROSE[n % len(PROSE)]} (Section {n}.)" for n in range(600)]
    revised = [edited(text, n) for n, text in enumerate(book)]
    revised.insert(300, "A new paragraph about something else that nobody wrote before.")
    del revised[100]
    counted.budget = 4 * len(book)  # comparing every pair would be 360,000
    result = plan(book, revised)
    assert result.sources == [*range(100), *range(101, 300), None, *range(300, 600)]
    assert result.retired == [100]
    assert counted.compared <= counted.budget


def test_unchanged_text_is_aligned_without_comparing_it(counted):
    book = [f"{PROSE[n % len(PROSE)]} (Section {n}.)" for n in range(1000)]
    revised = list(book)
    for n in range(0, 1000, 4):
        revised[n] = edited(book[n], n)
    counted.budget = 300  # 250 paragraphs edited, each compared once with its old text
    result = plan(book, revised)
    assert result.sources == list(range(1000))
    assert result.changed == set(range(0, 1000, 4)) and not result.moved


def test_a_paragraph_moved_far_away_keeps_its_key_when_its_text_is_exact():
    book = [f"{PROSE[n % len(PROSE)]} (Section {n}.)" for n in range(300)]
    revised = book[1:250] + [book[0]] + book[250:]
    result = plan(book, revised)
    assert result.sources[249] == 0 and result.moved == {249}
    assert result.sources[:249] == list(range(1, 250)) and not result.retired


def test_an_edited_paragraph_moved_past_its_neighbours_keeps_its_key():
    book = [f"{PROSE[n % len(PROSE)]} (Section {n}.)" for n in range(100)]
    moved = edited(book[0], 0)
    result = plan(book, book[1:12] + [moved] + book[12:])
    assert result.sources[11] == 0 and result.moved == {11} and result.changed == {11}


def test_an_edited_paragraph_moved_beyond_the_window_is_orphaned_not_misplaced():
    """The search for edited text is bounded (WINDOW); exact text is found anywhere."""
    book = [f"{PROSE[n % len(PROSE)]} (Section {n}.)" for n in range(100)]
    moved = edited(book[0], 0)
    result = plan(book, book[1:90] + [moved] + book[90:])
    assert result.sources[89] is None and result.retired == [0]


# Repeated short paragraphs keep their places.


def with_examples(examples):
    """A chapter where "Consider:" introduces every example, each followed by its prose."""
    blocks = [("heading", "Patterns")]
    for code, prose in examples:
        blocks += ["Consider:", code, prose]
    return blocks


EXAMPLES = [(f"let x{n} = match value {{ Some({n}) => {n}, _ => 0 }};", PROSE[n]) for n in range(6)]


def test_a_new_copy_of_a_repeated_paragraph_is_new_and_the_old_copies_stay():
    old = with_examples(EXAMPLES)
    new = with_examples([("let first = Some(1);", "A first example, the simplest."), *EXAMPLES])
    result = plan(old, new)
    for code, _prose in EXAMPLES:
        # Each old "Consider:" still introduces its own example.
        assert result.sources[new.index(code) - 1] == old.index(code) - 1
    assert result.added == [1, 2, 3] and not result.retired and not result.moved


def test_a_removed_copy_of_a_repeated_paragraph_is_the_one_retired():
    old = with_examples(EXAMPLES)
    new = with_examples(EXAMPLES[:2] + EXAMPLES[3:])
    result = plan(old, new)
    removed = old.index(EXAMPLES[2][0])
    assert result.retired == [removed - 1, removed, removed + 1]
    assert not result.moved and not result.changed


def test_a_repeated_paragraph_removed_here_and_added_far_away_is_not_moved():
    old = with_examples(EXAMPLES) + PROSE[10:]
    new = with_examples(EXAMPLES[1:]) + PROSE[10:] + ["Consider:", "let last = 1;", "Last."]
    result = plan(old, new)
    assert result.retired == [1, 2, 3]  # the first "Consider:", its example and its prose
    assert result.added == [len(new) - 3, len(new) - 2, len(new) - 1] and not result.moved


# Short lines of markup (mdBook's listings) name things: another name is another line.


def include(number: str, tail: str = "src/main.rs") -> str:
    return f"{{{{#rustdoc_include ../listings/ch19-patterns/listing-{number}/{tail}}}}}"


def listing(number: str, caption: str) -> list[str]:
    """A listing as the book writes it: opening tag, include line, closing tag."""
    return [f'<Listing number="{number}" caption="{caption}">', include(number), "</Listing>"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (include("19-01"), include("19-03")),
        (include("19-03", "output.txt"), include("19-02", "output.txt")),
        ('<Listing number="17-4" caption="Waiting">', '<Listing number="17-5" caption="">'),
        ("Figure 3", "Figure 4"),
    ],
)
def test_a_short_line_whose_one_change_is_a_number_is_another_line(before, after):
    """Between the same unchanged neighbours, where anything else alike would continue: an
    include line naming listing-19-03 includes another file than the one naming 19-01."""
    assert names_differ(terms(before), terms(after))
    assert text_similarity(before, after) >= 0.5  # alike enough by their words alone
    result = plan([PROSE[0], before, PROSE[1]], [PROSE[0], after, PROSE[1]])
    assert result.sources == [0, None, 2] and result.retired == [1]


def test_a_short_line_naming_another_listing_is_not_found_nearby_either():
    """Steps 3, 4 and 6 compare words too: the line naming 19-01, gone, is not the line
    naming 19-03 that appears two paragraphs further."""
    old = [PROSE[0], include("19-01"), PROSE[1], PROSE[2], PROSE[3]]
    new = [PROSE[0], edited(PROSE[1], 1), PROSE[2], include("19-03"), PROSE[3]]
    result = plan(old, new)
    assert result.sources == [0, 2, 3, None, 4] and result.retired == [1]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # A sentence about a listing that was renumbered is still that sentence.
        (
            "The code in Listing 19-3 will print the following:",
            "The code in Listing 19-5 will print the following:",
        ),
        # An opening tag with its caption names its example by the caption.
        (
            '<Listing number="19-1" caption="Mixing if let, else if, and else">',
            '<Listing number="19-3" caption="Mixing if let, else if, and else">',
        ),
        # A short line that only gained a term (a tag around it) names the same thing.
        (
            '<span class="filename">Filename: src/main.rs</span>',
            '<figure> <span class="filename">Filename: src/main.rs</span>',
        ),
    ],
)
def test_a_longer_line_renumbered_or_a_short_one_wrapped_continues(before, after):
    assert not names_differ(terms(before), terms(after))
    result = plan([PROSE[0], before, PROSE[1]], [PROSE[0], after, PROSE[1]])
    assert result.sources == [0, 1, 2]


def test_each_closing_tag_stays_with_its_listing_when_a_listing_is_inserted_before_it():
    first = listing("19-1", "Matching a tuple")
    second = listing("19-2", "Matching a struct")
    inserted = listing("19-0", "Matching a number")
    old = [PROSE[0], *first, PROSE[1], *second, PROSE[2]]
    new = [PROSE[0], *inserted, PROSE[3], *first, PROSE[1], *second, PROSE[2]]
    result = plan(old, new)
    assert result.sources == [0, None, None, None, None, 1, 2, 3, 4, 5, 6, 7, 8]
    assert not result.retired


def test_a_closing_tag_is_not_handed_to_the_copy_closing_another_listing():
    """Listing 17-1 deleted, Listing 17-3 added a few paragraphs on: the old "</Listing>"
    closed 17-1, and the copy near it closes 17-3. Its discussion is orphaned with its
    listing rather than shown beside another listing's closing tag."""
    last = listing("17-9", "Ending")  # the chapter's other listing: "</Listing>" recurs
    old = [PROSE[0], *listing("17-1", "Defining"), PROSE[1], PROSE[2], PROSE[3], *last]
    new = [PROSE[0], PROSE[1], PROSE[2], *listing("17-3", "Calling"), PROSE[3], *last]
    result = plan(old, new)
    assert result.sources == [0, 4, 5, None, None, None, 6, 7, 8, 9]
    assert result.retired == [1, 2, 3]


def test_a_copy_between_neighbours_that_moved_apart_is_orphaned_when_both_claim_a_copy():
    """The section that ended "... </Listing> Attempting to compile:" moved up, but the
    include line before its "</Listing>" stayed: each neighbour points at a "</Listing>"
    beside it, one in each place. Which listing it closed is a guess: orphaned."""
    old = [PROSE[0], PROSE[1], include("19-9"), "</Listing>", PROSE[5], PROSE[2], PROSE[3]]
    new = [PROSE[0], "</Listing>", PROSE[5], PROSE[1], include("19-9"), "</Listing>"]
    new += [PROSE[2], PROSE[3]]
    result = plan(old, new)
    assert result.sources == [0, None, 4, 1, 2, None, 5, 6]
    assert result.retired == [3]


def test_a_copy_edited_in_place_continues():
    """A repeated "Consider:" that gained words between its unchanged neighbours was paired
    by its place; the check of copies leaves it there."""
    old = with_examples(EXAMPLES)
    new = list(old)
    new[4] = "Consider, again:"
    result = plan(old, new)
    assert result.sources == list(range(len(old))) and result.changed == {4}


def test_a_copy_whose_neighbour_moved_follows_the_one_that_points_at_a_copy():
    """A heading moved below the comment and the anchor that followed it: the comment, a
    text the chapter repeats, stays before its anchor."""
    comment = "<!-- Old headings. Do not remove or links may break. -->"
    old = [("heading", "Traits"), comment, '<a id="traits"></a>', PROSE[0], comment, PROSE[1]]
    new = [comment, '<a id="traits"></a>', ("heading", "Traits"), PROSE[0], comment, PROSE[1]]
    result = plan(old, new)
    assert result.sources == [1, 2, 0, 3, 4, 5]


# Paragraphs rewritten in place.


def test_a_paragraph_that_grew_between_unchanged_neighbours_continues():
    short = (
        "Stalin’s industrialization was based on state terror and on the slave labour of the "
        "camps, as the regime’s own records of the Gulag show."
    )
    grown = " ".join([short, PROSE[20], PROSE[21], PROSE[22]])
    assert len(words(short)) < 30 and len(words(grown)) > 140
    assert text_similarity(short, grown) < 0.4  # the fixed cut-off of old orphaned it
    result = plan([PROSE[0], short, PROSE[1]], [PROSE[0], grown, PROSE[1]])
    assert result.sources == [0, 1, 2] and result.changed == {1}


def test_a_paragraph_that_was_cut_down_in_place_continues():
    cut = " ".join(PROSE[5].split()[:12])
    result = plan([PROSE[0], PROSE[5], PROSE[1]], [PROSE[0], cut, PROSE[1]])
    assert result.sources == [0, 1, 2]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Ownership", "What is Ownership?"),
        ("Guards", "Extra Conditionals with Match Guards"),
        ("Destructuring Structs", "Structs"),
    ],
)
def test_a_heading_that_gained_or_lost_words_continues(before, after):
    result = plan(
        [PROSE[0], ("heading", before), PROSE[1], PROSE[2]],
        [PROSE[0], ("heading", after), PROSE[1], PROSE[2]],
    )
    assert result.sources == [0, 1, 2, 3]


def test_a_renamed_heading_continues_when_the_paragraph_below_was_edited_too():
    result = plan(
        [PROSE[0], ("heading", "Guards"), PROSE[1], PROSE[2]],
        [
            PROSE[0],
            ("heading", "Extra Conditionals with Match Guards"),
            PROSE[1] + " Indeed, as we saw.",
            PROSE[2],
        ],
    )
    assert result.sources == [0, 1, 2, 3]


def test_unrelated_paragraphs_of_one_essay_never_continue_each_other_in_place():
    """Every paragraph of the seed essay replaced by every other one, between the same
    unchanged neighbours: texts on one subject, sharing many words, and never matched."""
    first, last = "An unchanged opening paragraph.", "An unchanged closing paragraph."
    for i, before in enumerate(PROSE):
        for j, after in enumerate(PROSE):
            if i != j:
                result = plan([first, before, last], [first, after, last])
                assert result.sources == [0, None, 2], (i, j)


def test_a_heading_replaced_by_another_is_not_continued():
    result = plan(
        [PROSE[0], ("heading", "Guards"), PROSE[1]],
        [PROSE[0], ("heading", "Bindings"), PROSE[1]],
    )
    assert result.sources == [0, None, 2] and result.retired == [1]


def test_a_paragraph_never_continues_as_another_kind():
    """Its key retires with its kind; its discussion follows the text (a merge of one)."""
    result = plan([PROSE[0], PROSE[1], PROSE[2]], [PROSE[0], ("list", PROSE[1]), PROSE[2]])
    assert result.sources == [0, None, 2]
    assert result.merged == {1: [1]} and not result.retired and result.ending == [1]


# Merges and splits (step 8): discussion follows the text when paragraphs join or part.


def halves(text: str, share: float) -> tuple[str, str]:
    """The text cut in two at about `share` of its words."""
    parts = text.split(" ")
    cut = round(len(parts) * share)
    return " ".join(parts[:cut]), " ".join(parts[cut:])


def test_two_paragraphs_joined_are_merged_into_one():
    joined = f"{PROSE[1]} {PROSE[2]}"
    result = plan([PROSE[0], PROSE[1], PROSE[2], PROSE[3]], [PROSE[0], joined, PROSE[3]])
    # One of the two keeps its key in the joined paragraph; the other is merged into it.
    (merged,) = result.merged[1]
    assert {result.sources[1], merged} == {1, 2}
    assert result.merged_into == {merged: 1} and result.ending == [merged]
    assert not result.retired and result.changed == {1} and not result.added


def test_two_paragraphs_joined_with_edits_are_still_merged():
    joined = f"{edited(PROSE[1], 1)} And so, {PROSE[2][0].lower()}{PROSE[2][1:]}"
    result = plan([PROSE[0], PROSE[1], PROSE[2], PROSE[3]], [PROSE[0], joined, PROSE[3]])
    assert sorted([result.sources[1], *result.merged[1]]) == [1, 2] and not result.retired


def test_paragraphs_made_into_a_list_are_merged_into_it():
    items = [edited(PROSE[n], n) for n in (1, 2, 3)]
    result = plan(
        [PROSE[0], PROSE[1], PROSE[2], PROSE[3], PROSE[4]],
        [PROSE[0], ("list", "\n".join(items)), PROSE[4]],
    )
    # Keys keep their kind: the list is new, and the three paragraphs' discussion follows it.
    assert result.sources == [0, None, 4] and result.added == [1]
    assert result.merged == {1: [1, 2, 3]} and not result.retired


@pytest.mark.parametrize("share", [0.3, 0.7])
def test_a_paragraph_split_in_two_goes_where_most_of_its_text_went(share):
    first, second = halves(PROSE[1], share)
    result = plan([PROSE[0], PROSE[1], PROSE[2]], [PROSE[0], first, second, PROSE[2]])
    larger = 1 if share > 0.5 else 2
    assert result.sources[larger] == 1 and result.sources[3 - larger] is None
    assert result.split == {1: [1, 2]} and not result.merged and not result.retired


def test_a_paragraph_split_around_an_inserted_one():
    first, second = halves(PROSE[1], 0.4)
    between = "A new paragraph, written for this revision, about something else entirely."
    result = plan([PROSE[0], PROSE[1], PROSE[2]], [PROSE[0], first, between, second, PROSE[2]])
    assert result.sources == [0, None, None, 1, 2] and result.split == {1: [1, 3]}


def test_a_copy_of_an_unchanged_paragraph_is_not_a_merge():
    """Text deleted because another paragraph says it already is not merged into that one."""
    near_copy = f"{PROSE[1]} Indeed."
    result = plan([PROSE[0], PROSE[1], near_copy, PROSE[2]], [PROSE[0], PROSE[1], PROSE[2]])
    assert result.retired == [2] and not result.merged


def test_a_sentence_repeated_from_an_unchanged_paragraph_is_not_a_split():
    sentence = PROSE[1].split(". ")[0] + "."
    result = plan([PROSE[0], PROSE[1], PROSE[2]], [PROSE[0], PROSE[1], sentence, PROSE[2]])
    assert result.added == [2] and not result.split and not result.merged


def test_unrelated_paragraphs_are_never_merged_or_split():
    """Two paragraphs of the seed essay replaced by a third, and one by two others: texts on
    one subject, and never taken for a merge or a split."""
    first, last = "An unchanged opening paragraph.", "An unchanged closing paragraph."
    for i in range(len(PROSE) - 1):
        for k in range(len(PROSE)):
            if k in (i, i + 1):
                continue
            joined = plan([first, PROSE[i], PROSE[i + 1], last], [first, PROSE[k], last])
            assert joined.sources == [0, None, 3] and not joined.merged, (i, k)
            parted = plan([first, PROSE[k], last], [first, PROSE[i], PROSE[i + 1], last])
            assert parted.sources == [0, None, None, 2] and not parted.split, (i, k)


# Real revisions: three consecutive versions of one chapter (tests/data/revisions/README.md).


def chapter(version: int) -> list:
    path = DATA / "revisions" / f"ch19-03-pattern-syntax.{version}.md"
    blocks = parse_essay(essay_source(path.read_text(encoding="utf-8"))).blocks
    return [(block.kind, block.text) for block in blocks]


def assert_sensible(old, new, result):
    """Unique unchanged blocks keep their place; every pair made shares its words; these
    revisions join and part no paragraphs."""
    assert not result.merged and not result.split
    for j, block in enumerate(new):
        if old.count(block) == 1 and new.count(block) == 1:
            assert result.sources[j] == old.index(block), block
        i = result.sources[j]
        if i is not None:
            assert old[i][0] == block[0]
            assert text_similarity(old[i][1], block[1]) >= 0.4, (old[i], block)


def test_real_revision_renaming_headings():
    old, new = chapter(1), chapter(2)
    result = plan(old, new)
    assert_sensible(old, new, result)
    renamed = {
        "Multiple Patterns": "Matching Multiple Patterns",
        "Destructuring Structs": "Structs",
        "Destructuring Enums": "Enums",
        "Destructuring Nested Structs and Enums": "Nested Structs and Enums",
        "Extra Conditionals with Match Guards": "Adding Conditionals with Match Guards",
        "@ Bindings": "Using @ Bindings",
    }
    for before, after in renamed.items():
        assert result.sources[new.index(("heading", after))] == old.index(("heading", before))
    # What the revision added are the anchors kept for the old headings' links.
    assert all(new[j][1].startswith(("<!--", "<a id=")) for j in result.added)
    assert len(result.added) == 13 and not result.retired and not result.moved


def test_real_revision_of_copy_edits_with_one_more_repeated_comment():
    old, new = chapter(2), chapter(3)
    result = plan(old, new)
    assert_sensible(old, new, result)
    # The chapter repeats the comment "<!-- Old headings ... -->" eight times; the copy edit
    # adds a ninth before one of its anchors. That one is new; the others keep their places.
    comment = ("paragraph", "<!-- Old headings. Do not remove or links may break. -->")
    assert new.count(comment) == old.count(comment) + 1 == 9
    assert result.added == [89] and new[89] == comment and new[90][1].startswith("<a id=")
    assert not result.retired and not result.moved
    assert len(result.changed) == 15
    for j in result.changed:
        assert text_similarity(old[result.sources[j]][1], new[j][1]) > 0.85


def test_real_revisions_taken_at_once():
    old, new = chapter(1), chapter(3)
    result = plan(old, new)
    assert_sensible(old, new, result)
    assert not result.retired and not result.moved and len(result.added) == 14
