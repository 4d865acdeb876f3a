from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class ModerationConfig(AppConfig):
    name = "forum.moderation"
    label = "moderation"
    verbose_name = "Moderation"

    def ready(self):
        # Log the comments that rules hold for review, as decisions of the system.
        from forum.discussion.signals import comment_held

        from . import services

        comment_held.connect(services.record_automatic_hold, dispatch_uid="moderation-hold")
        # Report and moderate under each comment of the discussion's pages.
        from forum.discussion import hooks

        hooks.register("comment_actions", "moderation/_comment_actions.html")
        # The Moderators group and its permission, once permissions exist.
        post_migrate.connect(
            services.ensure_moderators_group, sender=self, dispatch_uid="moderation-group"
        )
        # A moderator's comments carry a badge: joining or leaving the group changes pages.
        from django.contrib.auth import get_user_model

        m2m_changed.connect(
            services.on_group_membership_changed,
            sender=get_user_model().groups.through,
            dispatch_uid="moderation-badges",
        )
        # Whether anyone can moderate (forum/moderation/policy.py keeps it in the cache).
        from django.contrib.auth.models import Group

        from . import policy

        User = get_user_model()
        for through in (
            User.groups.through,
            User.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(
                policy.forget_moderators, sender=through, dispatch_uid=f"moderators-{through}"
            )
        post_save.connect(policy.on_account_saved, sender=User, dispatch_uid="moderators-account")
        for model in (User, Group):
            post_delete.connect(
                policy.forget_moderators, sender=model, dispatch_uid=f"moderators-{model}"
            )
        # The word lists (kept in the cache too).
        from .models import WordRule

        post_save.connect(policy.forget_word_lists, sender=WordRule, dispatch_uid="word-lists")
        post_delete.connect(policy.forget_word_lists, sender=WordRule, dispatch_uid="word-lists")
