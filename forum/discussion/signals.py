"""Events other apps may follow without this app knowing them (subscriptions, moderation).

`comment_removed`, `comment_moderated`, `reports_answered` and `account_moderated` are sent
after the transaction that caused them has committed. `comment_held` and `comment_published`
are sent inside it, on purpose, and their receivers only write to the database, in that
transaction: moderation records a hold in its log, so a comment is never held without the
decision that says why; subscriptions makes the author follow the thread and queues the
fan-out to followers, so a published comment never misses its notifications, and a post
costs the database one commit, not two.
"""

from django.dispatch import Signal

# Sent with comment=<Comment> when a comment becomes visible to readers, in the transaction
# that makes it so (see above).
comment_published = Signal()
# Sent with comment=<Comment> when a comment stops being visible (deleted or removed).
comment_removed = Signal()
# Sent with comment=<Comment> and reasons=[str] when rules hold a comment for review.
comment_held = Signal()
# Sent with comment=<Comment>, action="hold"|"approve"|"remove"|"hide"|"restore",
# detail=<str> (the public reason: what the author may read, never a moderator's private
# note) and section=<str> (the anchor of the community guidelines' section the reason points
# to, or "") when moderation (or a rule) decides about a comment, or undoes a decision (the
# action then says what the comment is now).
comment_moderated = Signal()
# Sent with comment=<Comment>, reporter_ids=[int], outcome="hidden"|"removed"|"kept",
# detail=<str> (the public reason, for a removal) and section=<str> when moderation answers
# readers' reports. Never who decided, nor their note.
reports_answered = Signal()
# Sent with user=<User>, action="suspend"|"lift", detail=<str> (the public reason) and
# until=<datetime or None> (a suspension's end; None: until lifted) when moderation
# suspends a member, lifts a suspension, or undoes either.
account_moderated = Signal()
