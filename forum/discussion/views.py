"""Thin views: read input, call one service or read, render. Every action works as a plain
form; with htmx (the HX-Request header) the same URLs answer with page fragments."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.http import quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_POST, require_safe

from essays.models import Essay, Paragraph
from essays.states import essay_state, state_key
from forum.ids import parse_id
from forum.ratelimits import client_address
from forum.refusals import Refused, refusal_response

from . import annotations, member_pages, pages, services
from .access import (
    access_comment,
    access_comment_for_reply,
    can_read_text,
    discussable_paragraph,
)
from .forms import DRAFTS_SESSION_KEY, CommentForm
from .models import Comment, Guidelines
from .policy import policy
from .quotes import QUOTE_CONTEXT
from .threads import (
    REPLIES_PER_PAGE,
    REPLIES_SHOWN,
    THREAD_ORDERS,
    Margin,
    ThreadNode,
    ThreadPage,
    essays_with_comment_counts,
    heat_level,
    margins_by_paragraph,
    new_comments_count,
    orphaned_threads,
    page_number_of,
    published_count,
    replies_before,
    revisions_after,
    thread_of,
    thread_page,
    thread_replies_page,
)


def home(request):
    return render(request, "discussion/home.html", {"essays": essays_with_comment_counts()})


def guidelines(request):
    """The community guidelines, as the site owner last saved them (read fresh: an edit
    shows at once)."""
    return render(request, "discussion/guidelines.html", {"guidelines": Guidelines.current()})


def _published_essay(slug) -> Essay:
    return get_object_or_404(Essay.objects.published(), slug=slug)


def _discussable_paragraph(essay, key) -> Paragraph:
    paragraph = get_object_or_404(essay.paragraphs.live().commentable(), key=key)
    paragraph.essay = essay
    return paragraph


def _page_number(request) -> int:
    """The page of threads asked for: a whole number from 1, else the first."""
    number = parse_id(request.GET.get("page", "")) or 1
    return min(number, 10_000)


def _thread_order(request) -> str:
    order = request.GET.get("order", "oldest")
    return order if order in THREAD_ORDERS else "oldest"


def _posting_state(request, essay, suspension) -> str:
    """What the comment form should offer this visitor: "closed", "anonymous", "suspended",
    "unverified", or "open"."""
    if not essay.comments_open:
        return "closed"
    if not request.user.is_authenticated:
        return "anonymous"
    if suspension:
        return "suspended"
    if not services.has_verified_email(request.user):
        return "unverified"
    return "open"


def _login_url(next_url) -> str:
    return f"{reverse('account_login')}?{urlencode({'next': next_url})}"


def _signup_url(next_url) -> str:
    """Signing up brings the reader back here too, and so does confirming the address
    (the confirmation link carries it: forum/accounts/adapter.py)."""
    return f"{reverse('account_signup')}?{urlencode({'next': next_url})}"


def _draft_key(*, essay, paragraph=None, parent=None) -> str:
    if parent is not None:
        return f"reply:{parent.pk}"
    if paragraph is not None:
        return f"paragraph:{paragraph.pk}"
    return f"essay:{essay.pk}"


def _stash_draft(request, key, body) -> None:
    drafts = request.session.get(DRAFTS_SESSION_KEY, {})
    drafts[key] = body[: settings.COMMENT_MAX_LENGTH * 2]
    request.session[DRAFTS_SESSION_KEY] = drafts


def _drop_draft(request, key) -> None:
    drafts = request.session.get(DRAFTS_SESSION_KEY, {})
    if drafts.pop(key, None) is not None:
        request.session[DRAFTS_SESSION_KEY] = drafts


def _comment_form(request, *, draft_key, field_id, data=None) -> CommentForm:
    """A blank form, or the reader's own draft kept from a refused attempt (login, say)."""
    if data is not None:
        return CommentForm(data, field_id=field_id)
    draft = request.session.get(DRAFTS_SESSION_KEY, {}).get(draft_key)
    return CommentForm(initial={"body": draft} if draft else None, field_id=field_id)


def _region_id(paragraph=None) -> str:
    """The id of a paragraph's (or the whole essay's) discussion region; its form's fields
    are named after it, so that several regions open on one page never share an id."""
    return "discussion" if paragraph is None else f"discussion-{paragraph.key}"


