"""The revision matcher (essays/reanchoring.py) against real revisions labelled by hand.

Run: .venv/bin/python bench/revision_corpus.py [--cases]

Each pair in tests/data/revision-corpus/ is two consecutive versions of a chapter and the
labels a person wrote, before running the matcher, saying where the discussion of each old
paragraph that changed or disappeared belongs: a new paragraph (or any of a few, when one
was split), or nowhere ("orphan": its content is gone). An old paragraph whose kind and text
occur once in each version is unchanged: its discussion must stay with it, no label needed.

An unchanged paragraph is kept or not; a labelled one's discussion, as the plan places it, is:
- correct: with the labelled paragraph; or orphaned where the label says orphan, or where
  it says "or_orphan" (a rewrite that may honestly lose its discussion);
- wrong: with another paragraph, or attached where the label says orphan. A comment shown
  beside text it was not written about changes its meaning: this must stay zero;
- falsely orphaned: orphaned although the label names where it belongs.

tests/essays/test_revision_corpus.py asserts these figures; --cases lists the paragraphs
that are not correct, with both texts.
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "tests" / "data" / "revision-corpus"
ORPHAN = "orphan"


@dataclass(frozen=True)
class Expectation:
    """Where the discussion of one old paragraph belongs."""

    old: int
    targets: tuple[int, ...]  # any of these new paragraphs; empty: orphaned
    may_orphan: bool  # orphaning is right too
    labelled: bool  # by hand (False: unchanged, found automatically)

    def judge(self, got: int | None) -> str:
        if got is None:
            return "correct" if self.may_orphan or not self.targets else "falsely orphaned"
        return "correct" if got in self.targets else "wrong"


@dataclass
class Outcome:
    pair: str
    unchanged: int = 0
    kept: int = 0  # unchanged paragraphs that keep their discussion
    labelled: int = 0
    # Of the labelled paragraphs:
    counts: dict[str, int] = field(
        default_factory=lambda: {"correct": 0, "wrong": 0, "falsely orphaned": 0}
    )
    # (expectation, where the plan put it) for each paragraph, unchanged or labelled, that
    # is not where it belongs
    misses: list[tuple[Expectation, int | None]] = field(default_factory=list)


def pair_names() -> list[str]:
    return sorted(path.name for path in CORPUS.iterdir() if (path / "labels.json").exists())


@cache
def versions(name: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The (kind, text) of each block of the old and the new version, as the site imports
    them."""
    from essays.rendering import render_blocks

    def blocks(path: Path) -> list[tuple[str, str]]:
        return [(b.kind, b.text) for b in render_blocks(path.read_text(encoding="utf-8"))]

    folder = CORPUS / name
    return blocks(folder / "old.md"), blocks(folder / "new.md")


def labels(name: str) -> list[dict]:
    return json.loads((CORPUS / name / "labels.json").read_text(encoding="utf-8"))["labels"]


@cache
def expectations(name: str) -> dict[int, Expectation]:
    """Old index -> expectation: the hand labels, and the unchanged paragraphs."""
    old, new = versions(name)
    expected = {
        i: Expectation(i, (new.index(block),), may_orphan=False, labelled=False)
        for i, block in enumerate(old)
        if old.count(block) == 1 and new.count(block) == 1
    }
    for label in labels(name):
        target = label["new"]
        targets = (
            () if target == ORPHAN else tuple(target if isinstance(target, list) else [target])
        )
        expected[label["old"]] = Expectation(
            label["old"], targets, may_orphan=label.get("or_orphan", False), labelled=True
        )
    return expected


@cache
def destinations(name: str) -> dict[int, int]:
    """Old index -> the new paragraph the plan continues it into (absent: orphaned)."""
    from essays.reanchoring import New, Old, plan_revision

    old, new = versions(name)
    plan = plan_revision(
        [Old(f"k{i}", kind, text) for i, (kind, text) in enumerate(old)],
        [New(kind, text) for kind, text in new],
    )
    return {i: j for j, i in enumerate(plan.sources) if i is not None}


def evaluate(name: str) -> Outcome:
    outcome = Outcome(name)
    placed = destinations(name)
    for expectation in expectations(name).values():
        got = placed.get(expectation.old)
        verdict = expectation.judge(got)
        if expectation.labelled:
            outcome.labelled += 1
            outcome.counts[verdict] += 1
        else:
            outcome.unchanged += 1
            outcome.kept += verdict == "correct"
        if verdict != "correct":
            outcome.misses.append((expectation, got))
    return outcome


def excerpt(text: str, length: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[:length] + "…"


def table_row(values) -> str:
    widths = (36, 9, 5, 8, 7, 5, 16)
    cells = [f"{values[0]:<{widths[0]}}"]
    cells += [f"{value:>{width}}" for value, width in zip(values[1:], widths[1:], strict=True)]
    return "  ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", action="store_true", help="list what is not correct")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")  # the matcher reads its thresholds here
    import django

    django.setup()

    outcomes = [evaluate(name) for name in pair_names()]
    total = Outcome("all")
    for outcome in outcomes:
        total.unchanged += outcome.unchanged
        total.kept += outcome.kept
        total.labelled += outcome.labelled
        for verdict, count in outcome.counts.items():
            total.counts[verdict] += count
    print(table_row(("pair", "unchanged", "kept", "labelled", *total.counts)))
    for outcome in [*outcomes, total]:
        figures = (outcome.unchanged, outcome.kept, outcome.labelled, *outcome.counts.values())
        print(table_row((outcome.pair, *figures)))
    print("\nkept: of the unchanged paragraphs; correct, wrong, falsely orphaned: of the labelled")
    if args.cases:
        for outcome in outcomes:
            old, new = versions(outcome.pair)
            for expectation, got in outcome.misses:
                verdict = expectation.judge(got)
                expected = list(expectation.targets) or ORPHAN
                where = f"{outcome.pair} old {expectation.old}"
                print(f"\n{where}: {verdict}, expected {expected}, got {got}")
                print(f"  old: {excerpt(old[expectation.old][1])}")
                for j in expectation.targets:
                    print(f"  expected new {j}: {excerpt(new[j][1])}")
                if got is not None:
                    print(f"  got new {got}: {excerpt(new[got][1])}")


if __name__ == "__main__":
    main()
