import json

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from forum.discussion.access import access_comment
from forum.discussion.threads import published_comments_by

from . import services
from .claims import claimable_comments
from .exports import user_export
from .forms import AccountDeleteForm, DisplayNameForm
from .models import User


@login_required
def account_settings(request):
    form = DisplayNameForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            services.user_set_display_name(
                user=request.user, display_name=form.cleaned_data["display_name"]
            )
            messages.success(request, _("Your display name is saved."))
            return redirect("accounts:settings")
        return render(request, "accounts/settings.html", {"form": form}, status=400)
    return render(request, "accounts/settings.html", {"form": form})


def profile(request, pk):
    member = get_object_or_404(User, pk=pk, is_active=True)
    page = Paginator(published_comments_by(member), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/profile.html", {"member": member, "page": page})


@login_required
@require_POST
def account_export(request):
    data = user_export(request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    filename = f"margins-export-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def account_delete(request):
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST":
        # Each try checks the password: share allauth's reauthentication budget, so a stolen
        # session cannot guess the password here and then use it to take the account.
        too_many = ratelimit.consume_or_429(request, action="reauthenticate", user=request.user)
        if too_many:
            return too_many
        if form.is_valid():
            services.account_delete(
                user=request.user,
                delete_comments=form.cleaned_data["comments"] == form.CommentChoice.DELETE,
                request=request,
            )
            messages.success(request, _("Your account has been deleted. Goodbye."))
            return redirect("discussion:home")
        return render(request, "accounts/delete.html", {"form": form}, status=400)
    return render(request, "accounts/delete.html", {"form": form})


@login_required
@require_GET
def claims(request):
    page = Paginator(claimable_comments(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/claims.html", {"page": page})


@login_required
@require_POST
def claim(request, pk):
    comment = access_comment(viewer=request.user, comment_id=pk)
    services.comment_claim(user=request.user, comment=comment)
    messages.success(request, _("The comment is yours: it now shows under your name."))
    return redirect("accounts:claims")
