"""Turn an essay's Markdown source into addressable blocks, once, at import time.

Each top-level block (paragraph, heading, list) becomes one block; a block quote is split
into one block per inner paragraph or list, so that a long quotation can be discussed a
paragraph at a time; each footnote is a block of its own. A horizontal rule ("* * *") is a
separator block: an <hr> between the others, with no text and nothing to discuss. Footnote
references keep the source's visible form "(n)" and link to their note, which links back.
"""

import re
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

FRONT_MATTER_FENCE = "---"
FRONT_MATTER_KEYS = {"title", "alternate_title", "attribution", "slug"}
# What the essay URLs accept (Django's slug converter).
SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class EssaySourceError(ValueError):
    """The Markdown source cannot be imported as an essay."""


@dataclass(frozen=True)
class Block:
    kind: str
    html: str
    text: str


@dataclass
class EssayDocument:
    slug: str
    title: str
    alternate_title: str = ""
    attribution: str = ""
    blocks: list[Block] = field(default_factory=list)


def parse_front_matter(source: str) -> tuple[dict[str, str], str]:
    """Split `key: value` lines between two `---` fences from the Markdown body."""
    lines = source.split("\n")
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise EssaySourceError(_("The source must start with front matter between '---' lines."))
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == FRONT_MATTER_FENCE)
    except StopIteration:
        raise EssaySourceError(_("The front matter is not closed by a '---' line.")) from None
    meta = {}
    for number, line in enumerate(lines[1:end], 2):
        if not line.strip():
            continue
        name, separator, value = line.partition(":")
        name = name.strip()
        if not separator or name not in FRONT_MATTER_KEYS:
            raise EssaySourceError(
                _("Line %(number)s of the front matter is not a known 'key: value'")
                % {"number": number}
            )
        # Strip ASCII blanks only: the titles may hold meaningful non-breaking spaces.
        meta[name] = value.strip(" \t")
    return meta, "\n".join(lines[end + 1 :])


def parse_essay(source: str, *, url: str = "") -> EssayDocument:
    """Parse a whole essay file. `url` is the reading page's path, used by footnote links."""
    meta, body = parse_front_matter(source.replace("\r\n", "\n"))
    for required in ("slug", "title"):
        if not meta.get(required):
            raise EssaySourceError(_("The front matter needs a '%(key)s'.") % {"key": required})
    if not SLUG.fullmatch(meta["slug"]):
        raise EssaySourceError(
            _(
                "The slug may hold only letters, digits, hyphens and underscores (it is the "
                "essay's address)."
            )
        )
    return EssayDocument(
        slug=meta["slug"],
        title=meta["title"],
        alternate_title=meta.get("alternate_title", ""),
        attribution=meta.get("attribution", ""),
        blocks=render_blocks(body, url=url),
    )


def render_blocks(body: str, *, url: str = "") -> list[Block]:
    md = _essay_markdown(url)
    env: dict = {}
    tokens = md.parse(body, env)
    blocks = []
    for kind, group in _split_blocks(tokens):
        html = md.renderer.render(group, md.options, env)
        if kind == "blockquote":
            html = f"<blockquote>\n{html}</blockquote>\n"
        blocks.append(Block(kind=kind, html=html, text=html_to_text(html)))
    return blocks


def _essay_markdown(url: str) -> MarkdownIt:
    # The source is trusted, but raw HTML is still off: the essay is Markdown, not markup.
    md = MarkdownIt("commonmark", {"html": False}).use(footnote_plugin)

    def footnote_ref(self, tokens, idx, options, env):
        meta = tokens[idx].meta
        label = escape(meta["label"])
        ref_id = f"fnref-{label}" if meta["subId"] == 0 else f"fnref-{label}-{meta['subId']}"
        return f'<a href="{url}#fn-{label}" id="{ref_id}" class="footnote-ref">({label})</a>'

    def footnote_anchor(self, tokens, idx, options, env):
        label = escape(tokens[idx].meta["label"])
        return (
            f' <a href="{url}#fnref-{label}" class="footnote-backref" '
            f'aria-label="Back to reference {label}">\u21a9\ufe0e</a>'
        )

    md.add_render_rule("footnote_ref", footnote_ref)
    md.add_render_rule("footnote_anchor", footnote_anchor)
    return md


BLOCK_KINDS = {
    "paragraph_open": "paragraph",
    "heading_open": "heading",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "hr": "separator",
}


def _split_blocks(tokens: list[Token]):
    """Yield (kind, tokens) for each addressable block, in document order."""
    index = 0
    while index < len(tokens):
        token = tokens[index]
        end = _closing_index(tokens, index)
        if token.type == "blockquote_open":
            inner = tokens[index + 1 : end]
            position = 0
            while position < len(inner):
                inner_end = _closing_index(inner, position)
                kind = "separator" if inner[position].type == "hr" else "blockquote"
                yield kind, inner[position : inner_end + 1]
                position = inner_end + 1
        elif token.type == "footnote_block_open":
            yield from _split_footnotes(tokens[index + 1 : end])
        else:
            yield BLOCK_KINDS.get(token.type, "paragraph"), tokens[index : end + 1]
        index = end + 1


def _split_footnotes(tokens: list[Token]):
    index = 0
    while index < len(tokens):
        end = _closing_index(tokens, index)
        label = tokens[index].meta["label"]
        inner = tokens[index + 1 : end]
        # Give the note's first paragraph the id its references point at.
        for token in inner:
            if token.type == "paragraph_open":
                token.attrSet("id", f"fn-{label}")
                break
        yield "footnote", inner
        index = end + 1


def _closing_index(tokens: list[Token], start: int) -> int:
    """Index of the token closing the one at `start` (itself for self-contained tokens)."""
    if tokens[start].nesting != 1:
        return start
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    raise EssaySourceError(_("Unbalanced Markdown structure."))


class _TextExtractor(HTMLParser):
    """Collect visible text, leaving out footnote back-links (navigation, not content)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if self.skip_depth or "footnote-backref" in (dict(attrs).get("class") or ""):
            self.skip_depth += 1
        elif tag == "li" and self.parts:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.skip_depth:
            self.skip_depth -= 1

    def handle_data(self, data):
        if not self.skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = "".join(extractor.parts).split("\n")
    return "\n".join(line.strip() for line in lines if line.strip())
