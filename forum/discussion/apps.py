from django.apps import AppConfig


class DiscussionConfig(AppConfig):
    name = "forum.discussion"
    label = "discussion"
    verbose_name = "Discussion"

    def ready(self):
        # Re-anchor comments when an essay is revised (essays knows nothing of comments).
        from essays.signals import essay_revised

        from .services import on_essay_revised

        essay_revised.connect(on_essay_revised, dispatch_uid="discussion-reanchor")
        # Answer essays' question about the threads on its paragraphs (essays/hooks.py).
        from essays.hooks import register_threads_on_paragraphs

        from .threads import threads_on_paragraphs

        register_threads_on_paragraphs(threads_on_paragraphs)
        # Load the policy again when a test changes DISCUSSION_POLICY.
        from django.core.signals import setting_changed

        from .policy import forget_policy

        setting_changed.connect(forget_policy, dispatch_uid="discussion-policy-setting")
