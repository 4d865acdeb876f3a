"""A queue as moderators meet it: held comments from newcomers (one with a watched word and
too many links, one a reply) and published comments that readers reported, built through the
services a reader's request uses. Shared by the query-count tests and the browser test."""

from forum.discussion import services as discussion
from forum.moderation import services
from forum.moderation.models import ReasonCode, WordRule
from tests.conftest import make_user

WATCHED = "scoundrel"


def fill_queue(*, essay, moderator, count: int, prefix: str = "q") -> list:
    """`count` comments needing a decision, alternately held and reported, oldest first.

    Needs MODERATION_FIRST_COMMENTS_REVIEWED >= 1 and rate limits that allow it (the regular
    is a new account: MODERATION_NEW_COMMENTS_PER_HOUR too)."""
    WordRule.objects.get_or_create(word=WATCHED, defaults={"kind": WordRule.Kind.WATCHED})
    regular = make_user(f"{prefix}-regular@example.org", f"Regular {prefix}")
    first = discussion.comment_post(author=regular, essay=essay, body="My first comment.")
    services.comment_approve(actor=moderator, comment=first)
    readers = [
        make_user(f"{prefix}-reader{n}@example.org", f"Reader {prefix}{n}") for n in range(2)
    ]
    reasons = [ReasonCode.SPAM, ReasonCode.ABUSE]
    comments = []
    for n in range(count):
        if n % 2 == 0:
            newcomer = make_user(f"{prefix}-new{n}@example.org", f"Newcomer {prefix}{n}")
            body = f"Held comment {prefix}{n}."
            if n % 4 == 0:
                body += f" What a {WATCHED}."
            comment = discussion.comment_post(
                author=newcomer, essay=essay, body=body, parent=first if n % 3 == 0 else None
            )
        else:
            comment = discussion.comment_post(
                author=regular, essay=essay, body=f"Reported comment {prefix}{n}."
            )
            for reader, reason in zip(readers, reasons, strict=True):
                services.flag_create(
                    reporter=reader, comment=comment, reason=reason, note=f"Note {n}"
                )
        comments.append(comment)
    return comments
