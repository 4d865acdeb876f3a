from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "forum.subscriptions"
    label = "subscriptions"
    verbose_name = "Subscriptions and notifications"

    def ready(self):
        # The discussion announces; this app listens (the discussion never imports it).
        from forum.discussion.signals import (
            account_moderated,
            comment_moderated,
            comment_published,
            comment_removed,
            reports_answered,
        )

        from . import services

        comment_published.connect(services.on_comment_published, dispatch_uid="subs-published")
        # What follows_on_post keeps in the cache, forgotten when the settings change.
        from django.db.models.signals import post_delete, post_save

        from .models import NotificationSettings

        for changed in (post_save, post_delete):
            changed.connect(
                services.forget_follows_on_post,
                sender=NotificationSettings,
                dispatch_uid=f"subs-forget-follows-on-post-{changed is post_save}",
            )
        comment_removed.connect(services.on_comment_removed, dispatch_uid="subs-removed")
        comment_moderated.connect(services.on_comment_moderated, dispatch_uid="subs-moderated")
        reports_answered.connect(services.on_reports_answered, dispatch_uid="subs-reports")
        account_moderated.connect(services.on_account_moderated, dispatch_uid="subs-account")
        # Follow and mute controls on the discussion's pages.
        from forum.discussion import hooks

        hooks.register("essay_header", "subscriptions/_follow_essay.html")
        hooks.register("region_header", "subscriptions/_follow_paragraph.html")
        hooks.register("comment_actions", "subscriptions/_follow_thread.html")
        from .templatetags.subscriptions_tags import essay_state_of, threads_set_by

        hooks.register_personal(threads_set_by)
        hooks.register_variant("essay_header", essay_state_of)
        # What a reader's shared pages show of them (forum/discussion/readers.py): what they
        # follow, and their bell's count.
        from forum.discussion.readers import register_reader_fact

        from .context_processors import unread_count, unread_count_prime
        from .templatetags.subscriptions_tags import readers_states, readers_states_prime

        register_reader_fact("subscription_states", load=readers_states, prime=readers_states_prime)
        register_reader_fact("unread_notifications", load=unread_count, prime=unread_count_prime)
