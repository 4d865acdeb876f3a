"""Extract consecutive versions of a Markdown file from a git history into the revision corpus
(tests/data/revision-corpus/), and help label them by hand.

    python -m scripts.extract_revision_corpus extract GIT_DIR FILE NEW_COMMIT --name NAME
        [--old OLD_COMMIT] [--repo OWNER/NAME]
    python -m scripts.extract_revision_corpus show NAME
    python -m scripts.extract_revision_corpus label NAME DECISIONS_FILE

`extract` writes the file as it was at OLD_COMMIT (by default the last commit before
NEW_COMMIT that touched it) and at NEW_COMMIT, unchanged, as `old.md` and `new.md`, and what
they are (repository, path, commits, dates, the commit's subject) as `source.json`. It reads
the local git directory only; the tests read the files it wrote, never the network.

`show` lists what a labeller has to decide, and nothing else: both versions are split into
blocks by the site's own Markdown pipeline (essays.rendering), paragraphs whose kind and text
occur once in each version are set aside (they must keep their place, and the test checks
that without a label), and between two such paragraphs it prints the old blocks to label
beside the new blocks there, with their indices. It never runs the revision matcher: labels
are decided by reading, not taken from what is being tested.

`label` turns a labeller's decisions, one line per old block ("12 14", "13 orphan",
"15 16,17" for a paragraph split in two, any of which is right; "18 20?" for a rewrite that
may follow or be orphaned, neither being wrong; "# ..." a note kept with the next decision),
into `labels.json`, with the start of each old and new block quoted so that a reviewer can
check each decision against the text.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a file as well as with -m
    sys.path.insert(0, str(PROJECT))

from essays.rendering import render_blocks  # noqa: E402

CORPUS = PROJECT / "tests" / "data" / "revision-corpus"
QUOTE_LENGTH = 60
ORPHAN = "orphan"


def git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True
    ).stdout


def blocks(path: Path) -> list[tuple[str, str]]:
    """The (kind, text) of each block of a Markdown file, as the site imports it."""
    return [(b.kind, b.text) for b in render_blocks(path.read_text(encoding="utf-8"))]


def quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_LENGTH else flat[:QUOTE_LENGTH] + "…"


def unchanged_pairs(old: list, new: list) -> dict[int, int]:
    """Old index -> new index for blocks whose kind and text occur once in each version."""
    return {
        i: new.index(block)
        for i, block in enumerate(old)
        if old.count(block) == 1 and new.count(block) == 1
    }


def extract(args: argparse.Namespace) -> None:
    git_dir = Path(args.git_dir)
    new_commit = git(git_dir, "rev-parse", args.new).strip()
    old_commit = args.old or git(
        git_dir, "log", "-1", "--format=%H", f"{new_commit}^", "--", args.file
    )
    old_commit = git(git_dir, "rev-parse", old_commit.strip()).strip()
    folder = CORPUS / args.name
    folder.mkdir(parents=True, exist_ok=True)
    source = {"repository": args.repo, "file": args.file}
    for role, commit in (("old", old_commit), ("new", new_commit)):
        text = git(git_dir, "show", f"{commit}:{args.file}")
        (folder / f"{role}.md").write_text(text, encoding="utf-8")
        date, subject = git(git_dir, "log", "-1", "--format=%as%n%s", commit).split("\n", 1)
        source[role] = {"commit": commit, "date": date, "subject": subject.strip()}
    (folder / "source.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    print(f"{folder.relative_to(PROJECT)}: {old_commit[:10]} -> {new_commit[:10]}")


def show(args: argparse.Namespace) -> None:
    folder = CORPUS / args.name
    old, new = blocks(folder / "old.md"), blocks(folder / "new.md")
    kept = unchanged_pairs(old, new)
    anchors = sorted(kept.items())
    bounds = [(-1, -1), *anchors, (len(old), len(new))]
    to_label = 0
    for (i0, j0), (i1, j1) in zip(bounds, bounds[1:], strict=False):
        olds = range(i0 + 1, i1)
        news = [j for j in range(j0 + 1, j1) if j not in kept.values()] if j1 > j0 else []
        if not olds and not news:
            continue
        print(f"==== between old {i0} / new {j0} and old {i1} / new {j1}")
        for i in olds:
            to_label += 1
            print(f"  OLD {i} [{old[i][0]}] {' '.join(old[i][1].split())[:400]}")
        for j in news:
            print(f"      NEW {j} [{new[j][0]}] {' '.join(new[j][1].split())[:400]}")
    # Where unchanged paragraphs changed order, the gaps above overlap: read both versions.
    moved = [(i, j) for i, j in anchors if j < max([-1, *[jj for ii, jj in anchors if ii < i]])]
    print(f"\n{len(old)} old blocks, {len(new)} new, {len(kept)} unchanged, {to_label} to label")
    if moved:
        print("unchanged, after a paragraph that now follows them (old, new):", moved)


def label(args: argparse.Namespace) -> None:
    folder = CORPUS / args.name
    old, new = blocks(folder / "old.md"), blocks(folder / "new.md")
    labels, note = [], ""
    for line in Path(args.decisions).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            note = line.lstrip("# ")
            continue
        i_text, target = line.split()[:2]
        i = int(i_text)
        entry = {"old": i, "old_start": quote(old[i][1])}
        if target == ORPHAN:
            entry["new"] = ORPHAN
        else:
            loose = target.endswith("?")
            js = [int(j) for j in target.rstrip("?").split(",")]
            entry["new"] = js[0] if len(js) == 1 else js
            entry["new_start"] = (
                quote(new[js[0]][1]) if len(js) == 1 else [quote(new[j][1]) for j in js]
            )
            if loose:
                entry["or_orphan"] = True
        if note:
            entry["note"] = note
            note = ""
        labels.append(entry)
    labels.sort(key=lambda entry: entry["old"])
    lines = ",\n".join("  " + json.dumps(entry, ensure_ascii=False) for entry in labels)
    (folder / "labels.json").write_text('{"labels": [\n' + lines + "\n]}\n", encoding="utf-8")
    print(f"{len(labels)} labels written to {(folder / 'labels.json').relative_to(PROJECT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    extracting = commands.add_parser("extract", help="write two versions of a file")
    extracting.add_argument("git_dir")
    extracting.add_argument("file")
    extracting.add_argument("new", help="the commit of the new version")
    extracting.add_argument("--old", help="the commit of the old version (default: the previous)")
    extracting.add_argument("--name", required=True, help="the pair's folder in the corpus")
    extracting.add_argument("--repo", required=True, help="owner/name of the public repository")
    extracting.set_defaults(run=extract)
    showing = commands.add_parser("show", help="list the blocks a labeller decides")
    showing.add_argument("name")
    showing.set_defaults(run=show)
    labelling = commands.add_parser("label", help="write labels.json from decisions")
    labelling.add_argument("name")
    labelling.add_argument("decisions")
    labelling.set_defaults(run=label)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