def _region_context(
    request, *, essay, paragraph=None, form=None, focus=None, notice="", generic=False
):
    """Everything the discussion region of a paragraph or of the whole essay shows (with
    `generic`: as every signed-in reader who may post shares it, member_pages.py)."""
    order = _thread_order(request)
    region_id = _region_id(paragraph)
    if paragraph is None:
        page_url = essay.get_absolute_url()
        post_url = reverse("discussion:essay_comment", kwargs={"slug": essay.slug})
    else:
        page_url = paragraph.get_absolute_url()
        post_url = reverse(
            "discussion:paragraph_comment", kwargs={"slug": essay.slug, "key": paragraph.key}
        )
    draft_key = _draft_key(essay=essay, paragraph=paragraph)
    if generic:
        suspension, moderator, posting = None, False, "open" if essay.comments_open else "closed"
        form = CommentForm(field_id=f"{region_id}-body")
        page, threads_html, authors = _threads(
            request, essay=essay, paragraph=paragraph, order=order, focus=None, generic=True
        )
    else:
        suspension = policy().posting_refusal(request.user)
        moderator = policy().is_moderator(request.user)
        posting = _posting_state(request, essay, suspension)
        page, threads_html, authors = _threads(
            request, essay=essay, paragraph=paragraph, order=order, focus=focus
        )
    return {
        "essay": essay,
        "paragraph": paragraph,
        "page": page,
        "thread": page.threads,
        "threads_html": threads_html,
        "moderator": moderator,
        "may_mark_addressed": not generic and _may_mark_addressed(request, essay),
        "order": order,
        "region_id": region_id,
        "page_url": page_url,
        "post_url": post_url,
        "login_url": _login_url(f"{page_url}#{region_id}"),
        "signup_url": _signup_url(f"{page_url}#{region_id}"),
        "posting": posting,
        "suspension": suspension,
        "form": form or _comment_form(request, draft_key=draft_key, field_id=f"{region_id}-body"),
        "focus_comment_id": focus.pk if focus else None,
        "notice": notice,
        # The author of each comment in a shared rendering of the threads.
        "shared_authors": authors,
    }


def _shares_threads(request, *, essay, focus) -> bool:
    """Whether this reader is served the threads rendered for every signed-in reader: they
    see what a visitor sees (no moderator, no editor with their control under each thread,
    nothing of theirs awaiting review), no comment is to take the focus, and their address
    holds nothing of their own. Asked once a request."""
    if not hasattr(request, "_shares_threads"):
        request._shares_threads = (
            request.user.is_authenticated
            and not policy().is_moderator(request.user)
            and not _may_mark_addressed(request, essay)
            and not Comment.objects.awaiting_review_by(request.user, essay=essay).exists()
        )
    return request._shares_threads and focus is None


def _may_mark_addressed(request, essay) -> bool:
    """Whether this reader is the essay's editor, who may mark its threads addressed."""
    try:
        services.check_may_mark_addressed(request.user, essay)
    except Refused:
        return False
    return True


def _threads(
    request, *, essay, paragraph, order, focus, generic=False
) -> tuple[ThreadPage, str, dict[int, int | None]]:
    """The page of threads the region shows, and, for most signed-in readers, its HTML made
    from the rendering they share (forum/discussion/pages.py) and the author of each comment
    in it; with `generic`, that rendering as shared, its actions marked."""
    number = _page_number(request)

    def load(viewer):
        return thread_page(
            essay=essay,
            paragraph=paragraph,
            order=order,
            viewer=viewer,
            number=number,
            containing=focus,
        )

    shared = generic or (
        _shares_threads(request, essay=essay, focus=focus)
        and pages.is_plain_query(request, order=order, page=str(number))
    )
    if not shared:
        return load(request.user), "", {}
    region = paragraph.key if paragraph is not None else ""
    page, html, rendering = pages.members_threads(
        request,
        essay=essay,
        variant=(region, order, str(number), request.get_full_path()),
        load=lambda: load(None),
        paragraph=paragraph,
        personalise=not generic,
    )
    return page, html, rendering.authors


