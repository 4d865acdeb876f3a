"""Matching an essay's paragraphs across a revision, so that keys (and everything attached
to them) follow their text.

Why this algorithm: the server knows both versions in full, so it can do better than
client-side anchoring (Hypothesis-style selectors re-found in the DOM), which loses about a
fifth of its targets. A weak match is worse than none: a comment shown beside the wrong text
silently changes its meaning, while an orphan is shown honestly. And the work must grow with
the length of the essay, not with its square: comparing every changed paragraph with every
other took half a minute for a long book. So we do what diff tools do (patience diff),
then compare texts only where the alignment leaves room for them:

1. Align the unchanged text. Paragraphs whose kind and text occur once in each version are
   anchors, kept in the order of a longest increasing run; between two anchors the same is
   done again; where a stretch has no such paragraph, identical ones at its ends pair off,
   from the end first, because a short repeated paragraph ("Consider:", a heading)
   introduces what follows it. So duplicates are resolved by their place in the aligned
   run: when a revision inserts one more "Consider:", each old one stays with its example.
2. Exact moves: a paragraph still unmatched whose kind and text reappear elsewhere (a
   dictionary look-up, however far) keeps its key; among copies, the one nearest to where
   the aligned run puts it, and no further than WINDOW: one "Consider:" deleted here and
   another added far away are two paragraphs, not one moved.
3. Clear edits: in each gap the alignment leaves (old and new paragraphs between two pairs of
   the run that kept its order), walk both sides in step; the next pair of the same kind
   whose words are clearly alike (CLEAR_SIMILARITY, and both long enough to tell: a short
   "Consider:" recurs everywhere) is the same paragraph edited. Paragraphs ahead on either
   side are tried too (up to WINDOW), to step over an insertion or a deletion. This costs
   one comparison per edited paragraph, and a pair made here bounds the gaps of step 4.
4. Scored matches, for what is left: within each remaining gap, a new paragraph is compared
   with the old ones of the same kind at about its place in the gap (WINDOW either side), and
   scored by text similarity (difflib's ratio over words), context (are the neighbours the
   same paragraphs, or alike?) and position (relative place in the essay). Pairs are taken
   best first, only above the thresholds.
5. Same place: an old and a new paragraph that are each alone between the same two matched
   neighbours are one paragraph rewritten, unless their texts are clearly unrelated. A fixed
   similarity cut-off orphans a paragraph that grew from 27 to 140 words, or a heading
   "Guards" that became "Extra Conditionals with Match Guards", since similarity counts the
   words added; here it is enough that most of the shorter text's words are found, in the
   same order, in the longer (MIN_KEPT_SHARE). Unrelated paragraphs share function words,
   but not most of them in the same order.
6. Moved nearby: what is still unmatched is scored as in step 4 against the unmatched old
   paragraphs within WINDOW of its place, across gaps: an edited paragraph moved past its
   neighbours. One moved further is orphaned, honestly, rather than searched for everywhere
   (an exact move is found at any distance, in step 2).

Words are compared ignoring case and punctuation ("Ownership" and "What is Ownership?" share
a word). A matched paragraph "moved" when its order relative to the other matched paragraphs
changed: the matched old positions, read in new order, are split into a longest increasing
subsequence (stayed in order) and the rest (moved). An insertion above shifts positions but
moves nothing.

The thresholds of steps 4 and 6 are settings: REANCHOR_MIN_TEXT_SIMILARITY,
REANCHOR_MIN_SCORE and the weights REANCHOR_WEIGHTS (text, context, position). Step 5 takes
REANCHOR_MIN_TEXT_SIMILARITY or MIN_KEPT_SHARE, step 3 the stricter CLEAR_SIMILARITY.
"""

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import pairwise

from django.conf import settings

WINDOW = 20  # paragraphs either side of its place where an edited paragraph is looked for
CLEAR_SIMILARITY = 0.6  # words this alike, next in line: the same paragraph, edited
CLEAR_MIN_WORDS = 5  # texts shorter than this are never clearly alike by their words alone
# The share of the shorter text's words, in order, that a rewrite in place keeps: a text that
# grew or was cut keeps 0.9 and more; distinct paragraphs on one subject keep up to 0.4 (0.5
# for a dozen words: function words recur in the same order everywhere).
MIN_KEPT_SHARE = 0.7
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Old:
    key: str
    kind: str
    text: str


@dataclass(frozen=True)
class New:
    kind: str
    text: str


@dataclass
class Plan:
    # For each new block (by index): the index of the old paragraph it continues, or None.
    sources: list[int | None] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)  # old indices with no successor
    changed: set[int] = field(default_factory=set)  # new indices whose text changed
    moved: set[int] = field(default_factory=set)  # new indices whose order changed
    scores: dict[int, float] = field(default_factory=dict)  # new index -> fuzzy score

    @property
    def added(self) -> list[int]:
        return [j for j, source in enumerate(self.sources) if source is None]


