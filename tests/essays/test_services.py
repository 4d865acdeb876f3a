import pytest

from essays.models import Essay, Paragraph
from essays.services import essay_import
from tests.conftest import SEED_SOURCE, add_comment, essay_source


def live_keys(essay):
    return list(essay.paragraphs.live().order_by("position").values_list("key", flat=True))


def live_texts(essay):
    return list(essay.paragraphs.live().order_by("position").values_list("text", flat=True))


@pytest.mark.django_db
def test_import_creates_a_published_essay_with_keyed_paragraphs():
    result = essay_import(source=SEED_SOURCE.read_text(encoding="utf-8"))
    essay = result.essay
    assert result.created and essay.status == Essay.Status.PUBLISHED and essay.published_at
    keys = live_keys(essay)
    assert len(keys) == 53 and len(set(keys)) == 53
    assert all(len(key) == 8 and key.isalnum() for key in keys)
    assert Essay.objects.published().get() == essay


@pytest.mark.django_db
def test_reimporting_the_same_source_changes_nothing():
    source = SEED_SOURCE.read_text(encoding="utf-8")
    essay = essay_import(source=source).essay
    before = list(Paragraph.objects.values_list("pk", "key", "position", "html", "retired_in"))
    result = essay_import(source=source)
    assert not result.created and not result.revised
    essay.refresh_from_db()
    assert essay.revision == 1 and essay.revised_at is None
    after = list(Paragraph.objects.values_list("pk", "key", "position", "html", "retired_in"))
    assert after == before


@pytest.mark.django_db
def test_changed_import_keeps_unchanged_keys_adds_new_and_retires_removed(make_essay):
    essay = make_essay("Alpha.", "Beta.", "Gamma.")
    alpha, beta, gamma = live_keys(essay)
    comment = add_comment(essay, paragraph=essay.paragraphs.get(key=beta))

    result = essay_import(source=essay_source("New first.", "Alpha.", "Gamma."))

    essay.refresh_from_db()
    assert result.revised and (result.kept, result.added, result.retired) == (2, 1, 1)
    assert essay.revision == 2 and essay.revised_at is not None
    keys = live_keys(essay)
    assert keys[1:] == [alpha, gamma] and keys[0] not in {alpha, beta, gamma}
    assert live_texts(essay) == ["New first.", "Alpha.", "Gamma."]
    retired = Paragraph.objects.get(key=beta)
    assert retired.retired_in == 2 and retired.text == "Beta."
    comment.refresh_from_db()
    assert comment.paragraph == retired  # nothing attached to it is lost


@pytest.mark.django_db
def test_duplicate_paragraphs_keep_their_keys_in_order(make_essay):
    essay = make_essay("Same.", "Other.", "Same.")
    first, other, second = live_keys(essay)
    essay_import(source=essay_source("Same.", "Same."))
    assert live_keys(essay) == [first, second]
    assert Paragraph.objects.get(key=other).retired_in == 2


@pytest.mark.django_db
def test_reordering_moves_paragraphs_with_their_keys(make_essay):
    essay = make_essay("One.", "Two.")
    one, two = live_keys(essay)
    essay_import(source=essay_source("Two.", "One."))
    assert live_keys(essay) == [two, one]


@pytest.mark.django_db
def test_import_as_draft_is_not_published():
    essay = essay_import(source=essay_source("Text."), publish=False).essay
    assert essay.status == Essay.Status.DRAFT
    assert not Essay.objects.published().exists()
