from django.contrib import admin

from .models import Decision, Flag, Restriction, WordRule


class ReadOnlyAdmin(admin.ModelAdmin):
    """Seen here, changed only on the moderation pages, whose services check the role and
    log every step (an admin form would write around the audit log)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WordRule)
class WordRuleAdmin(ReadOnlyAdmin):
    """Managed on the moderation page "Word lists"."""

    list_display = ["word", "kind"]
    list_filter = ["kind"]
    search_fields = ["word"]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    """Reports are resolved by deciding about their comment on the moderation pages."""

    list_display = ["comment", "reason", "reporter", "created", "resolved_at"]
    list_filter = ["reason"]
    raw_id_fields = ["comment", "reporter"]

    def has_delete_permission(self, request, obj=None):
        # Only as part of deleting an account (the site owner's cascade).
        return request.user.is_superuser


@admin.register(Restriction)
class RestrictionAdmin(admin.ModelAdmin):
    """Read-only: restricting goes through the moderation pages, where the hierarchy is
    checked and every step is logged."""

    list_display = ["user", "kind", "until", "lifted_at", "created"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Only as part of deleting an account (the site owner's cascade).
        return request.user.is_superuser


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only; act through the moderation pages."""

    list_display = ["created", "actor", "action", "comment", "subject_user", "reason_code"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