def words(text: str) -> list[str]:
    """The words of a text, in order, without case or punctuation."""
    return WORD.findall(text.casefold())


def text_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    a_words, b_words = words(a), words(b)
    if not a_words or not b_words:
        return 0.0
    return SequenceMatcher(None, a_words, b_words, autojunk=False).ratio()


def plan_revision(old: list[Old], new: list[New]) -> Plan:
    matching = _Matching(old, new)
    for i, j in _align_exact([(p.kind, p.text) for p in old], [(b.kind, b.text) for b in new]):
        matching.pair(i, j)
    matching.pair_exact_moves()
    for olds, news, _tight in matching.gaps():
        matching.walk(olds, news)
    for olds, news, _tight in matching.gaps():
        matching.pair_best_scored(olds, news)
    for olds, news, tight in matching.gaps():
        if tight and len(olds) == len(news) == 1:
            matching.pair_in_place(olds[0], news[0])
    matching.pair_moved_nearby()

    sources = matching.sources
    changed = {j for j, i in enumerate(sources) if i is not None and old[i].text != new[j].text}
    return Plan(
        sources=sources,
        retired=[i for i, j in enumerate(matching.targets) if j is None],
        changed=changed,
        moved=_moved(sources),
        scores={j: round(matching.score(sources[j], j), 3) for j in sorted(changed)},
    )


def _align_exact(a: list, b: list) -> list[tuple[int, int]]:
    """Pairs (i, j) with a[i] == b[j], in order, by patience diff (step 1 above).

    Unique items first, then, where a stretch between them has none, identical items at its
    ends: from the end first, so that a repeated item stays with what follows it."""
    pairs = []
    stretches = [(0, len(a), 0, len(b))]
    while stretches:
        a_low, a_high, b_low, b_high = stretches.pop()
        if a_low == a_high or b_low == b_high:
            continue
        once_in_a: dict = {}  # item -> its index, or None when it occurs more than once
        for i in range(a_low, a_high):
            once_in_a[a[i]] = None if a[i] in once_in_a else i
        once_in_b: dict = {}
        for j in range(b_low, b_high):
            once_in_b[b[j]] = None if b[j] in once_in_b else j
        common = [
            (once_in_a[item], j)
            for item, j in once_in_b.items()
            if j is not None and once_in_a.get(item) is not None
        ]
        common.sort(key=lambda pair: pair[1])
        anchors = [common[p] for p in _increasing_run([i for i, _j in common])]
        if anchors:
            previous_i, previous_j = a_low - 1, b_low - 1
            for i, j in anchors:
                stretches.append((previous_i + 1, i, previous_j + 1, j))
                pairs.append((i, j))
                previous_i, previous_j = i, j
            stretches.append((previous_i + 1, a_high, previous_j + 1, b_high))
            continue
        trimmed = len(pairs)
        while a_low < a_high and b_low < b_high and a[a_high - 1] == b[b_high - 1]:
            a_high, b_high = a_high - 1, b_high - 1
            pairs.append((a_high, b_high))
        while a_low < a_high and b_low < b_high and a[a_low] == b[b_low]:
            pairs.append((a_low, b_low))
            a_low, b_low = a_low + 1, b_low + 1
        if len(pairs) > trimmed:  # what is left may now hold items unique to it
            stretches.append((a_low, a_high, b_low, b_high))
    return pairs


