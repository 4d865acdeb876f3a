"""Threads a moderator re-attached before re-attaching kept what they answered: give them
back the text they were written about, from the decision that re-attached them (its
snapshot holds the thread as it was), and say when a moderator re-attached them."""

from django.db import migrations
from django.db.models import Q


def restore_written_about(apps, schema_editor):
    Comment = apps.get_model("discussion", "Comment")
    Decision = apps.get_model("moderation", "Decision")
    standing = Decision.objects.filter(
        action="reattach", undone_by__isnull=True, comment__isnull=False
    ).order_by("id")
    # The first re-attachment still standing holds the thread as written; the last says when.
    first, last = {}, {}
    for decision in standing:
        first.setdefault(decision.comment_id, decision)
        last[decision.comment_id] = decision
    for root_id, decision in first.items():
        recorded = (decision.previous_state or {}).get("comments") or {}
        root = recorded.get(str(root_id))
        if not root or len(root) > 4:
            continue  # kept by the service already
        thread = list(
            Comment.objects.filter(Q(pk=root_id) | Q(root_id=root_id)).select_related(
                "paragraph"
            )
        )
        for comment in thread:
            values = recorded.get(str(comment.pk), root)
            comment.anchor_text = values[2] or comment.anchor_text
            comment.reattached_at = last[root_id].created
            paragraph = comment.paragraph
            if paragraph is None or not comment.anchor_text:
                continue
            if paragraph.retired_in is not None:
                comment.anchor_status = "orphaned"
            elif comment.anchor_text != paragraph.text:
                comment.anchor_status = "moved"
            else:
                comment.anchor_status = "placed"
        Comment.objects.bulk_update(thread, ["anchor_text", "reattached_at", "anchor_status"])


class Migration(migrations.Migration):
    dependencies = [
        ("discussion", "0006_reattached_and_addressed"),
        ("moderation", "0003_decision_public_reason"),
    ]

    operations = [migrations.RunPython(restore_written_about, migrations.RunPython.noop)]