def everyones_variant(request, key: str | None = None) -> tuple[str, ...] | None:
    """Which of the pages every anonymous visitor gets this request asks for: the essay's
    (`key` None) or a paragraph's, in the order and at the page of threads asked for. None when
    the request gets a page of its own (pages.is_everyones_page)."""
    order, number = _thread_order(request), str(_page_number(request))
    if not pages.is_everyones_page(request, order=order, page=number):
        return None
    return ("essay", order, number) if key is None else ("p", key, order, number)


def essay_detail(request, slug):
    if member_pages.may_serve(request):
        order, number = _thread_order(request), str(_page_number(request))
        if pages.is_plain_query(request, order=order, page=number):
            served = member_pages.members_page(
                request,
                slug=slug,
                variant=("essay", order, number, request.get_full_path()),
                render=lambda essay: _members_essay_page(request, essay),
            )
            if served is not None:
                return served
    if (variant := everyones_variant(request)) is not None:
        cached = pages.everyones_page_cached(request, slug=slug, variant=variant)
        if cached is not None:
            return cached
        essay = _published_essay(slug)
        return pages.everyones_page(
            request,
            essay=essay,
            variant=variant,
            template="discussion/essay_detail.html",
            context=lambda: _essay_page_context(request, essay),
        )
    essay = _published_essay(slug)
    return render(request, "discussion/essay_detail.html", _essay_page_context(request, essay))


def _essay_page_context(request, essay) -> dict:
    return {
        "essay": essay,
        "essay_body": _essay_body(essay),
        **_region_context(request, essay=essay),
        **_earlier_versions(request, essay),
    }


def _essay_body(essay) -> str:
    return pages.cached_fragment(
        essay, "body", "discussion/_essay_body.html", lambda: _essay_body_context(essay)
    )


def _members_essay_page(request, essay) -> tuple[str, dict[int, int | None], bool]:
    """The essay page as every signed-in reader who may post shares it, its personal places
    marked (member_pages.py), the author of each comment on it, and whether it is worth
    keeping (not a page past the end of the discussion)."""
    earlier_html, earlier = pages.members_earlier_versions(
        request, essay=essay, load=lambda: orphaned_threads(essay=essay), personalise=False
    )
    region = _region_context(request, essay=essay, generic=True)
    context = {
        "essay": essay,
        "essay_body": _essay_body(essay),
        **region,
        "earlier_versions_html": earlier_html,
        # Nothing of the reader who happens to ask first: their places are marked.
        **pages.generic_member_context(),
    }
    html = render_to_string("discussion/essay_detail.html", context, request=request)
    past_the_end = region["page"].number > 1 and not region["threads_html"]
    return html, {**region["shared_authors"], **earlier.authors}, not past_the_end


def _earlier_versions(request, essay) -> dict:
    """The threads on paragraphs a revision retired: shared by most signed-in readers, as
    the page's threads are (see _threads)."""
    if _shares_threads(request, essay=essay, focus=None):
        html, _rendering = pages.members_earlier_versions(
            request, essay=essay, load=lambda: orphaned_threads(essay=essay)
        )
        return {"earlier_versions_html": html}
    return {"orphaned": orphaned_threads(essay=essay, viewer=request.user)}


def _essay_body_context(essay) -> dict:
    paragraphs = list(essay.paragraphs.live().order_by("position"))
    margins = margins_by_paragraph(essay)
    # Beside the busiest paragraph still in the essay (a retired one's threads are elsewhere).
    busiest = max((margins[p.pk].count for p in paragraphs if p.pk in margins), default=0)
    for paragraph in paragraphs:
        margin = margins.get(paragraph.pk, Margin())
        paragraph.comment_count = margin.count
        paragraph.heat = heat_level(margin.count, busiest)
        paragraph.passages = (
            json.dumps([{"quote": q, "prefix": p} for q, p in margin.passages], ensure_ascii=False)
            if margin.passages
            else ""
        )
        paragraph.essay = essay
    return {
        "body_paragraphs": [p for p in paragraphs if p.kind != Paragraph.Kind.FOOTNOTE],
        "footnotes": [p for p in paragraphs if p.kind == Paragraph.Kind.FOOTNOTE],
        "quote_context": QUOTE_CONTEXT,
    }


