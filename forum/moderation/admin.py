from django.contrib import admin
from django.core.exceptions import PermissionDenied

from .models import Decision, Flag, Restriction, WordRule


class DeletedOnlyWithTheirAccount:
    """Rows the site owner may delete only by deleting the account they belong to (the
    admin's cascade asks this model's delete permission): not one by one, nor in bulk,
    which would lift a suspension or drop a report around the audit log."""

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied


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
class FlagAdmin(DeletedOnlyWithTheirAccount, ReadOnlyAdmin):
    """Reports are resolved by deciding about their comment on the moderation pages."""

    list_display = ["comment", "reason", "reporter", "created", "resolved_at"]
    list_filter = ["reason"]
    raw_id_fields = ["comment", "reporter"]


@admin.register(Restriction)
class RestrictionAdmin(DeletedOnlyWithTheirAccount, admin.ModelAdmin):
    """Read-only: restricting goes through the moderation pages, where the hierarchy is
    checked and every step is logged."""

    list_display = ["user", "kind", "until", "lifted_at", "created"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
