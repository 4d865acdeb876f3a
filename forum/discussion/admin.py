from django.contrib import admin

from .models import Comment, CommentRevision, Guidelines
from .services import guidelines_edit


class CommentRevisionInline(admin.TabularInline):
    model = CommentRevision
    fields = ["written_at", "replaced_at", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """For looking things up. Changes go through the site, where they are checked and logged:
    authors edit their own comments, moderators act from /moderation/."""

    list_display = ["id", "essay", "paragraph", "author_display", "status", "created"]
    list_filter = ["status", "anchor_status", "essay"]
    search_fields = ["body", "author_name", "author__email", "author__display_name"]
    list_select_related = ["essay", "paragraph", "author"]
    inlines = [CommentRevisionInline]
    # The address an imported comment was written under is for claiming it, not for reading.
    exclude = ["imported_email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Guidelines)
class GuidelinesAdmin(admin.ModelAdmin):
    """One text, edited here by the site's owner; saving renders it (services.guidelines_edit)."""

    fields = ["body"]
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not Guidelines.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = guidelines_edit(editor=request.user, body=form.cleaned_data["body"])
        obj.pk = saved.pk
