from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("forum.accounts.urls")),
    path("", include("forum.moderation.urls")),
    path("", include("forum.subscriptions.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("forum.discussion.urls")),
]
