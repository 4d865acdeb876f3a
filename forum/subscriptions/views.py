from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from essays.models import Essay
from forum.discussion.access import plain_excerpt_for, viewer_is_moderator
from forum.discussion.models import Comment
from forum.ids import parse_id
from forum.redirects import safe_next_url
from forum.refusals import Refused

from . import services
from .forms import NotificationSettingsForm
from .models import Notification, Subscription


def _back(request, fallback):
    return redirect(safe_next_url(request, fallback))


@login_required
@require_POST
def subscription_set(request):
    """Follow, mute or reset one target, from a plain form or htmx."""
    ids = {}
    for name in ("essay", "paragraph", "thread"):
        value = request.POST.get(name, "")
        ids[name] = parse_id(value)
        if value and ids[name] is None:
            raise Refused(_("That is not something you can follow."))
    level = request.POST.get("level") or None
    if ids["essay"] is None or level not in (
        None,
        Subscription.Level.FOLLOW,
        Subscription.Level.MUTE,
    ):
        raise Refused(_("Choose an essay, a paragraph or a thread, and a level."))
    essay = get_object_or_404(Essay.objects.published(), pk=ids["essay"])
    paragraph = thread = None
    # Only what readers can see now can be followed; what a revision retired or a moderator
    # removed can still be muted or let go.
    following = level == Subscription.Level.FOLLOW
    if ids["paragraph"]:
        paragraphs = essay.paragraphs.live() if following else essay.paragraphs.all()
        paragraph = get_object_or_404(paragraphs, pk=ids["paragraph"])
    if ids["thread"]:
        threads = Comment.objects.filter(essay=essay, parent=None)
        if following:
            threads = threads.filter(status=Comment.Status.PUBLISHED)
        thread = get_object_or_404(threads, pk=ids["thread"])
    services.subscription_set(
        user=request.user, essay=essay, paragraph=paragraph, thread=thread, level=level
    )
    if request.htmx:
        context = {"essay": essay, "paragraph": paragraph, "thread": thread, "state": level or ""}
        return render(request, "subscriptions/_follow.html", context)
    return _back(request, "subscriptions:list")


@login_required
def subscription_list(request):
    preferences = services.settings_for(request.user)
    form = NotificationSettingsForm(request.POST or None, instance=preferences)
    if request.method == "POST" and form.is_valid():
        services.notification_settings_set(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your notification settings are saved."))
        return redirect("subscriptions:list")
    subscriptions = list(
        Subscription.objects.filter(user=request.user)
        .select_related(
            *("essay", "paragraph", "thread", "thread__author", "thread__essay"),
            "thread__paragraph",
        )
        .order_by("essay__title", "-created")
    )
    moderator = viewer_is_moderator(request.user)
    for subscription in subscriptions:
        if subscription.thread_id:
            # Its first words name a thread: a reader may follow many by the same author.
            subscription.first_words = plain_excerpt_for(
                subscription.thread, request.user, moderator=moderator
            )
    return render(
        request,
        "subscriptions/list.html",
        {"form": form, "subscriptions": subscriptions},
        status=400 if form.errors else 200,
    )


@login_required
def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user).select_related(
        *("comment", "comment__essay", "comment__paragraph", "comment__author"),
        *("comment__parent__essay", "comment__parent__author"),
    )
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    # The comment's state now decides, not its state when the notification was made.
    services.quote_notifications(page.object_list, request.user)
    return render(request, "subscriptions/notifications.html", {"page": page})


@login_required
def notification_open(request, pk):
    """Follow a notification to its comment; opening it is what marks it read."""
    notification = get_object_or_404(
        Notification.objects.select_related("comment__essay", "comment__paragraph"),
        pk=pk,
        recipient=request.user,
    )
    services.notifications_mark_read(user=request.user, notification=notification)
    if notification.comment is None:  # news about the account: what it is held to
        return redirect(notification.guidelines_url)
    return redirect(notification.comment.get_absolute_url())


@login_required
@require_POST
def notifications_read_all(request):
    services.notifications_mark_read(user=request.user)
    messages.success(request, _("All notifications are marked read."))
    return _back(request, "subscriptions:notifications")


@login_required
def bell(request):
    """The bell alone, for htmx to refresh the count without a reload."""
    return render(request, "subscriptions/_bell.html")


@csrf_exempt  # The token in the address is the credential (RFC 8058 one-click unsubscribe).
def unsubscribe(request, token):
    link = services.access_unsubscribe_link(token)
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        scope = "all" if one_click else request.POST.get("scope", "all")
        done = services.unsubscribe(link=link, scope=scope)
        return render(request, "subscriptions/unsubscribed.html", {"link": link, "done": done})
    # A GET never changes anything: mail scanners follow links.
    return render(request, "subscriptions/unsubscribe.html", {"link": link})
