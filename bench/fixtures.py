"""Deterministic fixtures for the benchmarks: the seed essay's discussion grown to any size,
members who sign in, and followers of the essay.

Run with the site's environment (bench/run.py does), after `manage.py load_seed`:

    python -m bench.fixtures comments 2000     # grow the discussion to 2,000 comments
    python -m bench.fixtures members poster 16 # members who can sign in with $BENCH_PASSWORD
    python -m bench.fixtures followers 10000   # readers following the whole essay
    python -m bench.fixtures describe          # JSON: addresses to request, what to check

The same size always gives the same discussion (who wrote what, where, in reply to whom):
comment i is drawn from a generator seeded with i alone, so the discussion of a larger size
begins with that of every smaller one, and growing from 200 to 2,000 adds comments 200-1,999.

Its shape: every comment is 300 characters of Markdown; half are replies, to an earlier comment
less than five levels deep (threads have at most five levels); three top-level threads in four
are on a paragraph, the rest on the whole essay; readers crowd a few paragraphs (a paragraph's
share of threads falls as 1/rank, the ranks dealt by the seed). Comments are stored as the
write path stores them (`Comment.place_in_thread`, the anchor fields as `comment_post` sets
them, `render_comment`), in bulk; the seed's own responses stay as they are.
"""

import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

SEED = "margins-bench"
SEED_ESSAY = "stalinism-the-inner-truth-of-bolshevism"
EMAIL_DOMAIN = "bench.example.org"
BODY_LENGTH = 300
DEEPEST = 4  # depths 0-4: five levels
REPLY_SHARE = 0.5
ON_PARAGRAPH_SHARE = 0.75
# Fixed dates, in the past: comment i was written 5 minutes after comment i - 1.
FIRST_WRITTEN = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

FIRST_NAMES = ["Ada", "Boris", "Clara", "Dmitri", "Elena", "Felix", "Greta", "Hugo"]
LAST_NAMES = ["Arendt", "Brandt", "Carr", "Deutscher", "Ellis", "Fischer", "Grossman", "Hill"]
AUTHORS = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]

VOCABULARY = (
    "the party state class revolution terror history power question answer reading "
    "paragraph argument evidence archive famine plan factory peasant worker congress purge "
    "trial memory doubt reason claim source letter decree moment decade faction leader "
    "apparatus theory practice violence consent truth inner logic outcome continuity "
    "rupture here author seems surely perhaps rather quite never always again later earlier "
    "still only also indeed"
)
WORDS = VOCABULARY.split()


@dataclass(frozen=True)
class PlannedComment:
    parent: int | None  # index of an earlier planned comment
    paragraph: int | None  # index among the essay's commentable paragraphs; None: whole essay
    depth: int
    author: int  # index in AUTHORS
    body: str


def comment_body(rng: Random) -> str:
    """BODY_LENGTH characters of Markdown: sentences, one word emphasised, and now and then a
    second paragraph."""
    sentences = []
    while sum(len(sentence) + 1 for sentence in sentences) <= BODY_LENGTH:
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
        if not sentences:
            emphasised = rng.randrange(len(words))
            words[emphasised] = f"*{words[emphasised]}*"
        sentences.append(" ".join(words).capitalize() + rng.choice(".?."))
    text = " ".join(sentences)
    if rng.random() < 0.3:
        text = text.replace(". ", ".\n\n", 1)
    text = text[:BODY_LENGTH]
    return text[:-1] + "." if text.endswith((" ", "\n")) else text


def plan(count: int, paragraphs: int) -> list[PlannedComment]:
    """The first `count` comments of the discussion, for an essay with that many commentable
    paragraphs. Pure: no database, the same answer every time."""
    ranked = Random(SEED).sample(range(paragraphs), paragraphs)
    weights = [1 / (rank + 1) for rank in range(paragraphs)]
    planned: list[PlannedComment] = []
    open_to_replies: list[int] = []
    for index in range(count):
        rng = Random(f"{SEED}:{index}")
        if open_to_replies and rng.random() < REPLY_SHARE:
            parent = rng.choice(open_to_replies)
            paragraph, depth = planned[parent].paragraph, planned[parent].depth + 1
        else:
            parent, depth = None, 0
            on_paragraph = rng.random() < ON_PARAGRAPH_SHARE
            paragraph = rng.choices(ranked, weights)[0] if on_paragraph else None
        planned.append(
            PlannedComment(parent, paragraph, depth, rng.randrange(len(AUTHORS)), comment_body(rng))
        )
        if depth < DEEPEST:
            open_to_replies.append(index)
    return planned


