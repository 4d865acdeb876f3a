import pytest

from essays.rendering import EssaySourceError, parse_essay, parse_front_matter
from tests.conftest import SEED_SOURCE, essay_source


def test_front_matter_keeps_non_breaking_spaces_and_colons():
    meta, body = parse_front_matter("---\ntitle: A: B\u00a0C\nslug: a-b\n---\n\nText\n")
    assert meta == {"title": "A: B\u00a0C", "slug": "a-b"}
    assert body.strip() == "Text"


@pytest.mark.parametrize(
    "source, message",
    [
        ("No front matter\n", "must start with front matter"),
        ("---\ntitle: T\n", "not closed"),
        ("---\ntitle: T\ncolour: red\n---\n", "Line 3"),
        ("---\ntitle: T\n---\nText", "needs a 'slug'"),
    ],
)
def test_malformed_sources_are_refused_with_a_reason(source, message):
    with pytest.raises(EssaySourceError, match=message):
        parse_essay(source)


def test_blocks_are_split_one_per_paragraph_quote_part_list_heading_and_note():
    document = parse_essay(
        essay_source(
            "First paragraph.[^1]",
            "## A heading",
            "> Quoted one.\n>\n> 1. Ranked\n> 2. List",
            "- plain\n- list",
            "[^1]: The note.",
        ),
        url="/essays/test-essay/",
    )
    kinds = [block.kind for block in document.blocks]
    assert kinds == ["paragraph", "heading", "blockquote", "blockquote", "list", "footnote"]
    assert document.blocks[2].html.startswith("<blockquote>")
    assert "<ol>" in document.blocks[3].html and document.blocks[3].text == "Ranked\nList"


def test_footnote_reference_and_note_link_to_each_other_and_keep_the_visible_form():
    document = parse_essay(essay_source("Claim. [^7]", "[^7]: Source."), url="/essays/test-essay/")
    paragraph, note = document.blocks
    assert (
        '<a href="/essays/test-essay/#fn-7" id="fnref-7" class="footnote-ref">(7)</a>'
        in paragraph.html
    )
    assert paragraph.text == "Claim. (7)"
    assert '<p id="fn-7">' in note.html
    assert 'href="/essays/test-essay/#fnref-7"' in note.html
    assert note.text == "Source."


def test_raw_html_in_an_essay_source_is_shown_as_text():
    document = parse_essay(essay_source("Hello <script>alert(1)</script>"))
    assert "<script>" not in document.blocks[0].html
    assert "&lt;script&gt;" in document.blocks[0].html


def test_seed_source_has_the_structure_of_the_seed_document():
    document = parse_essay(SEED_SOURCE.read_text(encoding="utf-8"))
    assert document.title == "Stalinism: The Inner Truth of Bolshevism\u00a01924-91"
    assert document.alternate_title == "The Inner Truth of Bolshevism: Stalinism 1924-1991"
    assert document.attribution == "P.L-N"
    kinds = [block.kind for block in document.blocks]
    assert kinds.count("footnote") == 15
    assert kinds.count("heading") == 1
    headings = [b.text for b in document.blocks if b.kind == "heading"]
    assert headings == ["Coda on the Numbers"]
    quotes = [b.text for b in document.blocks if b.kind == "blockquote"]
    assert quotes[0].startswith("from indifferently run prisons")
    assert quotes[1].startswith("a mirror-image of the tsarist state")
    assert quotes[2].startswith("‘the Bolsheviks’ experiment")
    assert quotes[2].endswith("(Living My Life, Vol 2, p. 822).")  # a citation, not a note
    white = quotes[3:]
    assert white[0].startswith("“There are so many candidates")
    assert white[-1].startswith("So, the answer to the question")
    ranked = [b.html for b in document.blocks if "<ol>" in b.html]
    assert len(ranked) == 4
    assert "<li>Mao 40Million</li>\n<li>Hitler 34M</li>\n<li>Stalin 20M</li>" in ranked[0]
    references = [b.html.count('class="footnote-ref"') for b in document.blocks]
    assert sum(references) == 15
