"""The revision matcher against real revisions labelled by hand (tests/data/revision-corpus/).

Each old paragraph's discussion must go where its label says, or stay with its unchanged
text; the figures are in bench/revision_corpus.py, which prints them per pair. Attaching a
discussion to the wrong text must never happen: each paragraph is a case of its own, and the
cases the matcher gets wrong today are listed in KNOWN_WRONG, expected to fail (strictly, so
that a fix which puts them right, or orphans them, turns them into failures to remove from
the list). Counts of correct placements must not fall below what was measured.
"""

import pytest

from bench.revision_corpus import (
    CORPUS,
    evaluate,
    expectations,
    labels,
    pair_names,
    versions,
)
from bench.revision_corpus import destinations as placed_by_matcher
from scripts.extract_revision_corpus import quote

# Measured after the labels were reviewed: (correct, falsely orphaned) of the labelled
# paragraphs of each pair. A regression lowers the first or raises the second. Measured
# again when the matcher stopped attaching short markup to another copy or another listing
# (names_differ, pair_copies_in_place): in book-ch19-01-pattern-places-2025 two "</Listing>"
# lines that went to another listing's copy (old 46 and 51) are orphaned since, hence one
# more falsely orphaned there than before (another, old 40, is now placed right).
MEASURED = {
    "book-ch04-01-ownership-2016": (78, 1),
    "book-ch09-02-errors-2016": (46, 5),
    "book-ch17-01-futures-rewrite-2024": (38, 17),
    "book-ch17-05-async-traits-2025": (51, 2),
    "book-ch19-01-pattern-places-2025": (24, 9),
    "nomicon-meet-safe-and-unsafe-2017": (16, 2),
    "nomicon-safe-unsafe-meaning-2017": (12, 2),
    "nomicon-subtyping-2022": (47, 2),
}

# (pair, old paragraph): what the matcher does that the label says is wrong, expected to
# fail strictly. Empty: every placement is right, or an orphan. A case added here is a
# regression to be explained, never a way to make the suite pass.
KNOWN_WRONG: dict[tuple[str, int], str] = {}


def test_the_corpus_holds_a_few_hundred_labels_of_varied_changes():
    assert set(pair_names()) == set(MEASURED)
    every = [label for name in pair_names() for label in labels(name)]
    assert len(every) >= 300
    targets = [label["new"] for label in every]
    assert targets.count("orphan") >= 40  # content that is gone
    assert sum(isinstance(target, list) for target in targets) >= 8  # paragraphs split
    merged = [
        (name, label["new"])
        for name in pair_names()
        for label in labels(name)
        if isinstance(label["new"], int)
    ]
    assert len(merged) - len(set(merged)) >= 5  # paragraphs merged into one


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_labels_quote_the_blocks_they_name(name):
    """The labels point at blocks by index: the pipeline must still split the versions the
    way the labeller read them."""
    old, new = versions(name)
    for label in labels(name):
        assert label["old_start"] == quote(old[label["old"]][1]), label
        if label["new"] != "orphan":
            targets = label["new"] if isinstance(label["new"], list) else [label["new"]]
            starts = label["new_start"] if isinstance(label["new"], list) else [label["new_start"]]
            assert starts == [quote(new[j][1]) for j in targets], label


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_no_label_names_a_paragraph_an_unchanged_one_keeps(name):
    """A new paragraph has one source: an unchanged old paragraph's discussion stays with
    it, so no other old paragraph's label may name it."""
    kept = {
        expectation.targets[0]
        for expectation in expectations(name).values()
        if not expectation.labelled
    }
    for label in labels(name):
        targets = label["new"] if isinstance(label["new"], list) else [label["new"]]
        assert not kept.intersection(targets), label


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_every_old_paragraph_is_labelled_or_unchanged(name):
    old, _new = versions(name)
    assert sorted(expectations(name)) == list(range(len(old)))
    assert len({label["old"] for label in labels(name)}) == len(labels(name))
    assert (CORPUS / name / "source.json").exists()


def cases():
    for name in sorted(MEASURED):
        for i in sorted(expectations(name)):
            reason = KNOWN_WRONG.get((name, i))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(name, i, id=f"{name}:{i}", marks=marks)


@pytest.mark.parametrize(("name", "i"), list(cases()))
def test_no_discussion_is_attached_to_the_wrong_text(name, i):
    """And an unchanged paragraph keeps its discussion, always."""
    expectation = expectations(name)[i]
    got = placed_by_matcher(name).get(i)
    if expectation.labelled:
        assert expectation.judge(got) != "wrong", (expectation, got)
    else:
        assert got == expectation.targets[0], (expectation, got)


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_correct_placements_do_not_regress(name):
    outcome = evaluate(name)
    assert outcome.kept == outcome.unchanged
    correct, falsely_orphaned = MEASURED[name]
    known_wrong = sum(pair == name for pair, _i in KNOWN_WRONG)
    assert outcome.counts["wrong"] <= known_wrong
    assert outcome.counts["correct"] >= correct
    # A known wrong case put right by orphaning it may add one falsely orphaned.
    assert outcome.counts["falsely orphaned"] <= falsely_orphaned + known_wrong
