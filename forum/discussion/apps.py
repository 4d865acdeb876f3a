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
