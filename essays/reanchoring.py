"""Matching an essay's paragraphs across a revision, so that keys (and everything attached
to them) follow their text.

Why this algorithm: the server knows both versions in full, so it can do better than
client-side anchoring (Hypothesis-style selectors re-found in the DOM), which loses about a
fifth of its targets. We match in two passes, as diff tools and W3C-annotation re-anchoring
do:

1. Exact: a paragraph whose kind and text reappear keeps its key (duplicates pair off in
   document order). This settles typo-free moves and insertions elsewhere at no risk.
2. Fuzzy, for what is left: every remaining (old, new) pair of the same kind is scored by
   text similarity (difflib's ratio over words, robust to small edits and reflowed
   sentences), by context (are the neighbours on both sides similar?) and by position
   (relative place in the essay). Pairs are taken greedily, best score first, and only
   above thresholds: a weak match is worse than none, because a comment shown beside the
   wrong text silently changes its meaning, while an orphan is shown honestly.

A matched paragraph "moved" when its order relative to the other matched paragraphs
changed: the matched old positions, read in new order, are split into a longest increasing
subsequence (stayed in order) and the rest (moved). An insertion above shifts positions but
moves nothing.

The thresholds are settings: REANCHOR_MIN_TEXT_SIMILARITY, REANCHOR_MIN_SCORE and the
weights REANCHOR_WEIGHTS (text, context, position).
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.conf import settings


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


def text_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def plan_revision(old: list[Old], new: list[New]) -> Plan:
    sources: list[int | None] = [None] * len(new)
    unmatched_old = set(range(len(old)))

    # 1. Exact text. Among duplicates, the one whose neighbours match best (then the nearest).
    by_text: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, paragraph in enumerate(old):
        by_text[(paragraph.kind, paragraph.text)].append(i)
    for j, block in enumerate(new):
        candidates = by_text.get((block.kind, block.text))
        if candidates:
            i = max(candidates, key=lambda i: (_context_similarity(old, new, i, j), -abs(i - j)))
            candidates.remove(i)
            sources[j] = i
            unmatched_old.discard(i)

    # 2. Fuzzy, best first, above the thresholds.
    min_text = settings.REANCHOR_MIN_TEXT_SIMILARITY
    min_score = settings.REANCHOR_MIN_SCORE
    w_text, w_context, w_position = settings.REANCHOR_WEIGHTS
    scored = []
    for j, block in enumerate(new):
        if sources[j] is not None:
            continue
        for i in unmatched_old:
            if old[i].kind != block.kind:
                continue
            similarity = text_similarity(old[i].text, block.text)
            if similarity < min_text:
                continue
            context = _context_similarity(old, new, i, j)
            position = 1 - abs(i / max(len(old), 1) - j / max(len(new), 1))
            score = w_text * similarity + w_context * context + w_position * position
            if score >= min_score:
                scored.append((score, -abs(i - j), i, j))
    scores = {}
    for score, _distance, i, j in sorted(scored, reverse=True):
        if sources[j] is None and i in unmatched_old:
            sources[j] = i
            unmatched_old.discard(i)
            scores[j] = round(score, 3)

    changed = {j for j, i in enumerate(sources) if i is not None and old[i].text != new[j].text}
    return Plan(
        sources=sources,
        retired=sorted(unmatched_old),
        changed=changed,
        moved=_moved(sources),
        scores=scores,
    )


def _context_similarity(old, new, i, j) -> float:
    """How alike the neighbours are: the previous and the next block on each side."""
    pairs = []
    if i > 0 and j > 0:
        pairs.append((old[i - 1].text, new[j - 1].text))
    if i + 1 < len(old) and j + 1 < len(new):
        pairs.append((old[i + 1].text, new[j + 1].text))
    if not pairs:
        return 0.0
    return sum(text_similarity(a, b) for a, b in pairs) / len(pairs)


def _moved(sources: list[int | None]) -> set[int]:
    """New indices of matched blocks outside a longest run that kept its order."""
    matched = [(j, i) for j, i in enumerate(sources) if i is not None]
    olds = [i for _j, i in matched]
    # Longest increasing subsequence (patience sorting), remembering its members.
    tails, tail_index, previous = [], [], [None] * len(olds)
    for position, value in enumerate(olds):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(position)
        else:
            tails[k] = value
            tail_index[k] = position
        previous[position] = tail_index[k - 1] if k else None
    in_order = set()
    position = tail_index[-1] if tail_index else None
    while position is not None:
        in_order.add(position)
        position = previous[position]
    return {matched[p][0] for p in range(len(matched)) if p not in in_order}
