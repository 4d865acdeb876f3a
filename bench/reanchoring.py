"""Time the revision matcher (essays/reanchoring.py) on generated books, and check its answers.

Run: .venv/bin/python bench/reanchoring.py [--quick]
Not part of the test suite: timings depend on the machine.

A book is made from a generator seeded with a fixed number, so every run plans the same
revisions. Its paragraphs are prose of 20 to 150 words drawn from a Zipf-like vocabulary (a
few words very common, as in English), with short headings and a repeated "Consider:" before
each code example. A revision edits paragraphs as writers do: a few words changed, a sentence
added or cut; and a few paragraphs are inserted, deleted, or moved far away.

For each case it prints the median time of a few plans (and of CPU time, which a busy machine
inflates less) and how the plan compares with what the generator knows: paragraphs continued
by the right old one, orphaned although they had a predecessor, and attached to the wrong one
(another copy of a repeated paragraph counts as wrong): the error that matters most. The
generator joins and parts no paragraphs, so every merge or split found is wrong too.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")  # the matcher reads its thresholds from settings

import django  # noqa: E402

django.setup()

from essays.reanchoring import New, Old, plan_revision  # noqa: E402

SYLLABLES = [c + v for c in "bcdfghklmnprstvwz" for v in "aeiou"] + ["th", "st", "qu"]


def vocabulary(rng: random.Random, size: int = 4000) -> tuple[list[str], list[float]]:
    words = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(1, 4))) for _ in range(size)})
    rng.shuffle(words)
    return words, [1 / (rank + 1) for rank in range(len(words))]


class Writer:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.words, self.weights = vocabulary(self.rng)

    def sentence(self) -> str:
        words = self.rng.choices(self.words, self.weights, k=self.rng.randint(6, 24))
        return " ".join(words).capitalize() + self.rng.choice([".", ".", ".", "?", ";"])

    def prose(self) -> str:
        text = ""
        while len(text.split()) < self.rng.randint(20, 150):
            text += (" " if text else "") + self.sentence()
        return text

    def block(self) -> list[tuple[str, str]]:
        roll = self.rng.random()
        if roll < 0.08:
            return [("heading", " ".join(self.rng.choices(self.words, k=self.rng.randint(1, 5))))]
        if roll < 0.13:
            code = "\n".join(self.sentence().lower() for _ in range(3))
            return [("paragraph", "Consider:"), ("paragraph", code)]
        return [("paragraph", self.prose())]

    def edit(self, text: str) -> str:
        words = text.split(" ")
        roll = self.rng.random()
        if len(words) < 8:  # a heading or a lead-in gains a few words
            for _ in range(self.rng.randint(1, 3)):
                words.insert(self.rng.randrange(len(words) + 1), self.rng.choice(self.words))
        elif roll < 0.6:
            for _ in range(self.rng.randint(1, 3)):
                words[self.rng.randrange(len(words))] = self.rng.choice(self.words)
        elif roll < 0.8:
            words.insert(self.rng.randrange(len(words)), self.sentence())
        else:
            cut = self.rng.randrange(len(words) - 6)
            del words[cut : cut + self.rng.randint(3, 6)]
        return " ".join(words)


def book_and_revision(paragraphs: int, changed: float, seed: int = 7):
    """Old blocks, new blocks, and for each new block the old index it truly continues."""
    writer = Writer(seed)
    old: list[tuple[str, str]] = []
    while len(old) < paragraphs:
        old.extend(writer.block())
    old = old[:paragraphs]
    rng = writer.rng
    # (old index or None, kind, text) in new order
    new = [
        (i, kind, writer.edit(text) if rng.random() < changed else text)
        for i, (kind, text) in enumerate(old)
    ]
    structural = max(1, paragraphs // 100)
    for _ in range(structural):  # deletions
        del new[rng.randrange(len(new))]
    for _ in range(structural):  # insertions of new text
        new.insert(rng.randrange(len(new) + 1), (None, "paragraph", writer.prose()))
    for _ in range(max(1, structural // 5)):  # moves far away
        block = new.pop(rng.randrange(len(new)))
        new.insert(rng.randrange(len(new) + 1), block)
    olds = [Old(f"k{i}", kind, text) for i, (kind, text) in enumerate(old)]
    news = [New(kind, text) for _i, kind, text in new]
    truth = [i for i, _kind, _text in new]
    return olds, news, truth


def check(olds, news, truth, sources) -> tuple[int, int, int]:
    right = orphaned = wrong = 0
    for j, (expected, got) in enumerate(zip(truth, sources, strict=True)):
        if got == expected:
            right += 1
        elif got is None:
            orphaned += 1
        else:  # another paragraph, or another copy of a repeated one ("Consider:")
            wrong += 1
            if "--verbose" in sys.argv:
                print(f"  wrong: new {j} {news[j].text[:50]!r} <- old {got}, truly {expected}")
    return right, orphaned, wrong


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small books only")
    parser.add_argument("--verbose", action="store_true", help="list wrong attachments")
    arguments = parser.parse_args()
    cases = [(500, 0.25), (200, 1.0)] if arguments.quick else [(5000, 0.25), (1000, 1.0)]
    for paragraphs, changed in cases:
        olds, news, truth = book_and_revision(paragraphs, changed)
        times, cpu_times = [], []
        for _ in range(1 if arguments.quick else 3):
            start, cpu_start = time.perf_counter(), time.process_time()
            plan = plan_revision(olds, news)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
        right, orphaned, wrong = check(olds, news, truth, plan.sources)
        print(
            f"{paragraphs:>5} paragraphs, {changed:.0%} changed: "
            f"median {statistics.median(times):.2f} s "
            f"({statistics.median(cpu_times):.2f} s of CPU) over {len(times)}; "
            f"{right} continued rightly, {orphaned} orphaned, {wrong} attached wrongly "
            f"(of {len(news)} new blocks, {truth.count(None)} truly new); "
            f"{len(plan.merged_into)} merged and {len(plan.split)} split wrongly"
        )


if __name__ == "__main__":
    main()
