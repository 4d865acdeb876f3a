"""An essay's discussion_version, which names its cached reading page: every change to what
readers see of an essay moves it, and forgets the essay's remembered state."""

from django.core.cache import cache

from essays.models import Essay
from essays.states import state_key


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
