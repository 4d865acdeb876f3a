"""What a revision changes, as readers and editors are shown it: paragraph by paragraph,
with the words that changed marked.

The words are compared on the paragraphs' plain text (never their HTML: a marked passage
must not cut a tag in two), as difflib sees word tokens, and every piece of text is escaped
before it is marked: the text of an essay may hold "<script>" as words to read.
"""

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.db import models
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from .hooks import ThreadSummary, threads_on_paragraphs
from .models import EssayRevision, Paragraph, RevisionBlock
from .reanchoring import Plan
from .rendering import Block

# Words, runs of blanks, and each other character alone: "word." changing to "word," marks
# the comma, not the word.
TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass(frozen=True)
class MarkedWords:
    before: SafeString  # the old text, escaped, the words taken out in <del>
    after: SafeString  # the new text, escaped, the words put in in <ins>


def mark_words(before: str, after: str) -> MarkedWords:
    """Both texts, escaped, with the words that differ marked: <del> in the old one, <ins>
    in the new one. A change of blanks alone is not marked (nothing would show it), and
    the blanks between two changed words belong to one marked passage."""
    old, new = TOKEN.findall(before), TOKEN.findall(after)
    opcodes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    passages: list[tuple[bool, int, int, int, int]] = []  # (changed, i1, i2, j1, j2)
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        # difflib alternates: an equal run inside the list lies between two changes.
        changed = tag != "equal" or (
            0 < index < len(opcodes) - 1 and all(token.isspace() for token in old[i1:i2])
        )
        if changed and passages and passages[-1][0]:
            _changed, start_i, _end_i, start_j, _end_j = passages[-1]
            passages[-1] = (True, start_i, i2, start_j, j2)
        else:
            passages.append((changed, i1, i2, j1, j2))
    marked_before, marked_after = [], []
    for changed, i1, i2, j1, j2 in passages:
        old_text, new_text = "".join(old[i1:i2]), "".join(new[j1:j2])
        if changed:
            marked_before.append(_marked("del", old_text))
            marked_after.append(_marked("ins", new_text))
        else:
            marked_before.append(escape(old_text))
            marked_after.append(escape(new_text))
    # Safe: every piece of text is escaped above; only our own tags are added.
    return MarkedWords(
        before=mark_safe("".join(marked_before)),  # noqa: S308
        after=mark_safe("".join(marked_after)),  # noqa: S308
    )


def _marked(tag: str, text: str) -> str:
    """`text` escaped, in `tag`, its leading and trailing blanks left outside."""
    core = text.strip()
    if not core:
        return escape(text)
    start = text.index(core)
    lead, trail = text[:start], text[start + len(core) :]
    return f"{escape(lead)}<{tag}>{escape(core)}</{tag}>{escape(trail)}"


class Outcome(models.TextChoices):
    """What a revision does to a paragraph (and so to the threads on it)."""

    KEPT = "kept", _("Unchanged")
    CHANGED = "changed", _("Changed")
    MOVED = "moved", _("Moved")
    MOVED_AND_CHANGED = "moved-changed", _("Moved and changed")
    MERGED = "merged", _("Joined into one")
    SPLIT = "split", _("Split")
    ADDED = "added", _("Added")
    REMOVED = "removed", _("Removed")


class ThreadFate(models.TextChoices):
    """What becomes of the threads on a paragraph, by what happens to it."""

    STAY = "stay", _("Threads that stay with it")
    FOLLOW = "follow", _("Threads that follow it to its new text or place")
    ORPHAN = "orphan", _("Threads that become “on earlier versions”, shown with this text")


FATE_OF = {
    Outcome.KEPT: ThreadFate.STAY,
    Outcome.CHANGED: ThreadFate.FOLLOW,
    Outcome.MOVED: ThreadFate.FOLLOW,
    Outcome.MOVED_AND_CHANGED: ThreadFate.FOLLOW,
    Outcome.MERGED: ThreadFate.FOLLOW,
    Outcome.SPLIT: ThreadFate.FOLLOW,
    Outcome.REMOVED: ThreadFate.ORPHAN,
}

# Outcomes whose old and new texts are compared word by word.
COMPARED = (Outcome.CHANGED, Outcome.MOVED_AND_CHANGED, Outcome.MERGED, Outcome.SPLIT)


