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
# paragraphs of each pair. A regression lowers the first or raises the second.
MEASURED = {
    "book-ch04-01-ownership-2016": (78, 1),
    "book-ch09-02-errors-2016": (45, 6),
    "book-ch17-01-futures-rewrite-2024": (34, 17),
    "book-ch17-05-async-traits-2025": (51, 2),
    "book-ch19-01-pattern-places-2025": (19, 8),
    "nomicon-meet-safe-and-unsafe-2017": (16, 2),
    "nomicon-safe-unsafe-meaning-2017": (11, 3),
    "nomicon-subtyping-2022": (47, 2),
}

# (pair, old paragraph): what the matcher does today that the label says is wrong.
KNOWN_WRONG = {
    ("book-ch17-01-futures-rewrite-2024", 33): (
        "'</Listing>' closing Listing 17-3 goes to new 16, the copy closing Listing 17-1 "
        "(label: new 34, the copy closing Listing 17-3, or orphaned)"
    ),
    ("book-ch17-01-futures-rewrite-2024", 35): (
        "the include of listing-17-03/output.txt goes to new 23, the include of "
        "listing-17-02/src/main.rs (label: orphan, no new line names that file)"
    ),
    ("book-ch17-01-futures-rewrite-2024", 46): (
        "the opening tag of Listing 17-4 goes to new 55, that of Listing 17-5 "
        "(label: new 42, Listing 17-4's, or orphaned)"
    ),
    ("book-ch17-01-futures-rewrite-2024", 47): (
        "the include of listing-17-04/src/main.rs goes to new 15, the include of "
        "listing-17-01/src/main.rs (label: new 43, the line naming listing-17-04, or orphaned)"
    ),
    ("book-ch19-01-pattern-places-2025", 16): (
        "the include of listing-19-01/src/main.rs goes to new 35, the include of "
        "listing-19-03/src/main.rs (label: new 20, the line naming listing-19-01, or orphaned)"
    ),
    ("book-ch19-01-pattern-places-2025", 31): (
        "the include of listing-19-03/src/main.rs:here goes to new 20, the include of "
        "listing-19-01/src/main.rs:here (label: new 35, the line naming listing-19-03, or "
        "orphaned)"
    ),
    ("book-ch19-01-pattern-places-2025", 32): (
        "'</Listing>' closing the for loop's listing goes to new 21, the copy closing the let "
        "statement's (label: new 51)"
    ),
    ("book-ch19-01-pattern-places-2025", 34): (
        "the include of listing-19-03/output.txt goes to new 28, the include of "
        "listing-19-02/output.txt (label: orphan, no new line names that file)"
    ),
    ("book-ch19-01-pattern-places-2025", 46): (
        "'</Listing>' closing the let statement's listing (moved up) goes to new 26, the copy "
        "closing the tuple mismatch listing (label: new 21)"
    ),
    ("book-ch19-01-pattern-places-2025", 51): (
        "'</Listing>' closing the tuple mismatch listing (moved up) goes to new 51, the copy "
        "closing the for loop's (label: new 26)"
    ),
}


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
