from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/settings/", views.account_settings, name="settings"),
    path("accounts/export/", views.account_export, name="export"),
    path("accounts/delete/", views.account_delete, name="delete"),
    path("accounts/claims/", views.claims, name="claims"),
    path("accounts/claims/<int:pk>/", views.claim, name="claim"),
    path("members/<int:pk>/", views.profile, name="profile"),
]
