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
7. Copies in place: a text the essay repeats ("</Listing>", "Consider:") has copies told
   apart by their place alone, so steps 1 and 2 pair them tentatively, and now that the
   paragraphs around them are matched each copy is checked against its neighbours (the
   nearest matched paragraphs, before and after, whose texts are not repeated). Its
   successor must be a copy between theirs; where theirs crossed (one of them moved), each
   neighbour points at the place beside it, and the copy goes there only if one of them
   points at a copy. Otherwise it is orphaned: a "</Listing>" belongs with the listing it
   closes, and handing it to the copy that closes another listing, however near, attaches
   its discussion to the wrong text.

8. Merges and splits, for what is still left: text does not only move, it joins and parts.
   A new paragraph still unmatched whose words mostly come, in runs of RUN words or more, from
   an old paragraph at about its place (its gap's neighbours, or within NEAR in the gap) is
   part of that old paragraph, split off; an old paragraph still unmatched whose words mostly
   went, in such runs, into a new one at about its place was merged into it. Runs, not
   words: unrelated paragraphs share words, even in order, but not most of them three in a
   row. Only text not already explained counts (what the paragraph's own successor took, or
   another merged paragraph), so a copy or a quotation is not a merge. A split paragraph's
   key goes to the part that took most of its text; a paragraph merged into another
   retires (one key per paragraph), and its discussion follows (Plan.merged). Prose may
   change kind here (PROSE_KINDS: paragraphs becoming a list), keys never do: paragraphs
   made into a list retire, their discussion follows to the list.

Words are compared ignoring case and punctuation ("Ownership" and "What is Ownership?" share
a word), except in a short text (fewer than CLEAR_MIN_WORDS terms: what spaces separate),
in any step: a line of markup, a path or a label is what it names, so where one of its names
was replaced by another it is unlike anything else. An include line naming listing-19-03
where the old one named listing-19-01 is another line, not an edit, though all their words
but one agree (names_differ).

A matched paragraph "moved" when its order relative to the other matched paragraphs
changed: the matched old positions, read in new order, are split into a longest increasing
subsequence (stayed in order) and the rest (moved). An insertion above shifts positions but
moves nothing.

The thresholds of steps 4 and 6 are settings: REANCHOR_MIN_TEXT_SIMILARITY,
REANCHOR_MIN_SCORE and the weights REANCHOR_WEIGHTS (text, context, position). Step 5 takes
REANCHOR_MIN_TEXT_SIMILARITY or MIN_KEPT_SHARE, step 3 the stricter CLEAR_SIMILARITY, step 8
MIN_CARRIED_SHARE.
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
# Step 8: the share of a paragraph's words that must have gone, in runs of RUN words or more,
# into another (merged) or come from another (split off). Unrelated paragraphs of one essay
# carry almost none: a run of three shared words is a phrase, not a function word.
MIN_CARRIED_SHARE = 0.6
RUN = 3
NEAR = 3  # unmatched paragraphs either side of its place in a gap that step 8 looks at
# Kinds whose text may join or part across kinds (paragraphs made into a list, a list
# written out as prose); headings and footnotes join only their own kind.
PROSE_KINDS = frozenset({"paragraph", "list", "blockquote"})
WORD = re.compile(r"\w+")
TERM = re.compile(r"\S+")
SENTENCE_PUNCTUATION = "\"'“”‘’«»()[],.;:!?"


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
    """What a revision does to each paragraph. Every old paragraph (by index) is exactly one
    of: continued by a new block (its key goes on: `sources`), merged into a new block (its
    key retires, its discussion follows: `merged`), or retired with no successor (its
    discussion is orphaned: `retired`). A paragraph continued or merged may also have been
    split (`split`): its passages are wherever their text went."""

    # For each new block (by index): the index of the old paragraph it continues, or None.
    sources: list[int | None] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)  # old indices with no successor at all
    changed: set[int] = field(default_factory=set)  # new indices whose text changed
    moved: set[int] = field(default_factory=set)  # new indices whose order changed
    scores: dict[int, float] = field(default_factory=dict)  # new index -> fuzzy score
    # New index -> the old indices (in order) whose text went into that block, besides the
    # one it continues: two paragraphs joined, paragraphs made into a list. Their keys
    # retire; their discussion follows to the block.
    merged: dict[int, list[int]] = field(default_factory=dict)
    # Old index -> the new indices (in order, two or more) that took its text: one paragraph
    # made into several. Its key and discussion go where most of its text went (the one
    # continuing it in `sources`, or that it is merged into); a comment on a passage goes to
    # the part that holds its passage.
    split: dict[int, list[int]] = field(default_factory=dict)

    @property
    def added(self) -> list[int]:
        """New blocks that continue no old paragraph (a merge of other kinds is among them)."""
        return [j for j, source in enumerate(self.sources) if source is None]

    @property
    def merged_into(self) -> dict[int, int]:
        """Old index -> the new block it was merged into."""
        return {i: j for j, olds in self.merged.items() for i in olds}

    @property
    def ending(self) -> list[int]:
        """Old indices whose paragraphs leave the essay: retired or merged into another."""
        return sorted([*self.retired, *self.merged_into])