def paragraph_detail(request, slug, key):
    variant = everyones_variant(request, key)
    everyones = variant is not None
    if everyones:
        cached = pages.everyones_page_cached(request, slug=slug, variant=variant)
        if cached is not None:
            return cached
    essay = _published_essay(slug)
    paragraph = get_object_or_404(essay.paragraphs.commentable(), key=key)
    if not paragraph.is_live:
        # A link from before a revision still leads somewhere: to the paragraph it was
        # joined into, to its threads under "On earlier versions", or to the last revision
        # that had it.
        if (successor := paragraph.live_successor()) is not None:
            return redirect(successor)
        if Comment.objects.filter(paragraph=paragraph).exists():
            return redirect(f"{essay.get_absolute_url()}#{paragraph.anchor}")
        revision = reverse(
            "essays:revision_detail",
            kwargs={"slug": essay.slug, "number": paragraph.retired_in - 1},
        )
        return redirect(f"{revision}#{paragraph.anchor}")
    paragraph.essay = essay
    if everyones:
        return pages.everyones_page(
            request,
            essay=essay,
            variant=variant,
            template="discussion/paragraph_detail.html",
            context=lambda: _paragraph_page_context(request, essay, paragraph),
        )
    context = _paragraph_page_context(request, essay, paragraph)
    return render(request, "discussion/paragraph_detail.html", context)


def _paragraph_page_context(request, essay, paragraph) -> dict:
    neighbours = {
        p.position: p
        for p in essay.paragraphs.live().filter(
            position__in=[paragraph.position - 1, paragraph.position + 1]
        )
    }
    return {
        "previous": neighbours.get(paragraph.position - 1),
        "next": neighbours.get(paragraph.position + 1),
        "quote_context": QUOTE_CONTEXT,
        **_region_context(request, essay=essay, paragraph=paragraph),
    }


def paragraph_thread(request, slug, key):
    """The paragraph's discussion as a panel for the reading page (htmx); else its page."""
    essay = _published_essay(slug)
    paragraph = _discussable_paragraph(essay, key)
    if not request.htmx:
        return redirect(paragraph)
    context = _region_context(request, essay=essay, paragraph=paragraph)
    return render(request, "discussion/_panel.html", context)


def _region_response(request, *, essay, paragraph, status=200, **extra):
    """The discussion region again, for htmx, wherever the request came from in it (the
    main form or a reply form): the region replaces itself, the margin count follows."""
    context = _region_context(request, essay=essay, paragraph=paragraph, **extra)
    if paragraph is not None:
        context["margin_count"] = published_count(essay=essay, paragraph=paragraph)
    response = render(request, "discussion/_region.html", context, status=status)
    response["HX-Retarget"] = f"#{context['region_id']}"
    response["HX-Reswap"] = "outerHTML"
    return response


@dataclass
class Submission:
    """What became of a comment form sent to us: its status, a preview, or the result of
    the write (None until something was written)."""

    form: CommentForm
    status: int = 200
    preview_html: str = ""
    retry_after: int | None = None
    written: Comment | None = None


def _submit(request, form, *, write, check=None, on_refusal=None) -> Submission:
    """The flow every comment form shares (a new comment, a reply, an edit): validate,
    then preview or write; a refusal becomes the form's error, the reader's text stays in
    the form, and the status says what happened."""
    submission = Submission(form)
    if request.method != "POST":
        return submission
    if not form.is_valid():
        submission.status = 400
        return submission
    body = form.cleaned_data["body"]
    try:
        if check is not None:
            check()
        if "preview" in request.POST:
            submission.preview_html = services.comment_preview(
                body=body, client=_preview_client(request)
            )
        else:
            submission.written = write(body)
    except Refused as refusal:
        form.add_error(None, refusal.message)
        submission.status, submission.retry_after = refusal.status, refusal.retry_after
        if on_refusal is not None:
            on_refusal(refusal, body)
    return submission


def _form_response(response, submission: Submission):
    if submission.retry_after:
        response["Retry-After"] = str(submission.retry_after)
    return response