# What follows needs Django set up (main() does it).


def seed_essay():
    from essays.models import Essay

    return Essay.objects.get(slug=SEED_ESSAY)


def bench_email(kind: str, number: int) -> str:
    return f"{kind}-{number:05}@{EMAIL_DOMAIN}"


def users_ensure(kind: str, names: list[str], *, password: str | None = None) -> list:
    """The members of this kind, one per name, created in bulk when missing. With a password
    they can sign in (all share one hash: hashing is slow on purpose) and have a confirmed
    address; without, they only write or follow."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    emails = [bench_email(kind, number) for number in range(1, len(names) + 1)]
    existing = {user.email: user for user in User.objects.filter(email__in=emails)}
    hashed = make_password(password)  # unusable when password is None
    missing = [
        User(email=email, display_name=name, password=hashed)
        for email, name in zip(emails, names, strict=True)
        if email not in existing
    ]
    User.objects.bulk_create(missing, batch_size=1000)
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    if password is not None:
        User.objects.filter(pk__in=[user.pk for user in users]).update(password=hashed)
        confirmed = set(EmailAddress.objects.filter(user__in=users).values_list("email", flat=True))
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, primary=True, verified=True)
            for user in users
            if user.email not in confirmed
        )
    return users


def comments_grow(essay, total: int) -> int:
    """Grow the essay's discussion to `total` comments (the seed's responses included; fewer
    than those is none of ours) with the planned ones. Returns how many were added."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from forum.discussion.markup import normalize_body, render_comment
    from forum.discussion.models import Comment

    paragraphs = list(essay.paragraphs.live().commentable().order_by("position"))
    authors = users_ensure("author", AUTHORS)
    ours = Comment.objects.filter(essay=essay, author__email__endswith=f"@{EMAIL_DOMAIN}")
    theirs = Comment.objects.filter(essay=essay).exclude(pk__in=ours.values("pk")).count()
    comments = list(ours.select_related("paragraph", "root").order_by("id"))
    wanted = max(total - theirs, 0)
    if wanted < len(comments):
        raise SystemExit(f"The discussion has {theirs + len(comments)} comments: it only grows.")
    planned = plan(wanted, len(paragraphs))
    first_pk = (Comment.objects.aggregate(Max("pk"))["pk__max"] or 0) + 1
    added = []
    # Explicit keys, in plan order: a reply's parent has its key before the reply is stored,
    # and the ids read in the order the comments were written, as the site's would.
    for index in range(len(comments), wanted):
        planned_comment = planned[index]
        parent = None if planned_comment.parent is None else comments[planned_comment.parent]
        paragraph = (
            parent.paragraph
            if parent
            else None
            if planned_comment.paragraph is None
            else paragraphs[planned_comment.paragraph]
        )
        body = normalize_body(planned_comment.body)
        comment = Comment(
            pk=first_pk + len(added),
            essay=essay,
            paragraph=paragraph,
            **Comment.place_in_thread(parent),
            author=authors[planned_comment.author],
            # As comment_post sets them: a reply belongs to its thread's anchor.
            anchor_text=parent.anchor_text if parent else paragraph.text if paragraph else "",
            anchor_revision=parent.anchor_revision if parent else essay.revision,
            anchor_status=parent.anchor_status if parent else Comment.AnchorStatus.PLACED,
            body=body,
            body_html=render_comment(body),
            status=Comment.Status.PUBLISHED,
            created=FIRST_WRITTEN + timedelta(minutes=5 * index),
        )
        assert comment.depth == planned_comment.depth
        comments.append(comment)
        added.append(comment)
    with transaction.atomic():
        # The queryset's bulk_create, which tells the essay its discussion changed.
        Comment.objects.bulk_create(added, batch_size=500)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Comment]):
                cursor.execute(statement)
    statistics_refresh()
    return len(added)


