"""The moderation pages. Every view checks the role; every service checks it again."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from essays.models import Essay, Paragraph
from forum.discussion.access import can_read_text
from forum.discussion.models import Comment
from forum.ids import parse_id
from forum.redirects import safe_next_url
from forum.refusals import Refused, refusal_response

from . import reads, services
from .forms import (
    DecisionForm,
    LevelForm,
    LogFilterForm,
    ReportForm,
    RestrictForm,
    WordRuleForm,
)
from .models import Decision, Restriction, WordRule
from .policy import is_moderator
from .undo import decision_undo

User = get_user_model()

QUEUES = {
    "reported": gettext_lazy("Reported"),
    "pending": gettext_lazy("Pending"),
    "all": gettext_lazy("All waiting"),
    "decided": gettext_lazy("Decided recently"),
}


def moderator_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_moderator(request.user):
            return render(request, "403.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _back(request, fallback):
    return redirect(safe_next_url(request, fallback))


def _refused(request, refusal, fallback):
    """A refused step answers with its own status (403, 409, ...) and says why, with the
    way back; nothing was changed."""
    return refusal_response(request, refusal, back_url=safe_next_url(request, fallback))


# Reports (any verified reader) ------------------------------------------------------------


@login_required
def report(request, pk):
    # A comment hidden a moment ago by others' reports still takes this reader's report.
    comment = get_object_or_404(
        Comment.objects.select_related("essay", "paragraph", "author"),
        pk=pk,
        status__in=[Comment.Status.PUBLISHED, Comment.Status.HIDDEN],
        essay__in=Essay.objects.published(),
    )
    form = ReportForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST":
        if form.is_valid():
            try:
                services.flag_create(
                    reporter=request.user,
                    comment=comment,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
            except Refused as refusal:
                form.add_error(None, refusal.message)
                status, retry_after = refusal.status, refusal.retry_after
            else:
                messages.success(
                    request, _("Thank you: your report was received. Moderators will look at it.")
                )
                return redirect(comment.get_absolute_url())
        else:
            status = 400
    context = {
        "comment": comment,
        "form": form,
        "readable": can_read_text(comment, request.user),
    }
    response = render(request, "moderation/report.html", context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


# Queues --------------------------------------------------------------------------------


# A moderator's latest decisions, kept in their session so that the queue page shows each
# outcome with its undo after a plain form's redirect (with htmx, the card itself does).
LATEST_DECISIONS = "moderation_latest_decisions"
LATEST_DECISIONS_SHOWN = 5


def _remember_decision(request, decision) -> None:
    latest = [decision.pk, *request.session.get(LATEST_DECISIONS, [])]
    request.session[LATEST_DECISIONS] = latest[:LATEST_DECISIONS_SHOWN]


def _wants_card(request) -> bool:
    """An action taken on a queue card with htmx: the answer replaces the card."""
    return bool(request.htmx and request.POST.get("card"))


OUTCOME = "moderation/_queue_outcome.html"


def _card(request, template, status=200, **context):
    """A queue card as the answer; its forms come back to the queue page it is on."""
    queue_url = safe_next_url(request, "moderation:index")
    current = request.htmx.current_url_abs_path
    if current and current.startswith(reverse("moderation:index")):
        queue_url = current
    return render(request, template, {**context, "queue_url": queue_url}, status=status)


@moderator_required
def index(request):
    queue = request.GET.get("queue", "reported")
    if queue not in QUEUES:
        queue = "reported"
    context = {
        "queue": queue,
        "queues": QUEUES,
        "counts": reads.queue_counts(),
        "form": DecisionForm(),
        "essays": Essay.objects.published(),
    }
    if queue == "decided":
        context["decisions"] = reads.recent_decisions()
    else:
        context["page"] = reads.queue_page(queue, request.GET.get("page"))
        context["latest"] = reads.decisions_by_ids(request.session.get(LATEST_DECISIONS, []))
    return render(request, "moderation/index.html", context)


@moderator_required
@require_POST
def bulk(request):
    form = DecisionForm(request.POST)
    ids = [parse_id(pk) for pk in request.POST.getlist("comments")]
    if None in ids:
        return _refused(request, Refused(_("Those are not comments.")), "moderation:index")
    action = request.POST.get("action")
    if not ids or action not in ("approve", "remove") or not form.is_valid():
        refusal = Refused(_("Choose comments and an action (a removal needs a public reason)."))
        return _refused(request, refusal, "moderation:index")
    try:
        done = services.comments_decide_in_bulk(
            actor=request.user,
            comment_ids=ids,
            # What each comment's status was on the moderator's page: a decision made
            # meanwhile stops the whole batch.
            seen_statuses={pk: request.POST.get(f"seen-{pk}") for pk in ids},
            action=action,
            reason_code=form.cleaned_data["reason_code"],
            reason=form.cleaned_data["reason"],
        )
    except Refused as refusal:
        return _refused(request, refusal, "moderation:index")
    messages.success(request, _("%(count)s comments done.") % {"count": done})
    return _back(request, "moderation:index")


# One comment ----------------------------------------------------------------------------


@moderator_required
def comment_detail(request, pk):
    comment = get_object_or_404(
        Comment.objects.select_related("essay", "paragraph", "author", "parent", "parent__author"),
        pk=pk,
    )
    context = {
        **reads.comment_record(comment),
        "form": DecisionForm(),
        "restrict_form": RestrictForm(),
    }
    return render(request, "moderation/comment.html", context)


COMMENT_ACTIONS = {
    "approve": lambda actor, comment, data: services.comment_approve(
        actor=actor,
        comment=comment,
        reason=data["reason"],
        public_reason=data["public_reason"],
        seen_status=data["seen_status"],
    ),
    "remove": lambda actor, comment, data: services.comment_remove(
        actor=actor,
        comment=comment,
        reason_code=data["reason_code"],
        reason=data["reason"],
        seen_status=data["seen_status"],
    ),
    "restore": lambda actor, comment, data: services.comment_restore(
        actor=actor,
        comment=comment,
        reason=data["reason"],
        public_reason=data["public_reason"],
        seen_status=data["seen_status"],
    ),
    "lock": lambda actor, comment, data: services.thread_lock_set(
        actor=actor, comment=comment, locked=True, reason=data["reason"]
    ),
    "unlock": lambda actor, comment, data: services.thread_lock_set(
        actor=actor, comment=comment, locked=False, reason=data["reason"]
    ),
}


@moderator_required
@require_POST
def comment_action(request, pk, action):
    comment = get_object_or_404(Comment.objects.select_related("author"), pk=pk)
    if action not in COMMENT_ACTIONS:
        raise Http404("No such action.")
    form = DecisionForm(request.POST)
    fallback = reverse("moderation:comment", kwargs={"pk": comment.pk})
    try:
        if not form.is_valid():
            raise Refused(" ".join(error for errors in form.errors.values() for error in errors))
        decision = COMMENT_ACTIONS[action](request.user, comment, form.cleaned_data)
    except Refused as refusal:
        if _wants_card(request):
            return _card(request, OUTCOME, refusal.status, comment=comment, refusal=refusal)
        return _refused(request, refusal, fallback)
    _remember_decision(request, decision)
    if _wants_card(request):
        return _card(request, OUTCOME, comment=comment, decision=decision)
    messages.success(request, _("Done: %(action)s.") % {"action": decision.get_action_display()})
    return _back(request, fallback)


@moderator_required
@require_POST
def thread_reattach(request, pk):
    comment = get_object_or_404(Comment, pk=pk)
    fallback = reverse("moderation:comment", kwargs={"pk": comment.pk})
    paragraph_id = parse_id(request.POST.get("paragraph"))
    if paragraph_id is None:
        refusal = Refused(_("Choose the paragraph to attach the thread to."), status=400)
        return _refused(request, refusal, fallback)
    paragraph = get_object_or_404(Paragraph, pk=paragraph_id)
    try:
        services.thread_reattach(
            actor=request.user,
            comment=comment,
            paragraph=paragraph,
            reason=request.POST.get("reason", "")[:1000],
        )
    except Refused as refusal:
        return _refused(request, refusal, fallback)
    messages.success(request, _("The thread now sits on the chosen paragraph."))
    return _back(request, fallback)


ESSAY_ACTIONS = {
    "close": lambda actor, essay, reason: services.essay_comments_set(
        actor=actor, essay=essay, open_=False, reason=reason
    ),
    "reopen": lambda actor, essay, reason: services.essay_comments_set(
        actor=actor, essay=essay, open_=True, reason=reason
    ),
    "premoderate": lambda actor, essay, reason: services.essay_premoderation_set(
        actor=actor, essay=essay, premoderated=True, reason=reason
    ),
    "stop-premoderating": lambda actor, essay, reason: services.essay_premoderation_set(
        actor=actor, essay=essay, premoderated=False, reason=reason
    ),
}


@moderator_required
@require_POST
def essay_action(request, pk, action):
    essay = get_object_or_404(Essay, pk=pk)
    if action not in ESSAY_ACTIONS:
        raise Http404("No such action.")
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        decision = ESSAY_ACTIONS[action](request.user, essay, form.cleaned_data.get("reason", ""))
    except Refused as refusal:
        return _refused(request, refusal, "moderation:index")
    messages.success(
        request,
        _("Done: %(action)s (“%(essay)s”).")
        % {"action": decision.get_action_display(), "essay": essay.title},
    )
    return _back(request, "moderation:index")


# Authors --------------------------------------------------------------------------------


@moderator_required
def author_detail(request, pk):
    author = get_object_or_404(User, pk=pk)
    context = {
        **reads.author_record(author),
        "restrict_form": RestrictForm(),
        "form": DecisionForm(),
    }

    return render(request, "moderation/author.html", context)


@moderator_required
@require_POST
def author_restrict(request, pk):
    author = get_object_or_404(User, pk=pk)
    form = RestrictForm(request.POST)
    fallback = reverse("moderation:author", kwargs={"pk": author.pk})
    if not form.is_valid():
        refusal = Refused(_("Choose a restriction and its length."))
        return _refused(request, refusal, fallback)
    try:
        services.user_restrict(actor=request.user, user=author, **form.cleaned_data)
    except Refused as refusal:
        return _refused(request, refusal, fallback)
    messages.success(request, _("The restriction is in place."))
    return _back(request, fallback)


@moderator_required
@require_POST
def author_lift(request, pk, kind):
    author = get_object_or_404(User, pk=pk)
    if kind not in Restriction.Kind.values:
        raise Http404("No such restriction.")
    fallback = reverse("moderation:author", kwargs={"pk": author.pk})
    try:
        services.user_restriction_lift(
            actor=request.user,
            user=author,
            kind=kind,
            reason=request.POST.get("reason", "")[:1000],
            public_reason=request.POST.get("public_reason", "")[:1000],
        )
    except Refused as refusal:
        return _refused(request, refusal, fallback)
    messages.success(request, _("Lifted."))
    return _back(request, fallback)


@moderator_required
@require_POST
def author_level(request, pk):
    author = get_object_or_404(User, pk=pk)
    form = LevelForm(request.POST)
    fallback = reverse("moderation:author", kwargs={"pk": author.pk})
    if not form.is_valid():
        return _refused(request, Refused(_("Choose a trust level, or “automatic”.")), fallback)
    try:
        services.author_level_set(actor=request.user, user=author, **form.cleaned_data)
    except Refused as refusal:
        return _refused(request, refusal, fallback)
    messages.success(request, _("The trust level is set."))
    return _back(request, fallback)


# The audit log --------------------------------------------------------------------------


@moderator_required
def log(request):
    form = LogFilterForm(request.GET or None, moderators=reads.moderators_in_the_log())
    if form.is_bound and not form.is_valid():
        # A filter that cannot be read lists nothing, rather than the whole log as if
        # it had been applied.
        context = {"form": form, "page": Paginator([], 50).get_page(1), "filters": ""}
        return render(request, "moderation/log.html", context, status=400)
    filters = form.cleaned_data if form.is_bound else {}
    decisions = reads.log_decisions(
        actor=filters.get("moderator", ""),
        action=filters.get("action", ""),
        author=filters.get("author", ""),
        essay=filters.get("essay"),
        since=filters.get("since"),
        until=filters.get("until"),
    )
    page = Paginator(decisions, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "moderation/log.html", {"form": form, "page": page, "filters": query.urlencode()}
    )


@moderator_required
@require_POST
def undo(request, pk):
    decision = get_object_or_404(Decision.objects.select_related("comment__author"), pk=pk)
    try:
        undoing = decision_undo(
            actor=request.user,
            decision=decision,
            reason=request.POST.get("reason", "")[:1000],
            public_reason=request.POST.get("public_reason", "")[:1000],
        )
    except Refused as refusal:
        if _wants_card(request) and decision.comment_id:
            return _card(
                request, OUTCOME, refusal.status, comment=decision.comment, refusal=refusal
            )
        return _refused(request, refusal, "moderation:log")
    if _wants_card(request) and decision.comment_id:
        # Back in its queue: the card again, ready for another decision.
        card = reads.queue_card(decision.comment_id)
        if card is not None:
            return _card(request, "moderation/_queue_item.html", comment=card)
        return _card(request, OUTCOME, comment=decision.comment, decision=undoing)
    messages.success(request, _("Undone: %(action)s.") % {"action": decision.get_action_display()})
    return _back(request, "moderation:log")


# Word lists -----------------------------------------------------------------------------


@moderator_required
def words(request):
    """The watched and blocked lists: add a word, move it to the other list, take it off."""
    form = WordRuleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                decision = services.word_rule_set(actor=request.user, **form.cleaned_data)
            except Refused as refusal:
                form.add_error(None, refusal.message)
                status = refusal.status
            else:
                messages.success(
                    request,
                    _("“%(word)s” is on the %(list)s list.")
                    % {"word": decision.facts["word"], "list": decision.facts["kind"]},
                )
                return redirect("moderation:words")
        else:
            status = 400
    context = {**reads.word_rules(), "form": form, "changes": reads.word_list_changes()}
    return render(request, "moderation/words.html", context, status=status)


@moderator_required
@require_POST
def word_remove(request, pk):
    rule = get_object_or_404(WordRule, pk=pk)
    try:
        services.word_rule_remove(
            actor=request.user, rule=rule, reason=request.POST.get("reason", "")[:1000]
        )
    except Refused as refusal:
        return _refused(request, refusal, "moderation:words")
    messages.success(request, _("“%(word)s” is off the lists.") % {"word": rule.word})
    return redirect("moderation:words")


# What authors are told --------------------------------------------------------------------


@login_required
def notices(request):
    """Moderation outcomes for the reader's own comments and account, newest first."""
    decisions = reads.notices_for(request.user)
    page = Paginator(decisions, 30).get_page(request.GET.get("page"))
    reads.point_to_guidelines(page.object_list)
    return render(request, "moderation/notices.html", {"page": page})