def _compose(request, *, essay, paragraph=None, parent=None):
    """Show, preview or post a new comment or reply; every refusal keeps the reader's text."""
    draft_key = _draft_key(essay=essay, paragraph=paragraph, parent=parent)
    form = _comment_form(
        request,
        draft_key=draft_key,
        field_id=f"reply-{parent.pk}-body" if parent else f"{_region_id(paragraph)}-body",
        data=request.POST if request.method == "POST" else None,
    )

    def check_parent():
        if parent is not None and parent.status != Comment.Status.PUBLISHED:
            raise Refused(
                _("That comment is no longer there to reply to. Your text is kept here."),
                status=409,
            )

    def post(body):
        if not request.user.is_authenticated:
            _consume_anonymous_attempt(request)
        return services.comment_post(
            author=request.user,
            essay=essay,
            body=body,
            paragraph=paragraph,
            parent=parent,
            quote=form.cleaned_data["quote"] if parent is None else "",
            quote_prefix=form.cleaned_data["quote_prefix"],
            quote_suffix=form.cleaned_data["quote_suffix"],
        )

    def keep_draft(refusal, body):
        # Logging in or waiting out a limit: the text waits in the session.
        if refusal.status in (403, 429):
            _stash_draft(request, draft_key, body)

    submission = _submit(request, form, write=post, check=check_parent, on_refusal=keep_draft)
    if submission.written is not None:
        _drop_draft(request, draft_key)
        return _posted_response(request, essay=essay, comment=submission.written)
    if request.htmx and parent is None and request.method == "POST":
        response = _region_response(
            request, essay=essay, paragraph=paragraph, form=form, status=submission.status
        )
        return _form_response(response, submission)
    context = _compose_context(request, essay=essay, paragraph=paragraph, parent=parent)
    context.update(form=form, preview_html=submission.preview_html)
    template = "discussion/_compose_form.html" if request.htmx else "discussion/compose.html"
    return _form_response(render(request, template, context, status=submission.status), submission)


def _posted_response(request, *, essay, comment):
    """Where a reader lands after posting: the thread, with what happened to the comment."""
    if request.htmx and comment.paragraph and not comment.paragraph.is_live:
        # An orphaned thread has no region to refresh: go to its own page.
        messages.info(request, _posted_message(comment))
        response = HttpResponse(status=204)
        response["HX-Redirect"] = comment.get_absolute_url()
        return response
    in_long_thread = _place_in_long_thread(request, comment)
    if request.htmx and in_long_thread:
        # Past the replies its discussion shows: go to its thread's own page.
        messages.info(request, _posted_message(comment))
        response = HttpResponse(status=204)
        response["HX-Redirect"] = in_long_thread
        return response
    if request.htmx:
        return _region_response(
            request,
            essay=essay,
            paragraph=comment.paragraph,
            focus=comment,
            notice=_posted_message(comment),
        )
    messages.info(request, _posted_message(comment))
    return redirect(in_long_thread or _url_on_page_of_threads(request, comment))


def _place_in_long_thread(request, comment) -> str | None:
    """Where a reply is shown when its discussion's page does not show it (only a thread's
    first REPLIES_SHOWN replies are there): its thread's own page; else None."""
    if comment.parent_id is None:
        return None
    earlier = replies_before(comment, viewer=request.user)
    if earlier < REPLIES_SHOWN:
        return None
    url = reverse("discussion:comment_thread", kwargs={"pk": comment.thread_root_id})
    number = earlier // REPLIES_PER_PAGE + 1
    return f"{url}{f'?page={number}' if number > 1 else ''}#{comment.anchor}"


def _url_in_place(request, comment) -> str:
    """The comment in its discussion, on the page of threads that holds it (or, for a reply
    past the replies shown there, on its thread's own page)."""
    return _place_in_long_thread(request, comment) or _url_on_page_of_threads(request, comment)


def _url_on_page_of_threads(request, comment) -> str:
    url = comment.get_absolute_url()
    number = page_number_of(comment, viewer=request.user)
    if number == 1:
        return url
    address, anchor = url.split("#")
    return f"{address}?page={number}#{anchor}"


def _compose_context(request, *, essay, paragraph, parent) -> dict:
    """What the compose form shows around the text: the parent, the way to log in and
    back, and whether this reader may post."""
    if parent is not None:
        return_to = request.path
    elif paragraph is not None:
        return_to = f"{paragraph.get_absolute_url()}#discussion-{paragraph.key}"
    else:
        return_to = f"{essay.get_absolute_url()}#discussion"
    suspension = policy().posting_refusal(request.user)
    return {
        "essay": essay,
        "paragraph": paragraph,
        "parent": parent,
        "parent_readable": parent is not None and can_read_text(parent, request.user),
        "suspension": suspension,
        "posting": _posting_state(request, essay, suspension),
        "login_url": _login_url(return_to),
        "signup_url": _signup_url(return_to),
        "post_url": request.path,
        "enhanced": bool(request.htmx),
    }


