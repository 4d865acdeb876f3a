from django.urls import path

from . import feeds, views

app_name = "discussion"

urlpatterns = [
    path("", views.home, name="home"),
    path("guidelines/", views.guidelines, name="guidelines"),
    path("essays/<slug:slug>/", views.essay_detail, name="essay_detail"),
    path("essays/<slug:slug>/feed/", feeds.essay_feed, name="essay_feed"),
    path(
        "essays/<slug:slug>/annotations.jsonld",
        views.essay_annotations,
        name="essay_annotations",
    ),
    path("essays/<slug:slug>/comment/", views.essay_comment, name="essay_comment"),
    # Whether others have written in an open discussion since it was shown (polled by
    # discussion.js).
    path("essays/<slug:slug>/new/", views.new_comments, name="essay_new_comments"),
    path("essays/<slug:slug>/p/<slug:key>/", views.paragraph_detail, name="paragraph_detail"),
    path(
        "essays/<slug:slug>/p/<slug:key>/thread/",
        views.paragraph_thread,
        name="paragraph_thread",
    ),
    path("essays/<slug:slug>/p/<slug:key>/feed/", feeds.paragraph_feed, name="paragraph_feed"),
    path(
        "essays/<slug:slug>/p/<slug:key>/new/",
        views.new_comments,
        name="paragraph_new_comments",
    ),
    path(
        "essays/<slug:slug>/p/<slug:key>/comment/",
        views.paragraph_comment,
        name="paragraph_comment",
    ),
    path("comments/preview/", views.comment_preview, name="comment_preview"),
    path("comments/<int:pk>/", views.comment_permalink, name="comment_permalink"),
    path("comments/<int:pk>/thread/", views.comment_thread, name="comment_thread"),
    path("comments/<int:pk>/thread/feed/", feeds.thread_feed, name="thread_feed"),
    path("comments/<int:pk>/reply/", views.comment_reply, name="comment_reply"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("comments/<int:pk>/addressed/", views.thread_addressed, name="thread_addressed"),
    path("members/<int:pk>/feed/", feeds.member_feed, name="member_feed"),
]
