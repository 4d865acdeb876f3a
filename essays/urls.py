from django.urls import path

from . import views

app_name = "essays"

# After the discussion's patterns in forum/urls.py: the reading pages are tried first.
urlpatterns = [
    path("essays/<slug:slug>/r/<int:number>/", views.revision_detail, name="revision_detail"),
    path(
        "essays/<slug:slug>/r/<int:number>/changes/",
        views.revision_changes,
        name="revision_changes",
    ),
    path("essays/<slug:slug>/publish/", views.essay_publish, name="essay_publish"),
    path(
        "essays/<slug:slug>/publish/<int:pk>/",
        views.publication_detail,
        name="publication_detail",
    ),
]