@dataclass
class ParagraphChange:
    """One paragraph's part in a revision: the text(s) it continues, the text it becomes.

    `before` is a list so that a paragraph continuing several (a merge) fits too; `parts`
    names, for a split, every new paragraph that took some of its text, in order."""

    outcome: Outcome
    # The old paragraphs (of a revision: its blocks), none when added; the new block, none
    # when removed.
    before: list[Paragraph | RevisionBlock] = field(default_factory=list)
    after: Block | RevisionBlock | None = None
    marked: MarkedWords | None = None  # when the text changed
    parts: list[Block | RevisionBlock] = field(default_factory=list)  # of a split
    threads: list[ThreadSummary] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """Its id on the changes page, `p-<key>` of the paragraph it is about (a thread
        marked "addressed" links there); empty in a preview, whose blocks have no key yet."""
        block = self.after if self.after is not None else self.before[0]
        paragraph = getattr(block, "paragraph", None)
        return f"p-{paragraph.key}" if paragraph is not None else ""

    @property
    def fate(self) -> ThreadFate | None:
        return FATE_OF.get(self.outcome)


def _change(outcome: Outcome, before: list, after, parts=()) -> ParagraphChange:
    """A paragraph's change; a split compares the old text with all its parts' text, in
    their order (`parts`: every part, the one continuing it, `after`, among them)."""
    compared = outcome in COMPARED
    new_text = "\n".join(block.text for block in (parts or [after]))
    marked = mark_words("\n".join(p.text for p in before), new_text) if compared else None
    return ParagraphChange(
        outcome=outcome, before=before, after=after, marked=marked, parts=list(parts)
    )


def _shown(block) -> bool:
    """A separator has no text to compare and no threads: a change to one is not listed."""
    return block.kind != Paragraph.Kind.SEPARATOR and bool(block.text)


class _Listed:
    """The changes of a revision (`changes`), by outcome and counted. A paragraph both moved
    and changed is counted (and listed) as changed."""

    changes: list[ParagraphChange]

    def _of(self, *outcomes: Outcome) -> list[ParagraphChange]:
        return [c for c in self.changes if c.outcome in outcomes]

    @property
    def added_entries(self) -> list[ParagraphChange]:
        return self._of(Outcome.ADDED)

    @property
    def changed_entries(self) -> list[ParagraphChange]:
        return self._of(Outcome.CHANGED, Outcome.MOVED_AND_CHANGED)

    @property
    def joined_entries(self) -> list[ParagraphChange]:
        """Paragraphs joined into one, and paragraphs split into several."""
        return self._of(Outcome.MERGED, Outcome.SPLIT)

    @property
    def moved_entries(self) -> list[ParagraphChange]:
        return self._of(Outcome.MOVED)

    @property
    def removed_entries(self) -> list[ParagraphChange]:
        return self._of(Outcome.REMOVED)

    @property
    def added(self) -> int:
        return len(self.added_entries)

    @property
    def changed(self) -> int:
        return len(self.changed_entries)

    @property
    def joined(self) -> int:
        return len(self.joined_entries)

    @property
    def moved(self) -> int:
        return len(self.moved_entries)

    @property
    def removed(self) -> int:
        return len(self.removed_entries)


@dataclass
class RevisionPreview(_Listed):
    """What publishing a planned revision would do, paragraph by paragraph."""

    changes: list[ParagraphChange]  # added, changed, moved and removed, in reading order
    kept: list[ParagraphChange]  # unchanged paragraphs that have threads
    thread_counts: dict[ThreadFate, int]


