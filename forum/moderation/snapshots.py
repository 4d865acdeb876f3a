"""What a decision changed, as it was before: typed, and stored in `Decision.previous_state`
(JSON) so that the decision can be undone exactly. Each snapshot is taken with `of` and
read back with `load`; the keys are those the log has always stored."""

from dataclasses import asdict, dataclass

from django.utils import timezone

from essays.models import Essay
from forum.discussion.models import Comment


@dataclass(frozen=True)
class Snapshot:
    @classmethod
    def load(cls, state: dict):
        return cls(**{name: state[name] for name in cls.__dataclass_fields__})

    def dump(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CommentStatus(Snapshot):
    status: str
    removal_reason: str
    open_flags: list[int]

    @classmethod
    def of(cls, comment: Comment) -> "CommentStatus":
        return cls(
            status=comment.status,
            removal_reason=comment.removal_reason,
            open_flags=list(comment.flags.open().values_list("pk", flat=True)),
        )


@dataclass(frozen=True)
class ThreadLock(Snapshot):
    locked_at: str | None  # ISO 8601

    @classmethod
    def of(cls, root: Comment) -> "ThreadLock":
        return cls(locked_at=root.locked_at.isoformat() if root.locked_at else None)

    def restore(self, root: Comment) -> None:
        root.locked_at = timezone.datetime.fromisoformat(self.locked_at) if self.locked_at else None
        root.save(update_fields=["locked_at"])


@dataclass(frozen=True)
class EssayOpen(Snapshot):
    comments_open: bool

    @classmethod
    def of(cls, essay: Essay) -> "EssayOpen":
        return cls(comments_open=essay.comments_open)

    def restore(self, essay: Essay) -> None:
        essay.comments_open = self.comments_open
        essay.save(update_fields=["comments_open"])


@dataclass(frozen=True)
class EssayPremoderated(Snapshot):
    premoderated: bool

    @classmethod
    def of(cls, essay: Essay) -> "EssayPremoderated":
        return cls(premoderated=essay.premoderated)

    def restore(self, essay: Essay) -> None:
        essay.premoderated = self.premoderated
        essay.save(update_fields=["premoderated"])


@dataclass(frozen=True)
class RestrictionCreated(Snapshot):
    restriction: int
    created: bool = True


@dataclass(frozen=True)
class RestrictionsLifted(Snapshot):
    lifted: list[int]


@dataclass(frozen=True)
class ThreadAnchors(Snapshot):
    """Per comment of a thread (by id): paragraph id, anchor status, anchor text, quote lost."""

    comments: dict[str, list]

    @classmethod
    def of(cls, comments) -> "ThreadAnchors":
        return cls(
            comments={
                str(c.pk): [c.paragraph_id, c.anchor_status, c.anchor_text, c.quote_lost]
                for c in comments
            }
        )