class _Matching:
    """One plan in the making: the pairs made so far, and the words and similarities known."""

    def __init__(self, old: list[Old], new: list[New]):
        self.old, self.new = old, new
        self.sources: list[int | None] = [None] * len(new)
        self.targets: list[int | None] = [None] * len(old)
        self._old_words: dict[int, list[str]] = {}
        self._new_words: dict[int, list[str]] = {}
        self._old_bags: dict[int, Counter] = {}
        self._new_bags: dict[int, Counter] = {}
        self._similarities: dict[tuple[int, int], float] = {}
        self._upper_bounds: dict[tuple[int, int], float] = {}
        self.min_text = settings.REANCHOR_MIN_TEXT_SIMILARITY
        self.min_score = settings.REANCHOR_MIN_SCORE
        self.weights = settings.REANCHOR_WEIGHTS

    def pair(self, i: int, j: int) -> None:
        self.sources[j] = i
        self.targets[i] = j

    def pair_exact_moves(self) -> None:
        """Step 2: unmatched paragraphs whose kind and text reappear, nearest copy first. A
        text the essay repeats ("Consider:") moves no further than WINDOW: its copies are
        told apart by place alone, and a far one is another copy, not this one."""
        unmatched: dict[tuple[str, str], list[int]] = {}
        for i, paragraph in enumerate(self.old):
            if self.targets[i] is None:
                unmatched.setdefault((paragraph.kind, paragraph.text), []).append(i)
        if not unmatched:
            return
        old_counts = Counter((p.kind, p.text) for p in self.old)
        new_counts = Counter((b.kind, b.text) for b in self.new)
        last_i, last_j = -1, -1  # the last pair before j: it says where j would be in old
        for j, block in enumerate(self.new):
            if self.sources[j] is not None:
                last_i, last_j = self.sources[j], j
                continue
            text = (block.kind, block.text)
            copies = unmatched.get(text)
            if not copies:
                continue
            expected = last_i + (j - last_j)
            i = min(copies, key=lambda i: (abs(i - expected), i))
            if abs(i - expected) > WINDOW and max(old_counts[text], new_counts[text]) > 1:
                continue
            copies.remove(i)
            self.pair(i, j)

    def gaps(self) -> list[tuple[list[int], list[int], bool]]:
        """The unmatched old and new indices between consecutive pairs of the run that kept
        its order, where both sides have some; and whether the gap is tight (one paragraph on
        each side, directly between the two pairs)."""
        matched = [(i, j) for j, i in enumerate(self.sources) if i is not None]
        run = [matched[p] for p in _increasing_run([i for i, _j in matched])]
        bounds = [(-1, -1), *run, (len(self.old), len(self.new))]
        found = []
        for (i0, j0), (i1, j1) in pairwise(bounds):
            olds = [i for i in range(i0 + 1, i1) if self.targets[i] is None]
            news = [j for j in range(j0 + 1, j1) if self.sources[j] is None]
            if olds and news:
                found.append((olds, news, i1 - i0 == 2 and j1 - j0 == 2))
        return found

    def walk(self, olds: list[int], news: list[int]) -> None:
        """Step 3: pair clear edits in order, looking a little ahead on either side."""
        steps = [(0, 0)] + [step for d in range(1, WINDOW + 1) for step in ((d, 0), (0, d))]
        o = n = 0
        while o < len(olds) and n < len(news):
            for skip_old, skip_new in steps:
                if o + skip_old >= len(olds) or n + skip_new >= len(news):
                    continue
                i, j = olds[o + skip_old], news[n + skip_new]
                if self.clearly_same(i, j):
                    self.pair(i, j)
                    o, n = o + skip_old + 1, n + skip_new + 1
                    break
            else:  # neither is an edit of what is near: both rewritten, or unrelated
                o, n = o + 1, n + 1

    def clearly_same(self, i: int, j: int) -> bool:
        """Alike enough to pair without scoring. A short text ("Consider:", a heading) is
        not: it may recur anywhere, so only its place (steps 1, 4 and 5) can tell."""
        return (
            self.old[i].kind == self.new[j].kind
            and min(len(self.old_words(i)), len(self.new_words(j))) >= CLEAR_MIN_WORDS
            and self.similarity(i, j, CLEAR_SIMILARITY) >= CLEAR_SIMILARITY
        )

    def pair_best_scored(self, olds: list[int], news: list[int]) -> None:
        """Step 4: score the pairs near each other's place in the gap; take the best first."""
        scored = []
        for place, j in enumerate(news):
            middle = place * len(olds) // len(news)
            scored += self._scored(olds[max(0, middle - WINDOW) : middle + WINDOW + 1], j)
        self._pair_best_first(scored)

    def _scored(self, olds: list[int], j: int) -> list[tuple[float, int, int, int]]:
        """(score, -distance, i, j) for each old paragraph above the thresholds."""
        scored = []
        for i in olds:
            if self.old[i].kind != self.new[j].kind:
                continue
            if self.similarity(i, j, self.min_text) < self.min_text:
                continue
            score = self.score(i, j)
            if score >= self.min_score:
                scored.append((score, -abs(i - j), i, j))
        return scored

    def _pair_best_first(self, scored: list[tuple[float, int, int, int]]) -> None:
        for _score, _distance, i, j in sorted(scored, reverse=True):
            if self.sources[j] is None and self.targets[i] is None:
                self.pair(i, j)

    def pair_in_place(self, i: int, j: int) -> None:
        """Step 5: alone between the same neighbours, a paragraph continues unless unrelated."""
        if self.old[i].kind != self.new[j].kind:
            return
        if self.similarity(i, j) >= self.min_text or self.kept_share(i, j) >= MIN_KEPT_SHARE:
            self.pair(i, j)

    def pair_moved_nearby(self) -> None:
        """Step 6: what is left, scored against what is left near its place, across gaps."""
        unmatched = [i for i, j in enumerate(self.targets) if j is None]
        if not unmatched:
            return
        matched = [(i, j) for j, i in enumerate(self.sources) if i is not None]
        run = {matched[p] for p in _increasing_run([i for i, _j in matched])}
        scored = []
        last_i, last_j = -1, -1  # the last pair of the run before j: where j would be in old
        for j, i in enumerate(self.sources):
            if (i, j) in run:
                last_i, last_j = i, j
            if i is not None:
                continue
            expected = last_i + (j - last_j)
            low = bisect_left(unmatched, expected - WINDOW)
            high = bisect_right(unmatched, expected + WINDOW)
            scored += self._scored(unmatched[low:high], j)
        self._pair_best_first(scored)

    def score(self, i: int, j: int) -> float:
        w_text, w_context, w_position = self.weights
        position = 1 - abs(i / max(len(self.old), 1) - j / max(len(self.new), 1))
        return (
            w_text * self.similarity(i, j) + w_context * self.context(i, j) + w_position * position
        )

    def context(self, i: int, j: int) -> float:
        """How alike the neighbours on both sides are: 1 for the same paragraph (or both
        ends of the essay), else their text similarity."""
        sides = []
        for di in (-1, 1):
            i_next, j_next = i + di, j + di
            old_end = not 0 <= i_next < len(self.old)
            new_end = not 0 <= j_next < len(self.new)
            if old_end and new_end:
                sides.append(1.0)
            elif not old_end and not new_end:
                same = self.sources[j_next] == i_next
                sides.append(1.0 if same else self.similarity(i_next, j_next))
        return sum(sides) / len(sides) if sides else 0.0

    def similarity(self, i: int, j: int, floor: float = 0.0) -> float:
        """difflib's ratio over the words; any value below `floor` may stand for it, as
        cheap upper bounds (lengths, then words shared in any order) rule most pairs out."""
        known = self._similarities.get((i, j))
        if known is not None:
            return known
        if self.old[i].text == self.new[j].text:
            return 1.0
        a, b = self.old_words(i), self.new_words(j)
        if not a or not b:
            return 0.0
        if floor and (
            2 * min(len(a), len(b)) / (len(a) + len(b)) < floor or self.upper_bound(i, j) < floor
        ):
            return 0.0
        ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
        self._similarities[(i, j)] = ratio
        return ratio

    def upper_bound(self, i: int, j: int) -> float:
        """difflib's quick_ratio: the ratio if every shared word were in the same order."""
        bound = self._upper_bounds.get((i, j))
        if bound is None:
            a_bag, b_bag = self.old_bag(i), self.new_bag(j)
            shared = sum(min(a_bag[word], b_bag[word]) for word in a_bag.keys() & b_bag.keys())
            total = len(self.old_words(i)) + len(self.new_words(j))
            bound = self._upper_bounds[(i, j)] = 2 * shared / total
        return bound

    def kept_share(self, i: int, j: int) -> float:
        """The share of the shorter text's words that the longer has, in the same order."""
        a, b = self.old_words(i), self.new_words(j)
        if not a or not b:
            return 0.0
        blocks = SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
        return sum(block.size for block in blocks) / min(len(a), len(b))

    def old_words(self, i: int) -> list[str]:
        if i not in self._old_words:
            self._old_words[i] = words(self.old[i].text)
        return self._old_words[i]

    def new_words(self, j: int) -> list[str]:
        if j not in self._new_words:
            self._new_words[j] = words(self.new[j].text)
        return self._new_words[j]

    def old_bag(self, i: int) -> Counter:
        if i not in self._old_bags:
            self._old_bags[i] = Counter(self.old_words(i))
        return self._old_bags[i]

    def new_bag(self, j: int) -> Counter:
        if j not in self._new_bags:
            self._new_bags[j] = Counter(self.new_words(j))
        return self._new_bags[j]


def _increasing_run(values: list[int]) -> list[int]:
    """Positions of a longest strictly increasing subsequence of `values` (patience sorting)."""
    tails, tail_index, previous = [], [], [None] * len(values)
    for position, value in enumerate(values):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(position)
        else:
            tails[k] = value
            tail_index[k] = position
        previous[position] = tail_index[k - 1] if k else None
    run = []
    position = tail_index[-1] if tail_index else None
    while position is not None:
        run.append(position)
        position = previous[position]
    return run[::-1]


def _moved(sources: list[int | None]) -> set[int]:
    """New indices of matched blocks outside a longest run that kept its order."""
    matched = [j for j, i in enumerate(sources) if i is not None]
    in_order = set(_increasing_run([sources[j] for j in matched]))
    return {j for position, j in enumerate(matched) if position not in in_order}
