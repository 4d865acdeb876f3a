from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Essay, Paragraph


class ParagraphInline(admin.TabularInline):
    model = Paragraph
    fields = ["position", "key", "kind", "text", "added_in", "retired_in"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Essay)
class EssayAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "published_at", "revision", "comments_open"]
    list_filter = ["status", "comments_open"]
    search_fields = ["title", "alternate_title", "slug"]
    # The slug and source are the import's: footnote links and anchors are built from them.
    # Whether comments are open, and reviewed first, is a moderation decision: it is taken
    # on the moderation page, which logs it, never here.
    readonly_fields = [
        "slug",
        "publish_revision",
        "source",
        "revision",
        "revised_at",
        "comments_open",
        "premoderated",
    ]
    fields = [
        "title",
        "alternate_title",
        "attribution",
        "slug",
        "status",
        "published_at",
        "comments_open",
        "premoderated",
        "revision",
        "revised_at",
        "publish_revision",
        "source",
    ]
    inlines = [ParagraphInline]

    @admin.display(description="Revise")
    def publish_revision(self, obj):
        url = reverse("essays:essay_publish", kwargs={"slug": obj.slug})
        return format_html(
            '<a href="{}">Publish a revision, with a preview of every thread</a>', url
        )

    def has_add_permission(self, request):
        # Essays are created by `manage.py import_essay`, which assigns the paragraph keys.
        return False


@admin.register(Paragraph)
class ParagraphAdmin(admin.ModelAdmin):
    list_display = ["key", "essay", "position", "kind", "retired_in"]
    list_filter = ["kind", "essay"]
    search_fields = ["key", "text"]
    list_select_related = ["essay"]
    # Paragraphs change only through an import: keys and text must stay in step.
    readonly_fields = ["essay", "key", "position", "kind", "html", "text", "added_in", "retired_in"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
