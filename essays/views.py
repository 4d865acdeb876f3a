"""The essays' own pages: earlier revisions, what a revision changed, and the editor's way
to publish one. What they show of the discussion they ask through essays/hooks.py."""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from forum.ids import parse_id

from . import changes
from .models import Essay, Paragraph, PublicationJob
from .rendering import EssaySourceError
from .services import (
    PublicationStale,
    access_publication_job,
    check_can_publish,
    preview_revision,
    revision_publish,
)


def _published_essay(slug) -> Essay:
    return get_object_or_404(Essay.objects.published(), slug=slug)


@require_safe
def revision_detail(request, slug, number):
    """An earlier (or the current) revision of an essay, as it was published."""
    essay = _published_essay(slug)
    revision = get_object_or_404(essay.revisions, number=number)
    blocks = list(revision.blocks.select_related("paragraph").order_by("position"))
    context = {
        "essay": essay,
        "revision": revision,
        "body_blocks": [b for b in blocks if b.kind != Paragraph.Kind.FOOTNOTE],
        "footnotes": [b for b in blocks if b.kind == Paragraph.Kind.FOOTNOTE],
    }
    return render(request, "essays/revision_detail.html", context)


@require_safe
def revision_changes(request, slug, number):
    """What one revision changed: paragraphs added, changed (the words marked), moved and
    removed."""
    essay = _published_essay(slug)
    revision = get_object_or_404(essay.revisions, number=number)
    revision.essay = essay
    context = {"essay": essay, "changes": changes.revision_changes(revision)}
    return render(request, "essays/revision_changes.html", context)


@login_required
def essay_publish(request, slug):
    """The editor's way to publish a revision: preview what happens to every paragraph and
    thread first. A big essay is published by the task worker: the editor is sent to its
    progress page."""
    # A 403 that says why (RefusalMiddleware); sending a signed-in reader to log in again
    # would loop.
    check_can_publish(request.user)
    essay = get_object_or_404(Essay, slug=slug)
    source = request.POST.get("source", essay.source).replace("\r\n", "\n")
    context = {"essay": essay, "source": source}
    status = 200
    if request.method == "POST":
        digest = hashlib.sha256(source.encode()).hexdigest()
        try:
            # Publish only the very source that was previewed, onto the revision it was
            # previewed against, planning it once (the preview's plan went with its page).
            if "publish" in request.POST and request.POST.get("previewed") == digest:
                try:
                    published = revision_publish(
                        editor=request.user,
                        essay=essay,
                        source=source,
                        onto_revision=parse_id(request.POST.get("revision", "")),
                    )
                except PublicationStale as stale:
                    # Show what publishing would do now, with the reason.
                    context["error"], status = stale.message, stale.status
                else:
                    if isinstance(published, PublicationJob):
                        return redirect(published)
                    messages.success(request, published.summary)
                    return redirect(essay)
            previewed, live, plan, blocks = preview_revision(source=source)
            if previewed.pk != essay.pk:
                raise EssaySourceError(_("The source's slug names another essay."))
        except EssaySourceError as error:
            context["error"], status = str(error), 400
        except Essay.DoesNotExist:
            # The source's front matter names a slug: this form revises this essay only.
            context["error"] = _("The source's slug names no essay; keep this essay's slug.")
            status = 400
        else:
            context.update(
                digest=digest,
                revision=previewed.revision,
                preview=changes.revision_preview(
                    essay=essay, live=live, plan=plan, blocks=blocks, viewer=request.user
                ),
            )
    return render(request, "essays/essay_publish.html", context, status=status)


@require_safe
@login_required
def publication_detail(request, slug, pk):
    """A publication job's progress and outcome, for editors; with htmx, its status alone
    (polled every few seconds until the job has finished)."""
    job = access_publication_job(user=request.user, slug=slug, job_id=pk)
    template = (
        "essays/_publication_status.html" if request.htmx else "essays/publication_detail.html"
    )
    return render(request, template, {"job": job, "essay": job.essay})
