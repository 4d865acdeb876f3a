"""Atom feeds (RFC 4287) of new published comments: on an essay, on a paragraph, in a
thread, and by a member.

A feed shows only what the one access rule lets an anonymous reader read (access.py), and
is computed from the comments' current state: a comment removed after it was published
leaves the feed. Each feed answers a conditional GET with 304 on its ETag, named by the
discussion_version of the essays it reads (bumped by every change readers see: see
essays/models.py). No Last-Modified: the date of the latest entry does not move when an
entry is removed or a paragraph is revised, so it cannot tell a reader's copy is stale.
"""

import hashlib

from django.contrib.auth import get_user_model
from django.contrib.syndication.views import Feed
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.http import quote_etag
from django.utils.translation import gettext as _

from essays.models import Essay, Paragraph

from .access import can_read_text
from .annotations import absolute, annotation_id
from .links import revision_changes_url
from .models import Comment

# The latest entries a feed carries: a reader polls, so older ones are already read.
FEED_ENTRIES = 50
# Part of every ETag: change it when a feed's format changes, so readers fetch it again.
FEED_FORMAT = "2"
# RFC 4685: an entry that replies names the entry it answers.
THREADING_NS = "http://purl.org/syndication/thread/1.0"


class CommentsAtomFeed(Atom1Feed):
    """Atom with each comment's HTML as the entry's content, and replies marked as such."""

    def root_attributes(self):
        return {**super().root_attributes(), "xmlns:thr": THREADING_NS}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_html"], {"type": "html"})
        if item["in_reply_to"] is not None:
            handler.addQuickElement(
                "thr:in-reply-to",
                "",
                {"ref": item["in_reply_to"], "href": item["in_reply_to"], "type": "text/html"},
            )


def latest_readable(comments, *, essay: Essay | None = None) -> list[Comment]:
    """The newest FEED_ENTRIES of `comments` an anonymous reader may read (one query)."""
    comments = comments.published().select_related("author", "paragraph")
    if essay is None:
        comments = comments.filter(essay__in=Essay.objects.published()).select_related("essay")
    entries = []
    for comment in comments.order_by("-id")[:FEED_ENTRIES]:
        if essay is not None:
            comment.essay = essay
        if comment.paragraph_id:
            comment.paragraph.essay = comment.essay
        if can_read_text(comment, None, moderator=False):
            entries.append(comment)
    return entries


