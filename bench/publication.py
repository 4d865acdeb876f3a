"""Time the publication of a revision of a book, as the task worker publishes it.

Run:
    .venv/bin/python bench/publication.py               # a SQLite file of its own
    .venv/bin/python bench/publication.py --postgres    # PostgreSQL at BENCH_DATABASE_SERVER
Options: --paragraphs 5000 (the book), --changed 0.25 (share of paragraphs edited),
--comments 2000 (its discussion, grown with bench/fixtures.py).

Not part of the test suite: timings depend on the machine. With --postgres it makes and drops
the database margins_bench_publication on BENCH_DATABASE_SERVER (default
postgres://postgres@127.0.0.1:5432); without, it works in a temporary folder it removes.

The book is made by a generator seeded with a fixed number: paragraphs of 30 to 120 words,
a heading every 40 blocks. The revision edits the chosen share of paragraphs as a writer does
(a few words changed, or a sentence added), deletes one paragraph in a hundred and inserts as
many new ones. What is timed, each once, as the site does it:

- preview: the editor's preview request (parse, plan); it is not part of the publication;
- publish request: what pressing "Publish" costs (parse, count, store the job and its task);
- publication: the worker's whole run (parse, plan, apply, re-anchor comments), and within
  it the time spent parsing, in plan_revision, and in the receivers of essay_revised
  (discussion re-anchors the comments).
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.fixtures import WORDS  # noqa: E402

DATABASE_SERVER = "postgres://postgres@127.0.0.1:5432"
SCRATCH_DATABASE = "margins_bench_publication"
SEED = "margins-publication"


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))).capitalize() + "."


def paragraph(rng: random.Random, number: int) -> str:
    words = []
    while len(words) < rng.randint(30, 120):
        words.extend(sentence(rng).split())
    # A number keeps every paragraph distinct, as a book's paragraphs are.
    return f"{' '.join(words)} ({number})"


def book(paragraphs: int) -> list[str]:
    rng = random.Random(SEED)
    return [
        f"## Chapter {n // 40 + 1}" if n % 40 == 0 else paragraph(rng, n) for n in range(paragraphs)
    ]


def revise(blocks: list[str], changed: float) -> tuple[list[str], int]:
    """The revised book, and how many paragraphs were edited."""
    rng = random.Random(f"{SEED}:revision")
    revised, edited = [], 0
    for number, block in enumerate(blocks):
        roll = rng.random()
        if block.startswith("#"):
            revised.append(block)
        elif roll < 0.01:
            continue  # deleted
        elif roll < changed + 0.01:
            words = block.split()
            if rng.random() < 0.5:
                for _ in range(3):
                    words[rng.randrange(len(words) - 1)] = rng.choice(WORDS)
                revised.append(" ".join(words))
            else:
                revised.append(f"{block} {sentence(rng)}")
            edited += 1
        else:
            revised.append(block)
        if rng.random() < 0.01:
            revised.append(paragraph(rng, len(blocks) + number))  # inserted
    return revised, edited


def source(blocks: list[str]) -> str:
    front = "---\ntitle: A long book\nslug: a-long-book\nattribution: B.B.\n---\n\n"
    return front + "\n\n".join(blocks) + "\n"


class Stopwatch:
    def __init__(self):
        self.seconds = 0.0

    def wrap(self, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def measure(options) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.fixtures import comments_grow
    from essays import services
    from essays.models import PublicationJob
    from forum.discussion.models import Comment

    call_command("migrate", verbosity=0)
    blocks = book(options.paragraphs)
    essay = services.essay_import(source=source(blocks)).essay
    comments_grow(essay, options.comments)
    revised, edited = revise(blocks, options.changed)
    revised_source = source(revised)
    editor = get_user_model().objects.create_superuser(
        email="editor@example.org", password=None, display_name="Editor"
    )

    started = time.perf_counter()
    services.preview_revision(source=revised_source)
    preview = time.perf_counter() - started

    started = time.perf_counter()
    job = services.revision_publish(
        editor=editor, essay=essay, source=revised_source, onto_revision=essay.revision
    )
    publish_request = time.perf_counter() - started
    assert isinstance(job, PublicationJob), "the book should be published by the worker"

    # Time the worker's steps, without changing what it does.
    parsing, planning, receiving = Stopwatch(), Stopwatch(), Stopwatch()
    services.essay_document = parsing.wrap(services.essay_document)
    services.plan_revision = planning.wrap(services.plan_revision)
    services.essay_revised = SimpleNamespace(send=receiving.wrap(services.essay_revised.send))
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        job = services.publication_run(job_id=job.pk)
    publication = time.perf_counter() - started
    assert job.status == PublicationJob.Status.DONE, job.failure

    return {
        "database": connection.vendor,
        "paragraphs before": options.paragraphs,
        "paragraphs after": len(revised),
        "paragraphs edited": edited,
        "comments": Comment.objects.filter(essay=essay).count(),
        "outcome": job.summary,
        "preview request (s)": round(preview, 2),
        "publish request (s)": round(publish_request, 3),
        "publication, plan + apply (s)": round(publication, 2),
        "  of which parsing Markdown (s)": round(parsing.seconds, 2),
        "  of which plan_revision (s)": round(planning.seconds, 2),
        "  of which essay_revised receivers (s)": round(receiving.seconds, 2),
        "  queries": len(queries),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--paragraphs", type=int, default=5000)
    parser.add_argument("--changed", type=float, default=0.25)
    parser.add_argument("--comments", type=int, default=2000)
    options = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "forum.settings"
    os.environ["DJANGO_DEBUG"] = "true"  # no production secrets needed on loopback
    folder = Path(tempfile.mkdtemp(prefix="margins-publication-"))
    scratch = None
    try:
        if options.postgres:
            from scripts.stack import ScratchDatabase

            server = os.environ.get("BENCH_DATABASE_SERVER", DATABASE_SERVER)
            scratch = ScratchDatabase(server, SCRATCH_DATABASE).create()
            os.environ["DATABASE_URL"] = scratch.url()
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
        figures = measure(options)
    finally:
        if scratch is not None:
            from django.db import connections

            connections.close_all()
            scratch.drop()
        shutil.rmtree(folder, ignore_errors=True)
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
