"""Word lists and the link limit judge what a reader would see, not the Markdown source."""

import pytest

from forum.discussion import services as discussion
from forum.discussion.models import Comment
from forum.moderation import policy
from forum.moderation import services as moderation
from forum.moderation.models import WordRule
from forum.moderation.rules import HoldReason
from forum.refusals import Refused
from tests.conftest import post


def hold_reasons(author, essay, body):
    return policy.hold_reasons(author=author, essay=essay, body=body)


# Links ----------------------------------------------------------------------------------


def test_bare_domains_count_against_the_link_limit(veteran, essay):
    body = "Sources: a.example.com, b.example.org and www.example.net/page. Also c.example.com"
    assert hold_reasons(veteran, essay, body) == [HoldReason.TOO_MANY_LINKS]
    assert post(veteran, essay, body).status == Comment.Status.PENDING


def test_protocol_relative_links_count_against_the_link_limit(veteran, essay):
    body = "[one](//a.example/x) [two](//b.example) //c.example.com/p and //d.example.org"
    assert hold_reasons(veteran, essay, body) == [HoldReason.TOO_MANY_LINKS]


def test_seven_links_published_at_once_are_held(veteran, essay):
    body = (
        "a.example.com b.example.com c.example.com //d.example.com/x "
        "[e](//e.example) https://f.example <https://g.example>"
    )
    assert post(veteran, essay, body).status == Comment.Status.PENDING


def test_link_shaped_text_that_is_not_a_link_is_not_counted(veteran, essay):
    body = "`a.example.com` telnet://b.example.com ssh://c.example.com ftp://d.example.com"
    assert hold_reasons(veteran, essay, body) == []


def test_links_up_to_the_limit_publish(veteran, essay):
    body = "a.example.com, [b](//b.example) and https://c.example"
    assert post(veteran, essay, body).status == Comment.Status.PUBLISHED


# Words ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Cheap vi\u200bagra here",
        "Cheap v\u0456agra here",  # Cyrillic і
        "Cheap *via*gra here",
        "Cheap VIA\u00adGRA here",
        "Cheap \u202evia\u202cgra here",
        "Cheap ｖｉａｇｒａ here",  # fullwidth
        "Cheap v\u03b9\u03b1gr\u0430 here",  # Greek ι α, Cyrillic а
    ],
)
def test_disguised_blocked_words_are_refused(veteran, essay, body):
    WordRule.objects.create(word="Viagra", kind=WordRule.Kind.BLOCKED)
    with pytest.raises(Refused, match="Viagra"):
        post(veteran, essay, body)
    assert not Comment.objects.exists()


def test_a_blocked_phrase_matches_across_any_whitespace(veteran, essay):
    WordRule.objects.create(word="Bad Phrase", kind=WordRule.Kind.BLOCKED)
    for body in ["A bad   phrase.", "A BAD\nphrase.", "A bad\u00a0phrase.", "A **bad**  phrase"]:
        assert policy.blocked_words(body) == ["Bad Phrase"], body


def test_the_refusal_names_entries_as_moderators_wrote_them(veteran, essay):
    WordRule.objects.create(word="  Bad\u200b Phrase ", kind=WordRule.Kind.BLOCKED)
    WordRule.objects.create(word="v\u0456agra", kind=WordRule.Kind.BLOCKED)
    assert policy.blocked_words("bad phrase, viagra") == ["  Bad\u200b Phrase ", "v\u0456agra"]


def test_blocked_words_match_whole_words_of_the_rendered_text(veteran, essay):
    WordRule.objects.create(word="ass", kind=WordRule.Kind.BLOCKED)
    assert policy.blocked_words("A class of its own; cl*ass*; cl\u0430ss; gl\u200bass") == []
    assert policy.blocked_words("What an *ass*.") == ["ass"]


def test_blocked_words_in_a_link_target_are_refused(veteran, essay):
    WordRule.objects.create(word="viagra", kind=WordRule.Kind.BLOCKED)
    assert policy.blocked_words("[a good read](https://buy-viagra.example/)") == ["viagra"]


def test_markup_that_a_reader_does_not_see_as_letters_does_not_match(veteran, essay):
    WordRule.objects.create(word="lt", kind=WordRule.Kind.BLOCKED)
    assert policy.blocked_words("1 < 2 and &lt; too") == []


def test_disguised_watched_words_hold_the_comment(veteran, essay):
    WordRule.objects.create(word="miracle cure", kind=WordRule.Kind.WATCHED)
    body = "A M\u0406R\u0410CLE   c\u200bure!"  # Cyrillic І and А
    assert hold_reasons(veteran, essay, body) == [HoldReason.WATCHED_WORD]
    assert post(veteran, essay, body).status == Comment.Status.PENDING


@pytest.mark.parametrize(
    "body",
    [
        "via\u034fgra",
        "via\ufe0fgra",
        "via\U000e0020gra",
        "via\u180bgra",
        "via\u17b4gra",
        "via\u3164gra",
        "ѵiagra",
        "VİAGRA",
        "vïagra",
    ],
)
def test_more_disguises_of_a_blocked_word_are_refused(veteran, essay, body):
    WordRule.objects.get_or_create(word="viagra", kind=WordRule.Kind.BLOCKED)
    with pytest.raises(Refused, match="viagra"):
        discussion.comment_post(author=veteran, essay=essay, body=f"Cheap {body} here.")


def test_a_link_title_is_not_kept(veteran, essay):
    from forum.discussion.markup import render_comment

    assert "title" not in render_comment('[x](https://a.example/ "hidden words")')


def test_a_change_to_the_word_lists_applies_to_the_very_next_post(veteran, moderator, essay):
    """The lists are kept in the cache between posts: adding, moving or removing a word
    forgets them at once."""
    assert post(veteran, essay, "A miracle cure, first.").status == Comment.Status.PUBLISHED
    watched = WordRule.objects.create(word="miracle cure", kind=WordRule.Kind.WATCHED)
    assert post(veteran, essay, "A miracle cure, again.").status == Comment.Status.PENDING
    moderation.word_rule_set(actor=moderator, word="miracle cure", kind=WordRule.Kind.BLOCKED)
    with pytest.raises(Refused, match="miracle cure"):
        post(veteran, essay, "A miracle cure, once more.")
    moderation.word_rule_remove(actor=moderator, rule=watched)
    assert post(veteran, essay, "A miracle cure, at last.").status == Comment.Status.PUBLISHED
