"""Two web instances and two task workers sharing one PostgreSQL and one Redis, under load
and through outages. Prints the figures the README quotes, and fails on any lost or doubled
comment, notification or email.

    .venv/bin/python -m scripts.scale_out

What it does, all on loopback:
- gunicorn on two ports (2 processes each) and two `manage.py worker` processes, reaching
  PostgreSQL and Redis through TCP forwarders the script can cut (the servers themselves are
  left alone);
- 125 readers post 500 comments through both instances at once (a thread each, then replies
  in each other's threads, so every reply notifies other readers), while the database is cut
  off for a few seconds, and then Redis is;
- a session made on one instance is used on the other; one member's previews, sent to both
  instances, meet one rate limit;
- 10,000 followers of the essay, then a worker killed mid fan-out.

Needs PostgreSQL and Redis (SCALE_OUT_DATABASE_SERVER, default postgres://postgres@127.0.0.1:5432;
SCALE_OUT_REDIS, default 127.0.0.1:6379, database 12, flushed).
"""

import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from scripts.stack import (
    PYTHON,
    MailServer,
    Process,
    Reader,
    ScratchDatabase,
    free_port,
    manage,
    production_environment,
    step,
    text_of,
    wait_for,
)
from scripts.tcp_forwarder import Forwarder

SLUG = "stalinism-the-inner-truth-of-bolshevism"
ESSAY = f"/essays/{SLUG}/"
READERS = 125
REPLIES_EACH = 3  # after one thread each: 125 + 375 = 500 comments
EXTRA_FOLLOWERS = 10_000
OUTAGE_SECONDS = 4

MAKE_READERS = """
import json
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from essays.models import Essay
from forum.subscriptions.models import NotificationSettings, Subscription

User = get_user_model()
password = make_password("scale-out passphrase")
readers = User.objects.bulk_create(
    [User(email=f"reader{n}@example.org", display_name=f"Reader {n}", password=password)
     for n in range(READERS)]
)
followers = User.objects.bulk_create(
    [User(email=f"follower{n}@example.org", display_name=f"Follower {n}", password=password)
     for n in range(EXTRA_FOLLOWERS)],
    batch_size=2000,
)
EmailAddress.objects.bulk_create(
    [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in readers + followers],
    batch_size=2000,
)
# The followers read a daily digest: the fan-out reaches them all, their email waits.
NotificationSettings.objects.bulk_create(
    [NotificationSettings(user=u, email="daily") for u in followers], batch_size=2000
)
essay = Essay.objects.get(slug=SLUG)
sessions = []
for user in readers:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    sessions.append(session.session_key)
print(json.dumps({"essay": essay.pk, "sessions": sessions,
                  "followers": [u.pk for u in followers]}))
"""

FOLLOW_ESSAY = """
from forum.subscriptions.models import Subscription
Subscription.objects.bulk_create(
    [Subscription(user_id=u, essay_id=ESSAY_ID, level="follow") for u in FOLLOWERS],
    batch_size=2000,
)
"""