def _posted_message(comment) -> str:
    """What happened to a comment just posted, in the reader's words."""
    if comment.status == Comment.Status.PUBLISHED:
        return _("Your comment is published.")
    reasons = getattr(comment, "hold_reasons", None)
    because = (
        _(" because %(reasons)s") % {"reasons": _(", and ").join(_(r) for r in reasons)}
        if reasons
        else ""
    )
    return _(
        "Your comment is saved and waits for a moderator’s review%(because)s. Until it is "
        "approved only you can see it; you will be told of the decision."
    ) % {"because": because}


def _preview_client(request) -> str:
    """Whom a preview counts against: the member, or the address of a visitor."""
    if request.user.is_authenticated:
        return f"member:{request.user.pk}"
    return f"address:{client_address(request)}"


def _consume_anonymous_attempt(request) -> None:
    services.consume_or_refuse(
        "anonymous-post",
        client_address(request),
        settings.ANONYMOUS_POST_RATE_LIMITS,
        _("Too many attempts from your address. Try again in %(seconds)s seconds."),
    )


def essay_comment(request, slug):
    return _compose(request, essay=_published_essay(slug))


def paragraph_comment(request, slug, key):
    # The paragraph and its essay in one query (what _published_essay and
    # _discussable_paragraph ask in two): every new comment on a paragraph comes here.
    paragraph = discussable_paragraph(slug=slug, key=key)
    return _compose(request, essay=paragraph.essay, paragraph=paragraph)


def comment_reply(request, pk):
    if request.method == "POST":
        # A reply posted as its parent left the page is refused with the reader's text kept,
        # and without the parent's text (see `_compose`).
        parent = access_comment(viewer=request.user, comment_id=pk)
    else:
        parent = access_comment_for_reply(viewer=request.user, comment_id=pk)
    return _compose(request, essay=parent.essay, paragraph=parent.paragraph, parent=parent)


def comment_permalink(request, pk):
    """Every comment that exists has this address: it leads to the comment in its place, or,
    for a paragraph a revision retired, shows the comment with the text it discussed."""
    comment = access_comment(viewer=request.user, comment_id=pk)
    if comment.paragraph_id is None or comment.paragraph.is_live:
        return redirect(_url_in_place(request, comment))
    essay = comment.essay
    context = {
        "comment": comment,
        "essay": essay,
        "paragraph": comment.paragraph,
        "last_revision": comment.paragraph.retired_in - 1,
        "thread": thread_of(comment, viewer=request.user),
        "moderator": policy().is_moderator(request.user),
        "focus_comment_id": comment.pk,
    }
    return render(request, "discussion/comment_context.html", context)


def comment_thread(request, pk):
    """A thread longer than its discussion's page shows: its first comment, then every reply
    in the order written, a page at a time, each naming the comment it answers."""
    comment = access_comment(viewer=request.user, comment_id=pk)
    if comment.parent_id is not None:
        return redirect("discussion:comment_thread", pk=comment.thread_root_id)
    if not comment.is_placeholder and not can_read_text(comment, request.user):
        # Awaiting review: its place shows it only to those who may read it.
        return redirect(_url_in_place(request, comment))
    moderator_view = policy().is_moderator(request.user)
    context = {
        "essay": comment.essay,
        "root": ThreadNode(
            comment,
            as_placeholder=not moderator_view and comment.is_placeholder_for(request.user),
            thread_locked=comment.locked_at is not None,
        ),
        "page": thread_replies_page(comment, viewer=request.user, number=_page_number(request)),
        "place_url": _url_in_place(request, comment),
        "moderator": moderator_view,
        "paragraph": comment.paragraph,
        **_addressing_context(request, comment),
    }
    return render(request, "discussion/thread_detail.html", context)


def _addressing_context(request, root) -> dict:
    """The editor's control on a thread's page: the revisions that may have taken it up.
    Nothing for anyone else (the page is rendered for each reader, never shared)."""
    if not _may_mark_addressed(request, root.essay):
        return {}
    return {
        "may_mark_addressed": True,
        "revisions_after": list(revisions_after(root).values_list("number", flat=True)),
    }