def statistics_refresh() -> None:
    """After a bulk load, give PostgreSQL's planner the statistics that autovacuum would
    gather within a minute on a production server: a server with autovacuum off (a
    benchmark machine's may be) would otherwise plan every query as on empty tables."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def followers_ensure(essay, count: int) -> int:
    """`count` readers following the whole essay. Returns how many follow it now."""
    from forum.subscriptions.models import Subscription

    followers = users_ensure("follower", [f"Follower {n}" for n in range(1, count + 1)])
    following = set(
        Subscription.objects.filter(
            essay=essay, paragraph=None, thread=None, user__in=followers
        ).values_list("user_id", flat=True)
    )
    Subscription.objects.bulk_create(
        (
            Subscription(user=user, essay=essay, level=Subscription.Level.FOLLOW)
            for user in followers
            if user.pk not in following
        ),
        batch_size=1000,
    )
    statistics_refresh()
    return Subscription.objects.filter(
        essay=essay, paragraph=None, thread=None, level=Subscription.Level.FOLLOW
    ).count()


def describe(essay) -> dict:
    """What bench/run.py requests and checks, from the database as it is now."""
    from django.db.models import Count
    from django.urls import reverse
    from django_tasks_db.models import DBTaskResult

    from forum.discussion.models import Comment

    comments = Comment.objects.filter(essay=essay)
    busiest = (
        comments.filter(paragraph__isnull=False)
        .values("paragraph")
        .annotate(count=Count("id"))
        .order_by("-count", "paragraph")
        .first()
    )
    paragraph = (
        essay.paragraphs.get(pk=busiest["paragraph"])
        if busiest
        else essay.paragraphs.live().commentable().order_by("position").first()
    )

    def first_reply_of_first_thread(queryset) -> str | None:
        # The oldest threads are on the first page of their region, whatever its size, and
        # a thread's first reply is among the few shown under it there.
        replied = queryset.filter(parent=None, descendants__isnull=False).order_by("id").first()
        if replied is None:
            first = queryset.order_by("id").first()
            return first.anchor if first else None
        return queryset.filter(parent=replied).order_by("id").first().anchor

    commentable = essay.paragraphs.live().commentable().order_by("position")
    roots = comments.filter(parent=None, status=Comment.Status.PUBLISHED).order_by("id")
    return {
        "comments": comments.count(),
        "published": comments.filter(status=Comment.Status.PUBLISHED).count(),
        "on_essay": comments.filter(paragraph=None).count(),
        "essay_url": essay.get_absolute_url(),
        "login_url": reverse("account_login"),
        "busiest_paragraph": {
            "key": paragraph.key,
            "url": paragraph.get_absolute_url(),
            "comments": busiest["count"] if busiest else 0,
        },
        # The first reply of the first thread with replies on each page: shown only if its
        # thread is there, with its replies.
        "shows": {
            "essay": first_reply_of_first_thread(comments.filter(paragraph=None)),
            "paragraph": first_reply_of_first_thread(comments.filter(paragraph=paragraph)),
        },
        "compose_urls": [
            reverse("discussion:paragraph_comment", kwargs={"slug": essay.slug, "key": p.key})
            for p in commentable
        ],
        "reply_urls": [
            reverse("discussion:comment_reply", kwargs={"pk": pk})
            for pk in roots.values_list("pk", flat=True)[:64]
        ],
        "queued_tasks": DBTaskResult.objects.filter(status="READY").count(),
    }


def main(arguments: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    essay = seed_essay()
    match arguments:
        case ["comments", total]:
            added = comments_grow(essay, int(total))
            print(json.dumps({"added": added}))
        case ["members", kind, count]:
            password = os.environ["BENCH_PASSWORD"]
            names = [f"Bench {kind.capitalize()} {n}" for n in range(1, int(count) + 1)]
            users = users_ensure(kind, names, password=password)
            print(json.dumps([{"email": u.email, "name": u.display_name} for u in users]))
        case ["followers", count]:
            print(json.dumps({"followers": followers_ensure(essay, int(count))}))
        case ["describe"]:
            print(json.dumps(describe(essay)))
        case _:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
