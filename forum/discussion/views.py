from django.shortcuts import get_object_or_404, render

from essays.models import Essay, Paragraph

from .threads import comment_counts_by_paragraph, essays_with_comment_counts, thread_for


def home(request):
    return render(request, "discussion/home.html", {"essays": essays_with_comment_counts()})


def essay_detail(request, slug):
    essay = get_object_or_404(Essay.objects.published(), slug=slug)
    paragraphs = list(essay.paragraphs.live().order_by("position"))
    counts = comment_counts_by_paragraph(essay)
    for paragraph in paragraphs:
        paragraph.comment_count = counts.get(paragraph.pk, 0)
    context = {
        "essay": essay,
        "body_paragraphs": [p for p in paragraphs if p.kind != Paragraph.Kind.FOOTNOTE],
        "footnotes": [p for p in paragraphs if p.kind == Paragraph.Kind.FOOTNOTE],
        "thread": thread_for(essay=essay),
    }
    return render(request, "discussion/essay_detail.html", context)


def paragraph_detail(request, slug, key):
    essay = get_object_or_404(Essay.objects.published(), slug=slug)
    paragraph = get_object_or_404(essay.paragraphs.live().commentable(), key=key)
    neighbours = {
        p.position: p
        for p in essay.paragraphs.live().filter(
            position__in=[paragraph.position - 1, paragraph.position + 1]
        )
    }
    context = {
        "essay": essay,
        "paragraph": paragraph,
        "previous": neighbours.get(paragraph.position - 1),
        "next": neighbours.get(paragraph.position + 1),
        "thread": thread_for(essay=essay, paragraph=paragraph),
    }
    return render(request, "discussion/paragraph_detail.html", context)