@login_required
def comment_edit(request, pk):
    """Edit one's comment: on its own page, or (htmx) in place, under the comment, whose
    card is replaced by the edited one."""
    comment = services.access_comment_for_edit(user=request.user, comment_id=pk)
    form = CommentForm(
        request.POST if request.method == "POST" else None,
        initial={"body": comment.body},
        field_id=f"edit-{comment.pk}-body",
    )
    submission = _submit(
        request,
        form,
        write=lambda body: services.comment_edit(comment=comment, editor=request.user, body=body),
    )
    if submission.written is not None:
        if request.htmx:
            return _edited_card(request, submission.written)
        if submission.written.is_pending:
            messages.info(request, _posted_message(submission.written))
        return redirect(submission.written.get_absolute_url())
    context = {
        "comment": comment,
        "form": form,
        "essay": comment.essay,
        "preview_html": submission.preview_html,
        "enhanced": bool(request.htmx),
    }
    template = (
        "discussion/_comment_edit_form.html" if request.htmx else "discussion/comment_edit.html"
    )
    response = render(request, template, context, status=submission.status)
    return _form_response(response, submission)


def _edited_card(request, comment):
    """The comment's card as it now reads, for htmx to put in place of the one shown (its
    replies stay as they are), with the focus on it."""
    thread_root = comment.root if comment.root_id else comment
    node = ThreadNode(
        comment,
        parent=ThreadNode(comment.parent) if comment.parent_id else None,
        by_moderator=comment.author_id in policy().moderator_ids(),
        thread_locked=thread_root.locked_at is not None,
    )
    context = {
        "comment": comment,
        "node": node,
        "essay": comment.essay,
        "moderator": policy().is_moderator(request.user),
        "focus_comment_id": comment.pk,
    }
    response = render(request, "discussion/_comment.html", context)
    card = f"#{comment.anchor} > .comment-card"
    response["HX-Retarget"] = card
    response["HX-Reswap"] = "outerHTML"
    response["HX-Reselect"] = card
    return response


@login_required
def comment_delete(request, pk):
    comment = services.access_comment_for_edit(user=request.user, comment_id=pk)
    if request.method == "POST":
        services.comment_delete(comment=comment, actor=request.user)
        return redirect(comment.get_absolute_url())
    return render(request, "discussion/comment_delete.html", {"comment": comment})


@login_required
@require_POST
def thread_addressed(request, pk):
    """The essay's editor marks a thread addressed in a revision, or (`unmark`) takes the
    mark back; then the thread's page again."""
    root = services.access_thread_for_addressing(editor=request.user, comment_id=pk)
    back = f"{reverse('discussion:comment_thread', kwargs={'pk': root.pk})}#addressed"
    try:
        if "unmark" in request.POST:
            services.thread_unmark_addressed(editor=request.user, comment=root)
            messages.success(request, _("The thread is no longer marked addressed."))
        else:
            number = parse_id(request.POST.get("revision", ""))
            if number is None:
                raise Refused(_("Choose the revision that took up this thread."), status=400)
            services.thread_mark_addressed(editor=request.user, comment=root, revision=number)
            messages.success(
                request,
                _("The thread is marked addressed in revision %(number)s.") % {"number": number},
            )
    except Refused as refusal:
        return refusal_response(request, refusal, back_url=back)
    return redirect(back)