def revision_preview(
    *, essay, live: list[Paragraph], plan: Plan, blocks: list[Block], viewer
) -> RevisionPreview:
    """The preview of publishing `blocks` as the next revision of `essay`, whose `live`
    paragraphs the `plan` matched with them; the threads as `viewer` may see them."""
    threads = threads_on_paragraphs(essay=essay, paragraphs=live, viewer=viewer)
    retired = sorted(plan.retired)
    # Where each new block stands in the old text: before the next paragraph it keeps in
    # order. Removed paragraphs are listed there, where they stood (a replaced paragraph
    # reads: removed, then added).
    next_kept, standing = [len(live)] * len(blocks), len(live)
    for j in reversed(range(len(blocks))):
        if plan.sources[j] is not None and j not in plan.moved:
            standing = plan.sources[j]
        next_kept[j] = standing
    changes, kept = [], []
    # The parts of a split besides the one continuing it are listed with it, not as added.
    split_parts = {j: i for i, parts in plan.split.items() for j in parts}
    for j, block in enumerate(blocks):
        i = plan.sources[j]
        if j not in plan.moved:
            while retired and retired[0] < next_kept[j]:
                removed = live[retired.pop(0)]
                changes.append(ParagraphChange(outcome=Outcome.REMOVED, before=[removed]))
        if joined := plan.merged.get(j):
            before = [live[k] for k in sorted([*([] if i is None else [i]), *joined])]
            changes.append(_change(Outcome.MERGED, before, block))
            continue
        if i is not None and i in plan.split:
            parts = [blocks[k] for k in plan.split[i]]
            changes.append(_change(Outcome.SPLIT, [live[i]], block, parts))
            continue
        if i is None:
            if j not in split_parts:
                changes.append(ParagraphChange(outcome=Outcome.ADDED, after=block))
            continue
        outcome = _outcome(changed=j in plan.changed, moved=j in plan.moved)
        change = _change(outcome, [live[i]], block)
        if outcome != Outcome.KEPT:
            changes.append(change)
        elif threads.get(live[i].pk):
            kept.append(change)
    changes += [ParagraphChange(outcome=Outcome.REMOVED, before=[live[i]]) for i in retired]
    counts = dict.fromkeys(ThreadFate, 0)
    for change in changes + kept:
        change.threads = [t for p in change.before for t in threads.get(p.pk, [])]
        if change.fate is not None:
            counts[change.fate] += len(change.threads)
    changes = [c for c in changes if c.threads or _shown(c.after or c.before[0])]
    return RevisionPreview(changes=changes, kept=kept, thread_counts=counts)


def _outcome(*, changed: bool, moved: bool) -> Outcome:
    if changed and moved:
        return Outcome.MOVED_AND_CHANGED
    if changed:
        return Outcome.CHANGED
    return Outcome.MOVED if moved else Outcome.KEPT


@dataclass
class RevisionChanges(_Listed):
    """What a published revision changed, from its summary and the blocks of both versions."""

    revision: EssayRevision
    previous: EssayRevision | None
    changes: list[ParagraphChange]


def revision_changes(revision: EssayRevision) -> RevisionChanges:
    """The paragraphs `revision` added, changed, moved and removed, each with its text (and
    the words that changed marked), in the order of the revision (removed ones, of the one
    before). Three queries."""
    previous = revision.essay.revisions.filter(number=revision.number - 1).first()
    now = {b.paragraph.key: b for b in revision.blocks.select_related("paragraph")}
    before = (
        {b.paragraph.key: b for b in previous.blocks.select_related("paragraph")}
        if previous
        else {}
    )
    summary = revision.summary
    changed, moved = set(summary.get("changed", [])), set(summary.get("moved", []))
    # Keys listed with a merge or a split, not again as added, changed or removed.
    joined = set()
    changes = []
    for merge in summary.get("merged", []):
        into, olds = merge["into"], [key for key in merge["from"] if key in before]
        if into in now:
            sources = ([before[into]] if into in before else []) + [before[key] for key in olds]
            sources.sort(key=lambda block: block.position)
            changes.append(_change(Outcome.MERGED, sources, now[into]))
            joined |= {into, *olds}
    for split in summary.get("split", []):
        old, parts = split["from"], [key for key in split["into"] if key in now]
        if old in before and old in now and old not in joined:
            ordered = sorted((now[key] for key in parts), key=lambda block: block.position)
            changes.append(_change(Outcome.SPLIT, [before[old]], now[old], ordered))
            joined |= {old, *parts}
    for key in summary.get("added", []):
        if key in now and key not in joined:
            changes.append(ParagraphChange(outcome=Outcome.ADDED, after=now[key]))
    for key in (changed | moved) - joined:
        if key in now and key in before:
            outcome = _outcome(changed=key in changed, moved=key in moved)
            changes.append(_change(outcome, [before[key]], now[key]))
    for key in summary.get("removed", []):
        if key in before and key not in joined:
            changes.append(ParagraphChange(outcome=Outcome.REMOVED, before=[before[key]]))
    changes = [c for c in changes if _shown(c.after or c.before[0])]
    changes.sort(key=lambda c: (c.after or c.before[0]).position)
    return RevisionChanges(revision=revision, previous=previous, changes=changes)
