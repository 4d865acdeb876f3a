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
        comment_removed.connect(services.on_comment_removed, dispatch_uid="subs-removed")
        comment_moderated.connect(services.on_comment_moderated, dispatch_uid="subs-moderated")
        reports_answered.connect(services.on_reports_answered, dispatch_uid="subs-reports")
        account_moderated.connect(services.on_account_moderated, dispatch_uid="subs-account")
        # Follow and mute controls on the discussion's pages.
        from forum.discussion import hooks

        hooks.register("essay_header", "subscriptions/_follow_essay.html")
        hooks.register("region_header", "subscriptions/_follow_paragraph.html")
        hooks.register("comment_actions", "subscriptions/_follow_thread.html")
        from .templatetags.subscriptions_tags import threads_set_by

        hooks.register_personal(threads_set_by)
