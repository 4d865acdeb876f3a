from django.urls import path

from . import views

app_name = "discussion"

urlpatterns = [
    path("", views.home, name="home"),
    path("essays/<slug:slug>/", views.essay_detail, name="essay_detail"),
    path("essays/<slug:slug>/p/<str:key>/", views.paragraph_detail, name="paragraph_detail"),
]
