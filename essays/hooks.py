"""What the essays' own pages show of the conversation about an essay, asked of the app
that holds it.

essays knows nothing of comments (DESIGN.md, the layers): it may not import the discussion.
Yet the editor's preview of a revision must say, for each paragraph the revision changes,
which threads stay with it, follow it, or become "on earlier versions". So essays asks one
question, written down here, and the app above answers it: forum.discussion registers its
answer in its AppConfig.ready(). With no answer registered (essays on its own), the preview
lists the paragraphs without threads.

The question, `ThreadsOnParagraphs`: called as

    threads_on_paragraphs(essay=essay, paragraphs=[...], viewer=user)

with live paragraphs of `essay`, it returns {paragraph pk: [ThreadSummary, ...]} naming
only the paragraphs that have threads: each thread (a top-level comment and its replies;
deleted ones left out, and ones awaiting review that `viewer` may not know of) as `viewer`
may see it, in the order of the paragraphs, then of writing. It costs a constant number of
queries, whatever the number of paragraphs.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ThreadSummary:
    """One thread, as a line of the preview."""

    author: str  # the opening comment's author, as the discussion names them
    excerpt: str  # its opening comment's text, or "" where the viewer may not read it
    placeholder: str  # why there is no excerpt ("Removed by a moderator: ..."), else ""
    url: str  # where the thread is read


class ThreadsOnParagraphs(Protocol):
    def __call__(
        self, *, essay, paragraphs: Sequence, viewer
    ) -> dict[int, list[ThreadSummary]]: ...


def _no_threads(*, essay, paragraphs, viewer) -> dict[int, list[ThreadSummary]]:
    return {}


_threads_on_paragraphs: ThreadsOnParagraphs = _no_threads


def register_threads_on_paragraphs(answer: ThreadsOnParagraphs) -> None:
    """Set the answer to the question above (the last registered wins)."""
    global _threads_on_paragraphs
    _threads_on_paragraphs = answer


def threads_on_paragraphs(*, essay, paragraphs: Sequence, viewer) -> dict[int, list[ThreadSummary]]:
    return _threads_on_paragraphs(essay=essay, paragraphs=paragraphs, viewer=viewer)
