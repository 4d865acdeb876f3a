"""Events other apps may follow without this app knowing them (subscriptions, moderation).

`comment_published`, `comment_removed` and `comment_moderated` are sent after the
transaction that caused them has committed. `comment_held` is sent inside it, on purpose:
moderation records the hold in its log in the same transaction, so a comment is never
held without the decision that says why.
"""

from django.dispatch import Signal

# Sent with comment=<Comment> when a comment becomes visible to readers.
comment_published = Signal()
# Sent with comment=<Comment> when a comment stops being visible (deleted or removed).
comment_removed = Signal()
# Sent with comment=<Comment> and reasons=[str] when rules hold a comment for review.
comment_held = Signal()
# Sent with comment=<Comment>, action="hold"|"approve"|"remove" and detail=<str> (the
# reason the author may read) when moderation decides about a comment.
comment_moderated = Signal()