@require_POST
def comment_preview(request):
    """The exact HTML a body would publish as (htmx); no login needed, nothing stored."""
    form = CommentForm(request.POST)
    message, preview_html, status, retry_after = "", "", 200, None
    if form.is_valid():
        try:
            preview_html = services.comment_preview(
                body=form.cleaned_data["body"], client=_preview_client(request)
            )
        except Refused as refusal:
            message, status, retry_after = refusal.message, refusal.status, refusal.retry_after
    else:
        message, status = _("Write something to preview."), 400
    response = render(
        request,
        "discussion/_preview.html",
        {"preview_html": preview_html, "message": message},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _annotations_etag(request, slug) -> str | None:
    """Names the annotations of a published essay by its discussion_version (from the
    cache, as the reading page does); none for no published essay."""
    version = essay_state(slug)
    return None if version is None else f"annotations-{version}"


@require_safe
@condition(etag_func=_annotations_etag)
def essay_annotations(request, slug):
    """Every published comment on the essay as W3C Web Annotations (JSON-LD): one
    AnnotationCollection (forum/discussion/annotations.py). A client holding the current
    version (its ETag names the essay's discussion_version) is answered 304."""
    essay = _published_essay(slug)
    return JsonResponse(
        annotations.essay_annotations(essay),
        content_type=annotations.CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


# Live threads: an open discussion asks whether others have written in it since it was
# shown (static/js/discussion.js polls; readers without JavaScript see nothing of it).
#
# A page must read the same each time it is served (pages.py), so a discussion carries no
# clock: its first question has no `since`, and the answer (X-Live-Since) names the moment
# the next questions count from, in microseconds since the epoch.

# The largest moment asked about is in the year 9999.
_LAST_MOMENT = 253_402_300_799_999_999
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(micros: int | None) -> datetime | None:
    if micros is None or micros > _LAST_MOMENT:
        return None
    return _EPOCH + timedelta(microseconds=micros)


def _discussable_keys(slug: str, version: int) -> frozenset[str]:
    """The keys of the paragraphs of a published essay that have a discussion, kept in the
    cache for each discussion_version (a revision moves it): one query per version, shared
    by every reader's polls."""
    key = f"live-keys:{pages.RELEASE}:{slug}"
    made_at, keys = cache.get(key, (None, None))
    if made_at != version:
        keys = frozenset(
            Paragraph.objects.live()
            .commentable()
            .filter(essay__in=Essay.objects.published().filter(slug=slug))
            .values_list("key", flat=True)
        )
        cache.set(key, (version, keys), pages.PAGE_SECONDS)
    return keys


def _live_etag(request, *, slug: str, key: str | None, since: int, version: int) -> str:
    """Names an answer as this browser got it: the essay's discussion_version, the moment
    asked about, and whose answer it is. The session cookie stands for the viewer, so that
    no session or user is loaded to compare: a 304 asks nothing of the database. (A member
    made or unmade a moderator keeps the count they had until the discussion next changes:
    a number, never a text.)"""
    viewer = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    named = ":".join([pages.RELEASE, slug, key or "", str(since), str(version), viewer])
    return quote_etag(salted_hmac("live-threads", named).hexdigest()[:32])


@require_safe
def new_comments(request, slug, key=None):
    """Whether others have written in a paragraph's (or the whole essay's) discussion.

    Without `since`: an empty 204 whose X-Live-Since header names the moment to ask from.
    With `since=<moment>`: "N new comments: Show" for the comments others wrote since then
    that this viewer may read, or an empty 204; a client sending back the ETag it was given
    is answered 304 while nothing has changed. Both answer from the essay's cached state,
    without a database query. X-Poll-Interval says how many seconds to wait before asking
    again."""
    since_text = request.GET.get("since")
    micros = parse_id(since_text)
    since = _moment(micros)
    if since_text is not None and since is None:
        raise Refused(_("Ask with since=<microseconds since 1970>, or without it to begin."))
    version = essay_state(slug, known=cache.get(state_key(slug)))
    if version is None or (key is not None and key not in _discussable_keys(slug, version)):
        raise Http404("No such discussion.")
    if since is None:
        # A comment written between the rendering and this first question (the time a page
        # takes to load) is not announced; as ever, a reload shows it.
        response = HttpResponse(status=204)
        response["X-Live-Since"] = str((timezone.now() - _EPOCH) // timedelta(microseconds=1))
    else:
        etag = _live_etag(request, slug=slug, key=key, since=micros, version=version)
        response = get_conditional_response(request, etag=etag)
        if response is None:
            essay = _published_essay(slug)
            paragraph = _discussable_paragraph(essay, key) if key is not None else None
            count = new_comments_count(
                essay=essay, paragraph=paragraph, viewer=request.user, since=since
            )
            response = HttpResponse(
                render_to_string("discussion/_new_comments.html", {"count": count})
                if count
                else "",
                status=200 if count else 204,
            )
        response["ETag"] = etag
    # Private (it counts what this viewer may read), and never used without asking.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    response["X-Poll-Interval"] = str(settings.LIVE_THREADS_POLL_SECONDS)
    return response