class CommentFeed(Feed):
    """What every comment feed shares: entries, and answering conditional GETs before any
    entry is read. A subclass says what it is of (`get_object`), which version of the
    database's state names its content (`state`), and which comments it carries."""

    feed_type = CommentsAtomFeed

    def __call__(self, request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        try:
            obj = self.get_object(request, *args, **kwargs)
        except ObjectDoesNotExist as missing:
            raise Http404("No such feed.") from missing
        etag = quote_etag(
            hashlib.sha256(f"{FEED_FORMAT}:{self.state(obj)}".encode()).hexdigest()[:32]
        )
        response = get_conditional_response(request, etag=etag)
        if response is None:
            feed = self.get_feed(obj, request)
            response = HttpResponse(content_type=feed.content_type)
            feed.write(response, "utf-8")
        response.headers["ETag"] = etag
        # Ask again every time: a removal must leave readers' copies at their next poll.
        patch_cache_control(response, no_cache=True)
        return response

    def state(self, obj) -> str:
        """What this feed's content depends on (its ETag): each kind of feed names it, from
        the discussion_version of the essays it draws on."""
        raise NotImplementedError(f"{type(self).__name__} must say what its content depends on.")

    def item_title(self, comment):
        names = {"author": comment.author_display, "essay": comment.essay.title}
        if comment.parent_id:
            return _("%(author)s replied on “%(essay)s”") % names
        if comment.quote:
            return _("%(author)s on a passage of “%(essay)s”") % names
        if comment.paragraph_id:
            return _("%(author)s on a paragraph of “%(essay)s”") % names
        return _("%(author)s on “%(essay)s”") % names

    def item_description(self, comment):
        return None  # the entry's content carries the comment (CommentsAtomFeed)

    def item_link(self, comment):
        return absolute(comment.get_absolute_url())

    def item_guid(self, comment):
        # The permalink, which no revision changes (also the comment's annotation id).
        return annotation_id(comment.pk)

    def item_author_name(self, comment):
        return comment.author_display

    def item_author_link(self, comment):
        if comment.author_id and comment.author.is_active:
            return absolute(comment.author.get_absolute_url())
        return None

    def item_pubdate(self, comment):
        return comment.created

    def item_updateddate(self, comment):
        # Atom requires an updated date: an undated import takes its essay's publication.
        return comment.edited_at or comment.created or comment.essay.published_at

    def item_extra_kwargs(self, comment):
        return {
            "content_html": answered_html(comment) + comment.body_html + addressed_html(comment),
            "in_reply_to": annotation_id(comment.parent_id) if comment.parent_id else None,
        }


def answered_html(comment: Comment) -> str:
    """What the comment answers, before its text: the comment it replies to, or the
    passage or paragraph it discusses (as it read when the comment was written)."""
    if comment.parent_id:
        return format_html(
            '<p>{} <a href="{}">{}</a>:</p>',
            _("In reply to"),
            annotation_id(comment.parent_id),
            _("a comment"),
        )
    if comment.paragraph_id is None:
        return ""
    answered = comment.quote or comment.anchor_text or comment.paragraph.text
    return format_html(
        '<blockquote cite="{}"><p>{}</p></blockquote>',
        absolute(comment.paragraph.get_absolute_url()),
        answered,
    )


def addressed_html(comment: Comment) -> str:
    """After a thread's first comment, the revision its essay's editor said took it up,
    linked to what that revision changed."""
    if not comment.addressed_in:
        return ""
    url = revision_changes_url(
        slug=comment.essay.slug,
        number=comment.addressed_in,
        paragraph_key=comment.paragraph.key if comment.paragraph_id else "",
    )
    return format_html(
        '<p><a href="{}">{}</a></p>',
        absolute(url),
        _("Addressed in revision %(number)s") % {"number": comment.addressed_in},
    )


class EssayFeed(CommentFeed):
    def get_object(self, request, slug):
        return Essay.objects.published().get(slug=slug)

    def state(self, essay):
        return f"essay:{essay.pk}:{essay.discussion_version}"

    def title(self, essay):
        return _("Comments on “%(essay)s”") % {"essay": essay.title}

    def link(self, essay):
        return absolute(essay.get_absolute_url())

    def feed_url(self, essay):
        return absolute(reverse("discussion:essay_feed", kwargs={"slug": essay.slug}))

    def items(self, essay):
        return latest_readable(Comment.objects.filter(essay=essay), essay=essay)


class ParagraphFeed(CommentFeed):
    """A paragraph's comments; a paragraph a revision retired keeps its feed."""

    def get_object(self, request, slug, key):
        return (
            Paragraph.objects.commentable()
            .select_related("essay")
            .get(essay__in=Essay.objects.published(), essay__slug=slug, key=key)
        )

    def state(self, paragraph):
        return f"paragraph:{paragraph.pk}:{paragraph.essay.discussion_version}"

    def title(self, paragraph):
        return _("Comments on a paragraph of “%(essay)s”") % {"essay": paragraph.essay.title}

    def link(self, paragraph):
        return absolute(paragraph.get_absolute_url())

    def feed_url(self, paragraph):
        kwargs = {"slug": paragraph.essay.slug, "key": paragraph.key}
        return absolute(reverse("discussion:paragraph_feed", kwargs=kwargs))

    def items(self, paragraph):
        comments = Comment.objects.on_paragraph(paragraph)
        return latest_readable(comments, essay=paragraph.essay)


class ThreadFeed(CommentFeed):
    """A thread's comments, named by any comment in it; none for a comment awaiting review
    (its place shows nothing to others)."""

    def get_object(self, request, pk):
        comment = Comment.objects.select_related("essay").get(
            pk=pk, essay__in=Essay.objects.published()
        )
        if comment.is_pending:
            raise Http404("No such thread.")
        return comment

    def state(self, comment):
        return f"thread:{comment.thread_root_id}:{comment.essay.discussion_version}"

    def title(self, comment):
        return _("A thread on “%(essay)s”") % {"essay": comment.essay.title}

    def link(self, comment):
        return absolute(reverse("discussion:comment_thread", kwargs={"pk": comment.thread_root_id}))

    def feed_url(self, comment):
        return absolute(reverse("discussion:thread_feed", kwargs={"pk": comment.thread_root_id}))

    def items(self, comment):
        root = comment.thread_root_id
        comments = Comment.objects.filter(Q(pk=root) | Q(root_id=root), essay=comment.essay)
        return latest_readable(comments, essay=comment.essay)


class MemberFeed(CommentFeed):
    """A member's comments on published essays; none for a deactivated member."""

    def get_object(self, request, pk):
        return get_user_model().objects.get(pk=pk, is_active=True)

    def state(self, member):
        # The member's entries change only with the essays they commented on (a new
        # comment, a removal, an edit, a revision, a rename: each bumps those essays'
        # versions), and an essay they commented on being published or withdrawn.
        versions = list(
            Essay.objects.published()
            .filter(pk__in=Comment.objects.filter(author=member).values("essay_id"))
            .order_by("pk")
            .values_list("pk", "discussion_version")
        )
        return f"member:{member.pk}:{member}:{versions}"

    def title(self, member):
        return _("Comments by %(member)s") % {"member": member}

    def link(self, member):
        return absolute(member.get_absolute_url())

    def feed_url(self, member):
        return absolute(reverse("discussion:member_feed", kwargs={"pk": member.pk}))

    def items(self, member):
        return latest_readable(Comment.objects.filter(author=member))


essay_feed = EssayFeed()
paragraph_feed = ParagraphFeed()
thread_feed = ThreadFeed()
member_feed = MemberFeed()