class Site:
    """The stack: two web instances, two workers, forwarders to PostgreSQL and Redis."""

    def __init__(self, logs: Path):
        self.logs = logs
        database_server = os.environ.get(
            "SCALE_OUT_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432"
        )
        redis_host, redis_port = os.environ.get("SCALE_OUT_REDIS", "127.0.0.1:6379").split(":")
        self.database = ScratchDatabase(database_server, "margins_scale_out").create()
        upstream_port = int(database_server.rsplit(":", 1)[1])
        self.postgres = Forwarder(upstream=("127.0.0.1", upstream_port)).start()
        self.redis = Forwarder(upstream=(redis_host, int(redis_port))).start()
        self.redis_direct = redis.Redis(host=redis_host, port=int(redis_port), db=12)
        self.redis_direct.flushdb()
        self.mail = MailServer().start()
        self.ports = [free_port(), free_port()]
        self.environment = production_environment(
            database_url=self.database.url(port=self.postgres.port),
            redis_url=f"redis://127.0.0.1:{self.redis.port}/12",
            site_port=self.ports[0],
            smtp_port=self.mail.port,
            WEB_CONCURRENCY="2",
            MODERATION_FIRST_COMMENTS_REVIEWED="0",
            NOTIFICATION_EMAIL_WINDOW="3",
            # Quicker than production's 10 s and 60 s, so the run stays short.
            WORKER_HEARTBEAT_SECONDS="1",
            WORKER_PRESUMED_DEAD_AFTER="5",
        )
        self.web = []
        self.workers = []

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def start(self) -> None:
        manage(self.environment, "migrate", "--noinput")
        manage(self.environment, "load_seed")
        manage(self.environment, "collectstatic", "--noinput", "--verbosity", "0")
        for n, port in enumerate(self.ports):
            environment = {**self.environment, "GUNICORN_BIND": f"127.0.0.1:{port}"}
            command = [str(Path(PYTHON).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
            self.web.append(
                Process([*command, "forum.wsgi"], environment, self.logs / f"web{n}.log")
            )
        for _ in range(2):
            self.start_worker()
        for url in self.urls():
            wait_for(
                lambda url=url: reachable(url),
                within=60,
                what=f"{url} did not come up; see {self.logs}",
                every=0.5,
            )

    def start_worker(self) -> Process:
        worker = Process(
            [PYTHON, "manage.py", "worker", "--interval", "0.5", "--no-reload"],
            self.environment,
            self.logs / f"worker{len(self.workers)}.log",
        )
        self.workers.append(worker)
        return worker

    def shell(self, code: str) -> str:
        """Run code in the site's shell; its last line of output."""
        output = manage(self.environment, "shell", "--no-imports", "-c", code)
        return output.strip().splitlines()[-1] if output.strip() else ""

    def stop(self) -> None:
        for process in self.web + self.workers:
            process.stop()
        self.postgres.stop()
        self.redis.stop()
        self.mail.stop()
        self.redis_direct.flushdb()
        self.database.drop()


def reachable(url: str) -> bool:
    try:
        return Reader(url).get("/healthz")[0] in (200, 503)
    except OSError:
        return False


class Poster:
    """A reader posting, who presses Post again when told the site is briefly unavailable
    (their text is still there: the 503 page shows it)."""

    def __init__(self, number: int, url: str, session_key: str, figures: "Figures"):
        self.number = number
        self.reader = Reader(url)
        self.figures = figures
        self.reader.cookies.set_cookie(cookie("sessionid", session_key))
        status = self.reader.get(ESSAY)[0]
        assert status == 200, f"reader {number} cannot read the essay: {status}"

    def post(self, path: str, body: str) -> None:
        for _ in range(60):
            started = time.monotonic()
            status, headers, page = self.reader.post(path, {"body": body})
            self.figures.record(status, time.monotonic() - started)
            if status == 302:
                return
            if status == 503:
                escaped = body.replace("'", "&#x27;")
                assert escaped in page or body in page, "a 503 lost the reader's text"
                time.sleep(min(float(headers.get("Retry-After", "1")), 2))
                continue
            raise AssertionError(f"reader {self.number}: POST {path} answered {status}")
        raise AssertionError(f"reader {self.number} never got through")


def cookie(name: str, value: str):
    import http.cookiejar

    return http.cookiejar.Cookie(
        0,
        name,
        value,
        None,
        False,
        "127.0.0.1",
        False,
        False,
        "/",
        True,
        False,
        None,
        False,
        None,
        None,
        {},
    )


class Figures:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.posted = 0

    def record(self, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status == 302:
                self.latencies.append(seconds)
                self.posted += 1

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def outage(forwarder: Forwarder, name: str, site: Site, report: dict) -> None:
    """Cut one server off for OUTAGE_SECONDS while readers post and read."""
    step(f"Cutting the site off from {name} for {OUTAGE_SECONDS} s")
    pages = Counter()
    forwarder.cut()
    until = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < until:
        for url in site.urls():
            pages[Reader(url).get(ESSAY)[0]] += 1
        time.sleep(0.2)
    forwarder.restore()
    restored = time.monotonic()
    wait_for(
        lambda: all(Reader(url).get(ESSAY)[0] == 200 for url in site.urls()),
        within=60,
        what=f"the site did not recover from the {name} outage",
        every=0.1,
    )
    report[name] = {
        "reading page answers during the outage": dict(pages),
        "seconds to recover after": round(time.monotonic() - restored, 2),
    }


def run(site: Site, report: dict) -> None:
    step("Creating 125 readers and 10,000 followers; signing the readers in")
    made = json.loads(
        site.shell(
            f"READERS = {READERS}\nEXTRA_FOLLOWERS = {EXTRA_FOLLOWERS}\nSLUG = {SLUG!r}\n"
            + MAKE_READERS
        )
    )
    urls = site.urls()
    figures = Figures()
    posters = [Poster(n, urls[n % 2], key, figures) for n, key in enumerate(made["sessions"])]
    # The paragraphs open to discussion: those whose page the margin links to.
    paragraphs = sorted(
        set(re.findall(rf'href="{ESSAY}p/([A-Za-z0-9_-]+)/"', Reader(urls[0]).get(ESSAY)[2]))
    )
    assert paragraphs, "no paragraph open to discussion on the essay page"

    step("A session made on one instance is good on the other")
    alice = Reader(urls[0])
    status, _, _ = alice.submit(
        "/accounts/login/",
        action_contains="login",
        login="reader0@example.org",
        password="scale-out passphrase",  # noqa: S106 (the readers made above)
    )
    assert status == 302, f"login answered {status}"
    alice.base_url = urls[1]
    status, _, page = alice.get("/subscriptions/")
    assert status == 200 and "Reader 0" in page, "the session was not valid on the other instance"

    step("One member's previews, to both instances, meet one limit (60 a minute)")
    previewer = Reader(urls[0])
    previewer.cookies.set_cookie(cookie("sessionid", made["sessions"][-1]))
    previewer.get(ESSAY)
    answers = Counter()
    for n in range(80):
        previewer.base_url = urls[n % 2]
        answers[previewer.post("/comments/preview/", {"body": f"Preview {n}"})[0]] += 1
    assert answers == {200: 60, 429: 20}, f"previews across both instances: {dict(answers)}"
    report["previews across both instances (limit 60)"] = dict(answers)

    step(f"{READERS} readers each start a thread, through both instances at once")
    started = time.monotonic()
    random.seed(7)
    with ThreadPoolExecutor(16) as pool:
        for poster in posters:
            key = random.choice(paragraphs)
            pool.submit(
                poster.post, f"{ESSAY}p/{key}/comment/", f"Thread {poster.number}: a first thought."
            ).add_done_callback(raise_failure)
    roots = [
        row[0]
        for row in site.database.query("SELECT id FROM discussion_comment WHERE parent_id IS NULL")
    ]

    step(
        f"Each replies {REPLIES_EACH} times in others' threads;"
        " PostgreSQL, then Redis, cut meanwhile"
    )

    def replies(poster: Poster) -> None:
        for n in range(REPLIES_EACH):
            parent = random.choice(roots)
            poster.post(f"/comments/{parent}/reply/", f"Reply {n} by reader {poster.number}.")

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(replies, poster) for poster in posters]
        wait_for(lambda: figures.posted >= READERS + 60, within=120, what="replies stalled")
        outage(site.postgres, "PostgreSQL", site, report)
        wait_for(lambda: figures.posted >= READERS + 200, within=120, what="replies stalled")
        outage(site.redis, "Redis", site, report)
        for future in futures:
            future.result()
    elapsed = time.monotonic() - started
    report["posting"] = {
        "comments": figures.posted,
        "seconds": round(elapsed, 1),
        "comments per second": round(figures.posted / elapsed, 1),
        "p50 ms": round(figures.percentile(0.5)),
        "p99 ms": round(figures.percentile(0.99)),
        "answers": dict(figures.statuses),
    }

    step("Every comment stored once")
    rows = site.database.query(
        "SELECT count(*), count(DISTINCT (author_id, body)) FROM discussion_comment"
        " WHERE body LIKE 'Thread %%: a first thought.' OR body LIKE 'Reply %% by reader %%.'"
    )
    assert rows[0] == (500, 500), f"comments stored (all, distinct): {rows[0]}"

    step("Waiting for the workers: every notification made once, every email sent once")
    wait_for(lambda: queue_empty(site), within=300, what="the workers never caught up", every=1)
    time.sleep(site_window_seconds(site) + 2)
    wait_for(lambda: queue_empty(site), within=300, what="the workers never caught up", every=1)
    check_exactly_once(site, report)

    step(f"{EXTRA_FOLLOWERS:,} followers; a worker killed in the middle of the fan-out")
    site.shell(f"ESSAY_ID = {made['essay']}\nFOLLOWERS = {made['followers']}\n" + FOLLOW_ESSAY)
    posters[1].post(f"{ESSAY}comment/", "A comment ten thousand readers follow.")
    comment_id = site.database.query(
        "SELECT id FROM discussion_comment WHERE body LIKE 'A comment ten thousand%%'"
    )[0][0]
    holder = wait_for(
        lambda: fan_out_in_progress(site, comment_id),
        within=60,
        what="the fan-out never started",
        every=0.01,
    )
    notified_before = notifications_for(site, comment_id)
    victim = next(w for w in site.workers if w.pid == holder)
    victim.kill()
    killed = time.monotonic()
    step(f"Killed worker {holder} after {notified_before:,} of the followers' notifications")
    site.start_worker()  # as systemd would (Restart=always)
    wait_for(
        lambda: notifications_for(site, comment_id) >= EXTRA_FOLLOWERS,
        within=120,
        what="the fan-out of the killed worker was never finished",
        every=0.5,
    )
    report["worker killed mid fan-out"] = {
        "followers": EXTRA_FOLLOWERS,
        "notifications made before the kill": notified_before,
        "seconds until all were made": round(time.monotonic() - killed, 1),
    }
    wait_for(lambda: queue_empty(site), within=300, what="the workers never caught up", every=1)
    time.sleep(site_window_seconds(site) + 2)
    wait_for(lambda: queue_empty(site), within=300, what="the workers never caught up", every=1)
    # Every follower told once; the author (reader 1) is not told of their own comment.
    notified = notifications_for(site, comment_id)
    assert notified == EXTRA_FOLLOWERS, f"{notified} notifications for {EXTRA_FOLLOWERS} followers"
    logs = "".join(path.read_text() for path in site.logs.glob("worker*.log"))
    assert "giving it back to the queue" in logs, "no worker took over the killed one's task"
    check_exactly_once(site, report)


def raise_failure(future) -> None:
    if future.exception():
        raise future.exception()


def site_window_seconds(site: Site) -> int:
    return int(site.environment["NOTIFICATION_EMAIL_WINDOW"])


def queue_empty(site: Site) -> bool:
    rows = site.database.query(
        "SELECT count(*) FROM django_tasks_database_dbtaskresult"
        " WHERE status IN ('READY', 'RUNNING')"
    )
    return rows[0][0] == 0


def fan_out_in_progress(site: Site, comment_id: int):
    """The pid of the worker running the comment's fan-out, once it has begun."""
    rows = site.database.query(
        "SELECT r.worker_ids, h.pid FROM django_tasks_database_dbtaskresult r"
        " LEFT JOIN operations_workerheartbeat h ON h.worker_id = r.worker_ids->>-1"
        " WHERE r.status = 'RUNNING' AND r.task_path LIKE '%%fan_out_comment'"
        " AND r.args_kwargs->'args'->>0 = %s",
        str(comment_id),
    )
    if rows and rows[0][1] and notifications_for(site, comment_id) > 0:
        return rows[0][1]
    return None


def notifications_for(site: Site, comment_id: int) -> int:
    return site.database.query(
        "SELECT count(*) FROM subscriptions_notification WHERE comment_id = %s", comment_id
    )[0][0]


def check_exactly_once(site: Site, report: dict) -> None:
    """Every activity notification is unique (reader, comment); every reader who wants
    email at once got each of their notifications in exactly one email."""
    duplicates = site.database.query(
        "SELECT count(*) FROM (SELECT recipient_id, comment_id FROM subscriptions_notification"
        " GROUP BY recipient_id, comment_id HAVING count(*) > 1) d"
    )[0][0]
    assert duplicates == 0, f"{duplicates} doubled notifications"
    wanted = Counter()
    for email, comment_id in site.database.query(
        "SELECT u.email, n.comment_id FROM subscriptions_notification n"
        " JOIN accounts_user u ON u.id = n.recipient_id"
        " LEFT JOIN subscriptions_notificationsettings s ON s.user_id = u.id"
        " WHERE coalesce(s.email, 'immediately') = 'immediately'"
    ):
        wanted[(email, comment_id)] += 1
    received = Counter()
    for message in list(site.mail.messages):
        if "There is something new" not in text_of(message):
            continue
        for comment_id in re.findall(r"Read it: \S+/comments/(\d+)/", text_of(message)):
            received[(message["To"], int(comment_id))] += 1
    doubled = [key for key, count in received.items() if count > 1]
    missing = set(wanted) - set(received)
    assert not doubled, f"{len(doubled)} notifications emailed twice, e.g. {doubled[:3]}"
    assert not missing, f"{len(missing)} notifications never emailed, e.g. {list(missing)[:3]}"
    report.setdefault("exactly once", []).append(
        {
            "notifications": site.database.query("SELECT count(*) FROM subscriptions_notification")[
                0
            ][0],
            "emailed notifications": sum(received.values()),
            "emails": len(site.mail.messages),
        }
    )


def main() -> int:
    logs = Path(tempfile.mkdtemp(prefix="scale-out-"))
    site = Site(logs)
    report: dict = {}
    try:
        step(f"Starting two web instances {site.urls()} and two workers (logs in {logs})")
        site.start()
        run(site, report)
    except AssertionError as failure:
        step(f"FAILED: {failure}")
        return 1
    finally:
        site.stop()
    step("Passed. Figures:")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
