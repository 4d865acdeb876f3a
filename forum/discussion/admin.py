from django.contrib import admin

from .models import Comment, CommentRevision


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
