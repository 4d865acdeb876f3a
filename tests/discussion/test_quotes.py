"""Finding a quoted passage again after its paragraph was edited (forum/discussion/quotes.py)."""

import random

from forum.discussion.quotes import _edits_by_end, context_around, find_passage

TEXT = (
    "Stalin ordered the collectivisation of agriculture in 1929. The peasants resisted, "
    "slaughtering their livestock rather than hand it over, and the famine followed."
)
FIXED = TEXT.replace("collectivisation", "collectivization")
PASSAGE = "collectivisation"


def context(text: str, passage: str) -> tuple[str, str]:
    return context_around(text, text.index(passage), passage)


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def test_the_bit_parallel_search_counts_edits_as_the_textbook_table_does():
    rng = random.Random(15)
    for _ in range(300):
        text = "".join(rng.choice("abc ") for _ in range(rng.randint(0, 14)))
        pattern = "".join(rng.choice("abc ") for _ in range(rng.randint(1, 70)))
        assert _edits_by_end(text, pattern) == [
            min(edit_distance(pattern, text[start:end]) for start in range(end + 1))
            for end in range(len(text) + 1)
        ]
        assert _edits_by_end(text, pattern, anchored=True) == [
            edit_distance(pattern, text[:end]) for end in range(len(text) + 1)
        ]


def test_a_passage_still_there_is_found_exactly():
    found = find_passage(TEXT, PASSAGE, *context(TEXT, PASSAGE))
    assert found.exact and TEXT[found.start : found.end] == PASSAGE


def test_a_passage_after_a_one_word_spelling_fix_is_found_where_it_now_reads():
    found = find_passage(FIXED, PASSAGE, *context(TEXT, PASSAGE), hint=TEXT.index(PASSAGE))
    assert not found.exact and FIXED[found.start : found.end] == "collectivization"
    longer = "Stalin ordered the collectivisation of agriculture in 1929."
    found = find_passage(FIXED, longer, *context(TEXT, longer))
    assert FIXED[found.start : found.end] == longer.replace("sation", "zation")


def test_a_passage_with_a_word_added_and_one_changed_is_found():
    passage = "slaughtering their livestock rather than hand it over"
    edited = TEXT.replace("their livestock", "all their livestock").replace("hand", "give")
    found = find_passage(edited, passage, *context(TEXT, passage))
    assert (
        edited[found.start : found.end]
        == "slaughtering all their livestock rather than give it over"
    )


def test_a_sentence_rewritten_beyond_recognition_is_lost():
    passage = "The peasants resisted, slaughtering their livestock rather than hand it over"
    rewritten = TEXT.replace(
        passage, "Grain requisitions rose each year while the villages emptied of men"
    )
    assert find_passage(rewritten, passage, *context(TEXT, passage)) is None


def test_a_short_passage_is_not_taken_for_another_word_elsewhere():
    """ "hand" with one letter changed is "land": only where its context still reads as it
    did may a short passage be found approximately."""
    before = "The peasants would not hand it over."
    after = "The peasants kept it. They worked the land at night."
    assert find_passage(after, "hand", *context(before, "hand")) is None
    moved = "The peasants would not hands it over."  # its context kept: a typo made
    found = find_passage(moved, "hand", *context(before, "hand"))
    assert found is not None and moved[found.start : found.end].startswith("hand")


def test_a_repeated_passage_is_told_apart_by_its_context():
    text = "The state grew. Then the state withered, as the theory said the state would."
    prefix, suffix = context_around(text, text.index("the state withered"), "the state")
    edited = "At first the state grew. Then the state withered, as the theory said."
    found = find_passage(edited, "the state", prefix, suffix)
    assert edited[found.end :].startswith(" withered")


def test_a_repeated_passage_edited_is_told_apart_by_its_context():
    text = "The party purged its ranks in 1933. The party purged its ranks again in 1937."
    second = text.rindex("The party purged its ranks")
    prefix, suffix = context_around(text, second, "The party purged its ranks")
    edited = text.replace("party purged", "Party purged")
    found = find_passage(edited, "The party purged its ranks", prefix, suffix)
    assert not found.exact and found.start == second


def test_the_same_words_elsewhere_do_not_win_over_the_passage_edited_in_its_place():
    text = "In 1921 the tsarist officers fled abroad. By 1937 the regime purged its own officers."
    passage = "purged its own officers"
    prefix, suffix = context(text, passage)
    edited = text.replace("purged its own", "purged its very own").replace(
        "the tsarist officers", "the tsarist officers, purged its own officers,"
    )
    found = find_passage(edited, passage, prefix, suffix, hint=text.index(passage))
    assert not found.exact and edited[found.start : found.end] == "purged its very own officers"


def test_a_repeated_passage_without_telling_context_is_the_one_nearest_where_it_was():
    text = "Yes. No. Yes. No. Yes."
    for hint, nearest in ((1, 0), (10, 9), (16, 18)):
        assert find_passage(text, "Yes.", hint=hint).start == nearest


def test_nothing_is_found_in_an_empty_text_or_for_an_empty_passage():
    assert find_passage("", PASSAGE) is None and find_passage(TEXT, "") is None
