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
class LevelSet(Snapshot):
    """An account's manual trust level (None: the ladder decides)."""

    level: int | None


@dataclass(frozen=True)
class ThreadAnchors(Snapshot):
    """Per comment of a thread (by id): paragraph id, anchor status, anchor text, quote lost,
    and when a moderator re-attached it (ISO 8601 or null; decisions logged before that was
    kept store four values: the thread had not been re-attached, as far as it could tell)."""

    comments: dict[str, list]

    FIELDS = ["paragraph", "anchor_status", "anchor_text", "quote_lost", "reattached_at"]

    @classmethod
    def of(cls, comments) -> "ThreadAnchors":
        return cls(
            comments={
                str(c.pk): [
                    c.paragraph_id,
                    c.anchor_status,
                    c.anchor_text,
                    c.quote_lost,
                    c.reattached_at.isoformat() if c.reattached_at else None,
                ]
                for c in comments
            }
        )

    def restore(self, comments: list[Comment], *, root_id: int) -> None:
        """Put each comment's anchor back as recorded; a comment recorded nowhere (a reply
        written since) takes its thread's first comment's, without a lost quote."""
        root = self.comments[str(root_id)]
        default = [*root[:3], False, *root[4:]]
        for comment in comments:
            values = self.comments.get(str(comment.pk), default)
            paragraph_id, status, text, lost = values[:4]
            reattached_at = values[4] if len(values) > 4 else None
            comment.paragraph_id, comment.anchor_status = paragraph_id, status
            comment.anchor_text, comment.quote_lost = text, lost
            comment.reattached_at = (
                timezone.datetime.fromisoformat(reattached_at) if reattached_at else None
            )
        Comment.objects.bulk_update(comments, self.FIELDS)