def words(text: str) -> list[str]:
    """The words of a text, in order, without case or punctuation."""
    return WORD.findall(text.casefold())


def terms(text: str, limit: int | None = None) -> list[str]:
    """The text's terms: what spaces separate, without the punctuation of a sentence around
    them ("Listing", "19-3", "../listings/listing-19-03/src/main.rs}}"); no more than
    `limit` of them."""
    found = []
    for term in TERM.finditer(text):
        if len(found) == limit:
            break
        if stripped := term.group().strip(SENTENCE_PUNCTUATION):
            found.append(stripped)
    return found


def is_name(term: str) -> bool:
    """Whether a term names a thing rather than says something: a number, a path, an
    identifier (anything besides letters, hyphens and apostrophes)."""
    return any(not (c.isalpha() or c in "-'’") for c in term)


def names_differ(a: list[str], b: list[str]) -> bool:
    """Whether two texts, given as their terms, are short and name different things: a line
    of markup, a path or a label of fewer than CLEAR_MIN_WORDS terms is what it names, so
    where a name in it was replaced by another (an include line naming listing-19-03 rather
    than listing-19-01, an opening tag of Listing 17-5 rather than 17-4) it is another line,
    however alike their words. A short text that gained or lost a term (a heading, a tag
    wrapped around the same line) is still itself, and a longer one renumbered ("The code in
    Listing 19-3 will print") is still the same sentence about a renumbered thing."""
    if min(len(a), len(b)) >= CLEAR_MIN_WORDS:
        return False
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return any(
        tag == "replace" and any(map(is_name, a[a0:a1])) and any(map(is_name, b[b0:b1]))
        for tag, a0, a1, b0, b1 in opcodes
    )


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
    matching.pair_copies_in_place()
    split = matching.pair_splits()
    merged = matching.pair_merges()

    sources = matching.sources
    changed = {j for j, i in enumerate(sources) if i is not None and old[i].text != new[j].text}
    followed = {i for olds in merged.values() for i in olds}
    return Plan(
        sources=sources,
        retired=[i for i, j in enumerate(matching.targets) if j is None and i not in followed],
        changed=changed,
        moved=_moved(sources),
        scores={j: round(matching.score(sources[j], j), 3) for j in sorted(changed)},
        merged=merged,
        split=split,
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
        self._carried: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        self._old_counts = Counter((p.kind, p.text) for p in old)
        self._new_counts = Counter((b.kind, b.text) for b in new)
        # Old index -> the new block its discussion follows although its key retires: a
        # paragraph split into parts of which the largest is of another kind (step 8).
        self.followers: dict[int, int] = {}
        self.min_text = settings.REANCHOR_MIN_TEXT_SIMILARITY
        self.min_score = settings.REANCHOR_MIN_SCORE
        self.weights = settings.REANCHOR_WEIGHTS

    def pair(self, i: int, j: int) -> None:
        self.sources[j] = i
        self.targets[i] = j

    def pair_exact_moves(self) -> None:
        """Step 2: unmatched paragraphs whose kind and text reappear, nearest copy first. A
        text the essay repeats ("Consider:") moves no further than WINDOW: its copies are
        told apart by place alone, and a far one is another copy, not this one (step 7
        checks the place of every copy once the paragraphs around them are matched)."""
        unmatched: dict[tuple[str, str], list[int]] = {}
        for i, paragraph in enumerate(self.old):
            if self.targets[i] is None:
                unmatched.setdefault((paragraph.kind, paragraph.text), []).append(i)
        if not unmatched:
            return
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
            if abs(i - expected) > WINDOW and self.repeated(text):
                continue
            copies.remove(i)
            self.pair(i, j)

    def repeated(self, text: tuple[str, str]) -> bool:
        """Whether a (kind, text) occurs more than once in either version."""
        return max(self._old_counts[text], self._new_counts[text]) > 1

    def pair_copies_in_place(self) -> None:
        """Step 7: each copy of a repeated text ("</Listing>", "Consider:") goes where its
        neighbours say, or nowhere.

        Its neighbours are the nearest matched paragraphs before and after it whose texts
        are not repeated. Where their successors kept their order, the copy's successor is a
        copy between them (step 1 or 2 found it, or it is the one free copy there: as many
        old copies as new ones in the gap pair in order). Where they crossed (one moved),
        each says where the copy would be, beside it at the same distance; the copy goes
        there if only one of them points at a copy, and is orphaned if they point at two:
        a "</Listing>" belongs with the listing it closes, and which of two moved apart it
        closed is a guess. Another listing's copy, however near, is another paragraph. A copy
        that steps 3 to 6 paired with an edited text ("Consider:" that gained a word) was
        paired by its place already, and stays."""
        anchors = sorted(
            (i, j)
            for j, i in enumerate(self.sources)
            if i is not None
            and not self.repeated(self.old_text(i))
            and not self.repeated(self.new_text(j))
        )
        anchor_olds = [i for i, _j in anchors]
        new_copies: dict[tuple[str, str], list[int]] = {}  # text -> its new indices, in order
        for j in range(len(self.new)):
            if self.repeated(self.new_text(j)):
                new_copies.setdefault(self.new_text(j), []).append(j)

        def places(i: int) -> tuple[tuple[int, int], list[int]]:
            """The gap between the successors of old copy i's neighbours, and the new copies
            of its text that may continue it."""
            p = bisect_left(anchor_olds, i)
            i0, j0 = anchors[p - 1] if p else (-1, -1)
            i1, j1 = anchors[p] if p < len(anchors) else (len(self.old), len(self.new))
            text = self.old_text(i)
            same = new_copies.get(text, [])
            if j0 < j1:
                return (j0, j1), same[bisect_right(same, j0) : bisect_left(same, j1)]
            pointed = sorted({j0 + (i - i0), j1 - (i1 - i)})
            found = [j for j in pointed if 0 <= j < len(self.new) and self.new_text(j) == text]
            return (j0, j1), found if len(found) == 1 else []

        copies = [i for i in range(len(self.old)) if self.repeated(self.old_text(i))]
        for i in copies:
            j = self.targets[i]
            if j is not None and self.new_text(j) == self.old_text(i) and j not in places(i)[1]:
                self.sources[j], self.targets[i] = None, None
        free: dict[tuple[tuple[int, int], tuple[int, ...]], list[int]] = {}
        for i in copies:
            if self.targets[i] is None:
                gap, found = places(i)
                free.setdefault((gap, tuple(found)), []).append(i)
        for (_gap, found), olds in free.items():
            news = [j for j in found if self.sources[j] is None]
            if len(news) == len(olds):
                for i, j in zip(olds, news, strict=True):
                    self.pair(i, j)

    def old_text(self, i: int) -> tuple[str, str]:
        return (self.old[i].kind, self.old[i].text)

    def new_text(self, j: int) -> tuple[str, str]:
        return (self.new[j].kind, self.new[j].text)

    def gaps(self) -> list[tuple[list[int], list[int], bool]]:
        """The unmatched old and new indices between consecutive pairs of the run that kept
        its order, where both sides have some; and whether the gap is tight (one paragraph on
        each side, directly between the two pairs)."""
        return [
            (olds, news, i1 - i0 == 2 and j1 - j0 == 2)
            for (i0, j0), (i1, j1), olds, news in self.stretches()
            if olds and news
        ]

    def stretches(self) -> list[tuple[tuple[int, int], tuple[int, int], list[int], list[int]]]:
        """Each two consecutive pairs of the run that kept its order (the ends of the essays
        count as (-1, -1) and (len(old), len(new))), with the unmatched old and new indices
        between them, either side possibly empty."""
        matched = [(i, j) for j, i in enumerate(self.sources) if i is not None]
        run = [matched[p] for p in _increasing_run([i for i, _j in matched])]
        bounds = [(-1, -1), *run, (len(self.old), len(self.new))]
        found = []
        for (i0, j0), (i1, j1) in pairwise(bounds):
            olds = [i for i in range(i0 + 1, i1) if self.targets[i] is None]
            news = [j for j in range(j0 + 1, j1) if self.sources[j] is None]
            found.append(((i0, j0), (i1, j1), olds, news))
        return found

    def pair_splits(self) -> dict[int, list[int]]:
        """Step 8, splits: each new block still unmatched whose words mostly come, in runs,
        from an old paragraph at about its place is a part of it. The old paragraph's key
        goes to the part that took most of its text (when of its kind; else it retires and
        its discussion follows that part: self.followers). Returns old index -> its parts,
        for paragraphs whose text went to two blocks or more."""
        parts: dict[int, list[int]] = {}
        for (i0, _j0), (i1, _j1), olds, news in self.stretches():
            for place, j in enumerate(news):
                if len(self.new_words(j)) < CLEAR_MIN_WORDS:
                    continue
                middle = place * len(olds) // len(news)
                near = olds[max(0, middle - NEAR) : middle + NEAR + 1]
                best, best_share = None, MIN_CARRIED_SHARE
                for i in [i for i in (i0, i1) if 0 <= i < len(self.old)] + near:
                    target = self.targets[i]
                    if target is not None and self.old[i].text == self.new[target].text:
                        continue  # nothing of its text went elsewhere
                    share = self.carried_share(i, j, of_old=False)
                    if share >= best_share:
                        best, best_share = i, share
                if best is not None:
                    parts.setdefault(best, []).append(j)
        split = {}
        for i, candidates in sorted(parts.items()):
            took = self._took_from(i, candidates)
            if not took:
                continue
            largest = max(took, key=lambda j: (took[j], -j))
            target = self.targets[i]
            if largest != target:
                if target is not None:
                    self.sources[target], self.targets[i] = None, None
                if self.new[largest].kind == self.old[i].kind:
                    self.pair(i, largest)
                else:
                    self.followers[i] = largest
            if len(took) > 1:
                split[i] = sorted(took)
        return split

    def _took_from(self, i: int, candidates: list[int]) -> dict[int, int]:
        """New index -> how many words of old paragraph i it took, in runs: its successor
        first, then each candidate part, counting only words no block before it took. A
        candidate with too few such words (a copy of what the successor holds) is left out."""
        a = self.old_words(i)
        covered = bytearray(len(a))
        took = {}
        target = self.targets[i]
        if target is not None:
            spans = [(x, size) for x, _y, size in self.carried(i, target)]
            took[target] = _fresh(covered, spans)
            _cover(covered, spans)
        for j in candidates:
            spans = [(x, size) for x, _y, size in self.carried(i, j)]
            fresh = _fresh(covered, spans)
            if fresh >= MIN_CARRIED_SHARE * len(self.new_words(j)):
                took[j] = fresh
                _cover(covered, spans)
        return took if len(took) > (target is not None) else {}

    def pair_merges(self) -> dict[int, list[int]]:
        """Step 8, merges: each old paragraph still unmatched whose words mostly went, in
        runs, into a new block at about its place was merged into it, unless that text is
        explained already (the block's own predecessor, or another merged paragraph, holds
        it). An unmatched block takes the key of the merged paragraph of its kind that gave
        it most; the others retire, their discussion following. Returns new index -> the old
        indices merged into it, with those that a split left to follow a part of another
        kind."""
        candidates: dict[int, list[int]] = {}
        for (_i0, j0), (_i1, j1), olds, news in self.stretches():
            for place, i in enumerate(olds):
                if i in self.followers or len(self.old_words(i)) < CLEAR_MIN_WORDS:
                    continue
                middle = place * len(news) // len(olds)
                near = news[max(0, middle - NEAR) : middle + NEAR + 1]
                best, best_share = None, MIN_CARRIED_SHARE
                for j in [j for j in (j0, j1) if 0 <= j < len(self.new)] + near:
                    source = self.sources[j]
                    if source is not None and self.old[source].text == self.new[j].text:
                        continue  # nothing joined it
                    share = self.carried_share(i, j, of_old=True)
                    if share >= best_share:
                        best, best_share = j, share
                if best is not None:
                    candidates.setdefault(best, []).append(i)
        merged: dict[int, list[int]] = {}
        for j, olds in sorted(candidates.items()):
            gave = self._gave_to(j, olds)
            if self.sources[j] is None:
                same_kind = [i for i in gave if self.old[i].kind == self.new[j].kind]
                if same_kind:
                    key_holder = max(same_kind, key=lambda i: (gave[i], -i))
                    self.pair(key_holder, j)
                    del gave[key_holder]
            if gave:
                merged[j] = sorted(gave)
        for i, j in self.followers.items():
            merged[j] = sorted([*merged.get(j, []), i])
        return merged

    def _gave_to(self, j: int, olds: list[int]) -> dict[int, int]:
        """Old index -> how many of its words new block j took, in runs, for the old
        paragraphs that gave most of their words to it: counting only words of j that its
        predecessor, or an old paragraph before, did not give it."""
        covered = bytearray(len(self.new_words(j)))
        source = self.sources[j]
        if source is not None:
            _cover(covered, [(y, size) for _x, y, size in self.carried(source, j)])
        gave = {}
        for i in olds:
            spans = [(y, size) for _x, y, size in self.carried(i, j)]
            fresh = _fresh(covered, spans)
            if fresh >= MIN_CARRIED_SHARE * len(self.old_words(i)):
                gave[i] = fresh
                _cover(covered, spans)
        return gave

    def carried_share(self, i: int, j: int, *, of_old: bool) -> float:
        """The share of old paragraph i's words (of_old) or of new block j's words that the
        two have in common in runs of RUN words or more, in order; 0 for kinds that do not
        join. Cheap bounds (shared words in any order) rule most pairs out."""
        old_kind, new_kind = self.old[i].kind, self.new[j].kind
        if old_kind != new_kind and not {old_kind, new_kind} <= PROSE_KINDS:
            return 0.0
        a, b = self.old_words(i), self.new_words(j)
        if not a or not b:
            return 0.0
        whole = len(a) if of_old else len(b)
        a_bag, b_bag = self.old_bag(i), self.new_bag(j)
        shared = sum(min(a_bag[word], b_bag[word]) for word in a_bag.keys() & b_bag.keys())
        if shared < MIN_CARRIED_SHARE * whole or self.named_apart(i, j):
            return 0.0
        return sum(size for _x, _y, size in self.carried(i, j)) / whole

    def carried(self, i: int, j: int) -> list[tuple[int, int, int]]:
        """The runs of RUN words or more that old paragraph i and new block j have in common,
        in order: (start in i's words, start in j's words, length)."""
        known = self._carried.get((i, j))
        if known is None:
            blocks = SequenceMatcher(
                None, self.old_words(i), self.new_words(j), autojunk=False
            ).get_matching_blocks()
            known = self._carried[(i, j)] = [tuple(b) for b in blocks if b.size >= RUN]
        return known

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
        if self.named_apart(i, j):
            self._similarities[(i, j)] = 0.0
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
        if not a or not b or self.named_apart(i, j):
            return 0.0
        blocks = SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
        return sum(block.size for block in blocks) / min(len(a), len(b))

    def named_apart(self, i: int, j: int) -> bool:
        """Whether old paragraph i and new block j are short and name different things."""
        old_text, new_text = self.old[i].text, self.new[j].text
        first_old, first_new = terms(old_text, CLEAR_MIN_WORDS), terms(new_text, CLEAR_MIN_WORDS)
        if min(len(first_old), len(first_new)) >= CLEAR_MIN_WORDS:
            return False  # neither is short: most pairs end here, after a few terms
        return names_differ(terms(old_text), terms(new_text))

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


def _fresh(covered: bytearray, spans: list[tuple[int, int]]) -> int:
    """How many positions of the spans (start, length) are not covered yet."""
    return sum(size - sum(covered[start : start + size]) for start, size in spans)


def _cover(covered: bytearray, spans: list[tuple[int, int]]) -> None:
    for start, size in spans:
        covered[start : start + size] = b"\x01" * size


def _moved(sources: list[int | None]) -> set[int]:
    """New indices of matched blocks outside a longest run that kept its order."""
    matched = [j for j, i in enumerate(sources) if i is not None]
    in_order = set(_increasing_run([sources[j] for j in matched]))
    return {j for position, j in enumerate(matched) if position not in in_order}
