from django.contrib import admin

from .models import Notification, NotificationSettings, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "essay", "paragraph", "thread", "level", "created"]
    list_filter = ["level"]
    raw_id_fields = ["user", "essay", "paragraph", "thread"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "reason", "comment", "created", "read_at", "emailed_at"]
    list_filter = ["reason"]
    raw_id_fields = ["recipient", "comment"]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "email", "follow_on_post", "email_due_at"]
    list_filter = ["email"]
    raw_id_fields = ["user"]
