from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("comments/<int:pk>/report/", views.report, name="report"),
    path("moderation/", views.index, name="index"),
    path("moderation/bulk/", views.bulk, name="bulk"),
    path("moderation/comments/<int:pk>/", views.comment_detail, name="comment"),
    path(
        "moderation/comments/<int:pk>/reattach/",
        views.thread_reattach,
        name="thread_reattach",
    ),
    path(
        "moderation/comments/<int:pk>/<str:action>/",
        views.comment_action,
        name="comment_action",
    ),
    path("moderation/essays/<int:pk>/<str:action>/", views.essay_action, name="essay_action"),
    path("moderation/authors/<int:pk>/", views.author_detail, name="author"),
    path("moderation/authors/<int:pk>/restrict/", views.author_restrict, name="author_restrict"),
    path("moderation/authors/<int:pk>/level/", views.author_level, name="author_level"),
    path("moderation/authors/<int:pk>/lift/<str:kind>/", views.author_lift, name="author_lift"),
    path("moderation/log/", views.log, name="log"),
    path("moderation/log/<int:pk>/undo/", views.undo, name="undo"),
    path("moderation/words/", views.words, name="words"),
    path("moderation/words/<int:pk>/remove/", views.word_remove, name="word_remove"),
    path("moderation/notices/", views.notices, name="notices"),
]
