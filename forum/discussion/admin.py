from django.contrib import admin

from .models import Comment


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "essay", "paragraph", "author_display", "status", "created"]
    list_filter = ["status", "essay"]
    search_fields = ["body", "author_name", "author__email", "author__display_name"]
    list_select_related = ["essay", "paragraph", "author"]
    raw_id_fields = ["paragraph", "parent", "root", "author"]
    # The stored HTML is derived from the body at write time; edit neither here.
    readonly_fields = ["body", "body_html", "created", "edited_at"]
