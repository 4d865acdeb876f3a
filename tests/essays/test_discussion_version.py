"""An essay's discussion_version, which names its cached reading page: every change to what
readers see of an essay moves it, and forgets the essay's remembered state."""

from django.core.cache import cache
from django.db import connection

from essays.models import Essay
from essays.states import essay_state, essay_state_remember, state_key


def test_a_change_moves_the_version_of_each_essay_it_touches_and_forgets_their_state(
    make_essay,
):
    first, second = make_essay("One.", slug="first"), make_essay("Two.", slug="second")
    untouched = make_essay("Three.", slug="untouched")
    before = dict(Essay.objects.values_list("slug", "discussion_version"))
    for essay in (first, second, untouched):
        cache.set(state_key(essay.slug), before[essay.slug])
    assert Essay.objects.exclude(slug="untouched").discussion_changed() == 2
    after = dict(Essay.objects.values_list("slug", "discussion_version"))
    assert after == {"first": before["first"] + 1, "second": before["second"] + 1} | {
        "untouched": before["untouched"]
    }
    assert cache.get(state_key("first")) is None and cache.get(state_key("second")) is None
    assert cache.get(state_key("untouched")) == before["untouched"]


def test_a_change_to_no_essay_changes_nothing(make_essay):
    essay = make_essay("One.")
    version = Essay.objects.get(pk=essay.pk).discussion_version
    assert Essay.objects.filter(pk__in=[]).discussion_changed() == 0
    assert Essay.objects.filter(slug="no-such-essay").discussion_changed() == 0
    assert Essay.objects.get(pk=essay.pk).discussion_version == version


def test_once_committed_the_state_is_the_version_the_change_made(
    make_essay, django_capture_on_commit_callbacks
):
    essay = make_essay("One.", slug="first")
    with django_capture_on_commit_callbacks(execute=True):
        Essay.objects.filter(pk=essay.pk).discussion_changed()
    assert cache.get(state_key("first")) == Essay.objects.get(pk=essay.pk).discussion_version


def test_a_page_rendered_before_a_change_cannot_put_its_older_version_back(
    make_essay, django_capture_on_commit_callbacks
):
    """A reader's page, begun before a writer's change and finished after it, remembers
    the version it was rendered at: it never replaces the writer's, stored when it
    committed (and the state is then asked of the database again)."""
    essay = make_essay("One.", slug="first")
    rendered_at = Essay.objects.get(pk=essay.pk).discussion_version
    with django_capture_on_commit_callbacks(execute=True):
        Essay.objects.filter(pk=essay.pk).discussion_changed()
    # What other readers would find in the cache while the page checks its version.
    seen = []

    def look(execute, sql, params, many, context):
        seen.append(cache.get(state_key("first")))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(look):
        essay_state_remember("first", rendered_at)
    assert seen and rendered_at not in seen
    assert cache.get(state_key("first")) != rendered_at
    assert essay_state("first") == rendered_at + 1
