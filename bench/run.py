"""The reading-page benchmark, in one command: the site and a Django "Hello, world" served by
the same gunicorn settings, the same load on each in turn, and the site's speed as a share of
the hello world's, with what posting a comment costs.

    .venv/bin/python bench/run.py             # 3 rounds of 10 s; seed, 200, 2,000, 20,000 comments
    .venv/bin/python bench/run.py --quick     # smoke run: 1 round of 3 s; seed and 200 comments
    .venv/bin/python bench/run.py --postgres  # on PostgreSQL (default: a SQLite file of its own)
    .venv/bin/python bench/run.py --memory    # and a worker's memory across 10,000 requests
    .venv/bin/python bench/run.py --only posting,memory --json FILE  # some parts only

Needs wrk (Debian: apt-get install wrk) and Redis on 127.0.0.1:6379, whose database 9 it
flushes; with --postgres, PostgreSQL at BENCH_DATABASE_SERVER (default
postgres://postgres@127.0.0.1:5432), on which it makes and drops margins_bench. It talks to
127.0.0.1 only, and stops everything it started, whatever happens.

How it measures (only the ratio travels: the absolute figures are this machine's, on a day):

- The site runs in production (DJANGO_DEBUG unset; bench/settings.py only moves the collected
  static files and lifts the posting limit), the hello world (bench/hello/) as
  `startproject` makes it; both under deploy/gunicorn.conf.py with 2 sync workers.
- For each size, the discussion is grown by bench/fixtures.py (deterministic) and the site
  started afresh on an empty cache. Each round loads the hello world, then each page, with
  `wrk -t2 -c16 --latency` for the same time; the table gives the medians of the rounds.
- Pages: the essay for a visitor, the essay for a signed-in member (logged in through the
  login form), and the paragraph with the most comments for a visitor.
- Posting: 16 members post at once through the site's forms (each signed in, with the CSRF
  token of the page), a new comment on a paragraph and a reply in turn; then again with
  10,000 readers following the essay. Notification fan-out is the task worker's job, which
  is not running: what is measured is the reader's wait, and the processor time a post
  takes the workers and the database's server processes. Each figure is the median of the
  bursts (one per round).
- Memory: each gunicorn worker's resident set (VmRSS) after 1,000 requests mixed across the
  three pages and posting, and again after 10,000 more.

Results: printed, and written to bench/results/ (latest.json and reading-page.svg, the chart
the README shows; a --quick run writes quick.json and quick.svg instead, which git ignores;
a run with --only writes only where --json says).
"""

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import redis  # noqa: E402

from bench.chart import reading_chart  # noqa: E402
from scripts.stack import (  # noqa: E402
    PYTHON,
    MailServer,
    Process,
    Reader,
    ScratchDatabase,
    free_port,
    production_environment,
    step,
)

RESULTS = Path(__file__).resolve().parent / "results"
GUNICORN_CONFIG = "deploy/gunicorn.conf.py"
REDIS_URL = "redis://127.0.0.1:6379/9"
DATABASE_SERVER = "postgres://postgres@127.0.0.1:5432"
SCRATCH_DATABASE = "margins_bench"
THREADS, CONNECTIONS = 2, 16
POSTERS = 16
FOLLOWERS = 10_000
PAGES = ("essay, anonymous", "essay, signed in", "busiest paragraph, anonymous")


class BenchFailure(Exception):
    pass


# wrk


def wrk_run(wrk: str, url: str, seconds: float, cookie: str = "") -> dict:
    """One wrk run: requests per second, 99th percentile latency, and what went wrong."""
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    command = [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency"]
    # A slow page must be counted, not dropped: wait as long as gunicorn lets a request run.
    command += ["--timeout", "30s", *headers, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return wrk_parse(output)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_parse(output: str) -> dict:
    def number(pattern: str) -> float:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise BenchFailure(f"wrk's output has no {pattern!r}:\n{output}")
        return float(match.group(1))

    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": number(r"^Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"(\d+) requests in")),
        "p99_ms": float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else None,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


# The processes


class Bench:
    """Everything one run starts, and its stopping: gunicorn's process groups, the mail
    sink, the scratch database, the flushed Redis database, the temporary folder."""

    def __init__(self, *, postgres: bool, server: str):
        self.folder = Path(tempfile.mkdtemp(prefix="margins-bench-"))
        self.database = ScratchDatabase(server, SCRATCH_DATABASE) if postgres else None
        self.mail = MailServer()
        self.processes: dict[str, Process] = {}
        self.site_port, self.hello_port = free_port(), free_port()
        self.password = secrets.token_urlsafe(24)

    def __enter__(self) -> "Bench":
        try:
            self.set_up()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def set_up(self) -> None:
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.mail.start()
        if self.database:
            self.database.create()
            database_url = self.database.url()
        else:
            database_url = f"sqlite:///{self.folder / 'site.sqlite3'}"
        common = {"WEB_CONCURRENCY": "2"}
        self.site_environment = production_environment(
            database_url=database_url,
            redis_url=REDIS_URL,
            site_port=self.site_port,
            smtp_port=self.mail.port,
            GUNICORN_BIND=f"127.0.0.1:{self.site_port}",
            DJANGO_SETTINGS_MODULE="bench.settings",
            BENCH_STATIC_ROOT=str(self.folder / "static"),
            BENCH_PASSWORD=self.password,
            MODERATION_FIRST_COMMENTS_REVIEWED="0",
            **common,
        )
        self.hello_environment = production_environment(
            database_url="",
            redis_url="",
            site_port=self.hello_port,
            smtp_port=self.mail.port,
            GUNICORN_BIND=f"127.0.0.1:{self.hello_port}",
            DJANGO_SETTINGS_MODULE="bench.hello.settings",
            **common,
        )

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None and not issubclass(exc_type, KeyboardInterrupt | SystemExit):
            for name in ("site", "hello"):
                if tail := self.log_tail(name):
                    print(f"--- the end of {name}'s log ---\n{tail}", file=sys.stderr)
        # Each step on its own: one that fails must not leave the others undone.
        for name in list(self.processes):
            with contextlib.suppress(Exception):
                self.stop(name)
        with contextlib.suppress(Exception):
            self.mail.stop()
        with contextlib.suppress(Exception):
            redis.Redis.from_url(REDIS_URL).flushdb()
        if self.database:
            try:
                self.database.drop()
            except Exception as error:  # noqa: BLE001
                print(f"Could not drop {self.database.name}: {error}", file=sys.stderr)
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def site(self) -> str:
        return f"http://127.0.0.1:{self.site_port}"

    @property
    def hello(self) -> str:
        return f"http://127.0.0.1:{self.hello_port}/"

    def python(self, *arguments: str) -> str:
        """Run `python arguments` in the site's environment; its output."""
        run = subprocess.run(  # noqa: S603
            [PYTHON, *arguments],
            cwd=PROJECT,
            env=self.site_environment,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise BenchFailure(f"{' '.join(arguments)} failed:\n{run.stderr[-3000:]}")
        return run.stdout

    def fixtures(self, *arguments: str):
        return json.loads(self.python("-m", "bench.fixtures", *arguments).splitlines()[-1])

    def start(self, name: str, check_url: str) -> None:
        """Start gunicorn with the site (name "site") or the hello world, and wait until
        `check_url` answers 200."""
        module = "forum.wsgi" if name == "site" else "bench.hello.wsgi"
        environment = self.site_environment if name == "site" else self.hello_environment
        log = self.folder / f"{name}.log"
        self.processes[name] = process = Process(
            [PYTHON, "-m", "gunicorn", "--config", GUNICORN_CONFIG, module], environment, log
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise BenchFailure(f"gunicorn ({name}) exited:\n{self.log_tail(name)}")
            with contextlib.suppress(OSError):
                if Reader(check_url).get(check_url)[0] == 200:
                    return
            time.sleep(0.3)
        raise BenchFailure(f"{check_url} did not answer 200 within 90 s:\n{self.log_tail(name)}")

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process:
            process.stop()

    def log_tail(self, name: str, characters: int = 4000) -> str:
        log = self.folder / f"{name}.log"
        return log.read_text(errors="replace")[-characters:] if log.exists() else ""

    def worker_restarts(self, name: str) -> int:
        log = self.folder / f"{name}.log"
        return log.read_text(errors="replace").count("Autorestarting worker") if log.exists() else 0


# Readers


def signed_in(site: str, login_url: str, email: str, password: str) -> Reader:
    """A member's browser, logged in through the login form."""
    reader = Reader(site)
    status, headers, _ = reader.submit(
        login_url, action_contains=login_url, login=email, password=password
    )
    if status != 302:
        raise BenchFailure(f"logging in as {email} answered {status}, not a redirect")
    return reader


def cookie_header(reader: Reader) -> str:
    # The cookies a browser would send back; a message shown once is not one of them.
    return "; ".join(f"{c.name}={c.value}" for c in reader.cookies if c.name != "messages")


def expect_page(reader: Reader, path: str, *needles: str, cookie: str = "") -> None:
    status, _, text = reader.get(path, headers={"Cookie": cookie} if cookie else None)
    if status != 200:
        raise BenchFailure(f"GET {path} answered {status}")
    for needle in needles:
        if needle not in text:
            raise BenchFailure(f"GET {path}: {needle!r} is not on the page")


# The reading benchmark


def measure_reading(bench: Bench, wrk: str, *, sizes, rounds: int, seconds: float) -> list[dict]:
    rows = []
    member: Reader | None = None
    for size in sizes:
        bench.stop("site")
        if size:
            step(f"Growing the discussion to {size:,} comments")
            bench.fixtures("comments", str(size))
        facts = bench.fixtures("describe")
        # Each size starts as after a deploy: no cached page.
        redis.Redis.from_url(REDIS_URL).flushdb()
        bench.start("site", bench.site + facts["essay_url"])
        if member is None:
            account = bench.fixtures("members", "reader", "1")[0]
            member = signed_in(bench.site, facts["login_url"], account["email"], bench.password)
            member.get(facts["essay_url"])  # shows the "signed in" message, once
            cookie, member_name = cookie_header(member), account["name"]
        # Each page shows the first reply of its first thread with replies (fixtures.py).
        shows = {
            where: [f'id="{anchor}"'] if anchor else [] for where, anchor in facts["shows"].items()
        }
        visitor = Reader(bench.site)
        expect_page(visitor, facts["essay_url"], *shows["essay"])
        # wrk sends the member's cookies as one header: the page must be the member's.
        expect_page(visitor, facts["essay_url"], member_name, *shows["essay"], cookie=cookie)
        expect_page(visitor, facts["busiest_paragraph"]["url"], *shows["paragraph"])
        targets = {
            PAGES[0]: (bench.site + facts["essay_url"], ""),
            PAGES[1]: (bench.site + facts["essay_url"], cookie),
            PAGES[2]: (bench.site + facts["busiest_paragraph"]["url"], ""),
        }
        step(
            f"{facts['comments']:,} comments ({facts['on_essay']:,} on the whole essay, "
            f"{facts['busiest_paragraph']['comments']:,} on the busiest paragraph): "
            f"{rounds} round(s) of {seconds:g} s"
        )
        for url, page_cookie in targets.values():  # warm both workers and the cache
            wrk_run(wrk, url, min(seconds, 2), page_cookie)
        runs: dict[str, list[dict]] = {name: [] for name in (*PAGES, "hello")}
        for _ in range(rounds):
            runs["hello"].append(wrk_run(wrk, bench.hello, seconds))
            for name, (url, page_cookie) in targets.items():
                runs[name].append(wrk_run(wrk, url, seconds, page_cookie))
        for name, side in runs.items():
            for run in side:
                if run["non_2xx"] or run["socket_errors"]:
                    print(
                        f"  ! {name}: {run['non_2xx']} answers not 2xx/3xx, "
                        f"{run['socket_errors']} socket errors, of {run['requests']} requests"
                    )
        hello_rps = statistics.median(run["rps"] for run in runs["hello"])
        for name in PAGES:
            ours = runs[name]
            row = {
                "page": name,
                "comments": facts["comments"],
                "our_rps": statistics.median(run["rps"] for run in ours),
                "hello_rps": hello_rps,
                "our_p99_ms": statistics.median(run["p99_ms"] or 0 for run in ours),
                "hello_p99_ms": statistics.median(run["p99_ms"] or 0 for run in runs["hello"]),
                "rounds": {"ours": ours, "hello": runs["hello"]},
            }
            row["ratio"] = row["our_rps"] / hello_rps
            rows.append(row)
            print(f"  {name}: {row['our_rps']:,.1f} req/s, hello {hello_rps:,.0f} req/s")
    return rows


# The posting benchmark


class Poster:
    """A member's browser with the two forms it posts through, read once as a browser
    would: a new comment on a paragraph, and a reply."""

    def __init__(self, number: int, reader: Reader, compose: str, reply: str):
        self.number, self.reader = number, reader
        self.forms = [self.form_on(compose), self.form_on(reply)]

    def form_on(self, url: str) -> tuple[str, dict]:
        """The page's own form (it posts to the page's address): its fields and token."""
        for form in self.reader.forms(url):
            action = urllib.parse.urljoin(self.reader.url(url), form["action"] or url)
            if form["method"] == "post" and action == self.reader.url(url):
                return action, form["fields"]
        raise BenchFailure(f"no comment form on {url}")

    def read_message(self) -> None:
        """What a browser's next page does with the message the post left ("Your comment is
        published"): shows it, and the site clears it. The bench does not ask for that page
        (it is not what is measured), so it clears the message itself; kept, 20 of them would
        outgrow their cookie and move into the session, a cost no real reader causes."""
        for cookie in [cookie for cookie in self.reader.cookies if cookie.name == "messages"]:
            self.reader.cookies.clear(cookie.domain, cookie.path, cookie.name)

    def post(self, label: str, count: int, latencies: list, errors: list) -> None:
        """Post `count` comments as fast as the site answers, each form in turn."""
        for number in range(count):
            self.post_one(label, number, latencies, errors)

    def post_one(self, label: str, number: int, latencies: list, errors: list) -> None:
        """Post comment `number` (its text names the label and the number: never the same
        text twice, which the site would take for a double click)."""
        action, fields = self.forms[number % 2]
        body = (
            f"Poster {self.number}, {label}, post {number}: "
            + "a considered remark on the argument of this paragraph, " * 5
        )[:300]
        started = time.perf_counter()
        try:
            status, headers, text = self.reader.post(action, {**fields, "body": body})
        except OSError as error:
            errors.append(f"{type(error).__name__}: {error}")
            return
        latencies.append((time.perf_counter() - started) * 1000)
        self.read_message()
        if status != 302 or "#c-" not in headers.get("Location", ""):
            errors.append(f"{status} {headers.get('Location', '')} {text[:200]!r}")


def post_together(posters: list[Poster], *, label: str, count: int) -> dict:
    """Every poster posts `count` comments, all starting at once."""
    latencies: list[float] = []
    errors: list[str] = []
    start_together = threading.Barrier(len(posters) + 1)

    def post(poster: Poster) -> None:
        start_together.wait()
        poster.post(label, count, latencies, errors)

    threads = [threading.Thread(target=post, args=(poster,), daemon=True) for poster in posters]
    for thread in threads:
        thread.start()
    start_together.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "posters": len(posters),
        "posts": len(latencies),
        "posts_per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p99_ms": latencies[int((len(latencies) - 1) * 0.99)] if latencies else None,
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def measure_posting(bench: Bench, *, posts_each: int, rounds: int) -> list[dict]:
    """Posting with no follower, then with FOLLOWERS: `rounds` bursts each (the machine is
    shared: one burst can be unlucky), every figure the median of the bursts."""
    facts = bench.fixtures("describe")
    members = bench.fixtures("members", "poster", str(POSTERS))
    step(f"{POSTERS} posters sign in through the login form")
    posters = [
        Poster(
            number,
            signed_in(bench.site, facts["login_url"], member["email"], bench.password),
            compose=facts["compose_urls"][number % len(facts["compose_urls"])],
            reply=facts["reply_urls"][number % len(facts["reply_urls"])],
        )
        for number, member in enumerate(members, start=1)
    ]
    # A first burst, not counted, so that no measured one pays for a cold worker.
    post_together(posters, label="warm-up", count=2)
    results = []
    for followers in (0, FOLLOWERS):
        if followers:
            step(f"{followers:,} readers follow the essay")
            bench.fixtures("followers", str(followers))
        step(f"{POSTERS} posters post {posts_each} comments each, all at once, {rounds} time(s)")
        bursts = []
        for number in range(1, rounds + 1):
            before = bench.fixtures("describe")
            # The posters' connections are open by now (the warm-up burst opened them).
            serving = serving_processes(bench)
            cpu_before = cpu_seconds(serving)
            burst = post_together(
                posters, label=f"{followers} followers, burst {number}", count=posts_each
            )
            burst["cpu_ms_per_post"] = (
                (cpu_seconds(serving) - cpu_before) * 1000 / burst["posts"] if burst["posts"] else 0
            )
            after = bench.fixtures("describe")
            burst["published"] = after["published"] - before["published"]
            burst["queued_fan_outs"] = after["queued_tasks"] - before["queued_tasks"]
            burst["comments_before"] = before["comments"]
            print(
                f"  burst {number}: {burst['posts_per_second']:.1f} posts/s, "
                f"p50 {_ms(burst['p50_ms'])}, p99 {_ms(burst['p99_ms'])}, "
                f"{burst['cpu_ms_per_post']:.1f} ms of CPU a post, {burst['errors']} errors"
            )
            bursts.append(burst)
        result = {
            "followers": followers,
            "posters": POSTERS,
            "rounds": len(bursts),
            **{
                figure: statistics.median(burst[figure] or 0 for burst in bursts)
                for figure in ("posts", "posts_per_second", "p50_ms", "p99_ms", "cpu_ms_per_post")
            },
            "errors": sum(burst["errors"] for burst in bursts),
            "published": sum(burst["published"] for burst in bursts),
            "queued_fan_outs": sum(burst["queued_fan_outs"] for burst in bursts),
            "first_errors": [error for burst in bursts for error in burst["first_errors"]][:3],
            "bursts": bursts,
        }
        results.append(result)
    return results


# A worker's memory


def gunicorn_workers(master: int) -> dict[int, int]:
    """The master's children (its workers) and each one's resident memory, in kB."""
    workers = {}
    for status_file in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status_file.read_text().splitlines() if ":" in line
            )
        except OSError:  # gone while we looked
            continue
        if int(fields["PPid"]) == master and "VmRSS" in fields:
            workers[int(status_file.parent.name)] = int(fields["VmRSS"].split()[0])
    return workers


def cpu_seconds(pids) -> float:
    """The processor time (user and system) these processes have used so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def serving_processes(bench: Bench) -> list[int]:
    """The site's workers, and with PostgreSQL the server processes of the scratch
    database: what a post costs the machine, whatever else runs on it."""
    pids = list(gunicorn_workers(bench.processes["site"].pid))
    if bench.database:
        rows = bench.database.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            bench.database.name,
        )
        pids += [pid for (pid,) in rows]
    return pids


class MixedLoad:
    """The memory measurement's load, a counted number of requests from a few clients at
    once: the essay for a visitor and for a signed-in member and the busiest paragraph in
    turn, and one in POST_EVERY a comment posted (each post renews the cached pages)."""

    CLIENTS = 4
    POST_EVERY = 40

    def __init__(self, site: str, facts: dict, member: Reader, poster: Poster):
        visitor = Reader(site)
        self.pages = [
            (visitor, facts["essay_url"]),
            (member, facts["essay_url"]),
            (visitor, facts["busiest_paragraph"]["url"]),
        ]
        self.poster = poster
        self.sent = 0
        self.lock = threading.Lock()

    def one(self, number: int, errors: list) -> None:
        if number % self.POST_EVERY == self.POST_EVERY - 1:
            self.poster.post_one("memory", number // self.POST_EVERY, [], errors)
            return
        reader, path = self.pages[number % len(self.pages)]
        try:
            status, _, _ = reader.get(path)
        except OSError as error:
            errors.append(f"{type(error).__name__}: {error}")
            return
        if status != 200:
            errors.append(f"GET {path}: {status}")

    def send(self, count: int) -> list[str]:
        """Send `count` requests, CLIENTS at a time; what went wrong."""
        errors: list[str] = []
        # Numbered on from the last call: the posts' texts never repeat.
        until = self.sent + count

        def client() -> None:
            while True:
                with self.lock:
                    if self.sent >= until:
                        return
                    number = self.sent
                    self.sent += 1
                self.one(number, errors)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(self.CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors


def measure_memory(bench: Bench, *, warm_up: int, measured: int, blocks: int = 3) -> dict:
    """Each worker's resident memory after `warm_up` requests of the mixed load, then after
    each of `blocks` blocks of `measured` more. Memory that settles grows in the first block
    and not in the later ones; a leak grows in every block alike. gunicorn replaces a worker
    after max_requests: one replaced in between is reported, not compared."""
    facts = bench.fixtures("describe")
    account = bench.fixtures("members", "memory", "2")
    member = signed_in(bench.site, facts["login_url"], account[0]["email"], bench.password)
    poster = Poster(
        0,
        signed_in(bench.site, facts["login_url"], account[1]["email"], bench.password),
        compose=facts["compose_urls"][0],
        reply=facts["reply_urls"][0],
    )
    load = MixedLoad(bench.site, facts, member, poster)
    master = bench.processes["site"].pid
    step(f"Memory: a warm-up of {warm_up:,} mixed requests")
    errors = load.send(warm_up)
    readings = [gunicorn_workers(master)]
    started = time.perf_counter()
    for block in range(1, blocks + 1):
        step(f"Memory: block {block} of {blocks}, {measured:,} more mixed requests")
        errors += load.send(measured)
        readings.append(gunicorn_workers(master))
    elapsed = time.perf_counter() - started
    workers = []
    for pid in sorted(readings[0]):
        rss = [reading.get(pid) for reading in readings]
        growth = [
            None if before is None or after is None else after - before
            for before, after in zip(rss, rss[1:], strict=False)
        ]
        workers.append({"pid": pid, "rss_kb": rss, "growth_kb": growth})
    return {
        "warm_up_requests": warm_up,
        "measured_requests": measured,
        "blocks": blocks,
        "requests_per_second": measured * blocks / elapsed,
        "workers": workers,
        "replaced_workers": sorted(set(readings[-1]) - set(readings[0])),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


# Output


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def report(results: dict) -> str:
    lines = []
    if results["reading"]:
        lines += [
            f"Reading ({results['caption']})",
            "",
            "| page | comments | our req/s | hello req/s | ratio | our p99 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in results["reading"]:
            lines.append(
                f"| {row['page']} | {row['comments']:,} | {_count(row['our_rps'])} "
                f"| {_count(row['hello_rps'])} | {row['ratio']:.3g} | {_ms(row['our_p99_ms'])} |"
            )
        runs = [
            run for row in results["reading"] for side in row["rounds"].values() for run in side
        ]
        non_2xx = sum(run["non_2xx"] for run in runs)
        socket_errors = sum(run["socket_errors"] for run in runs)
        lines += [
            "",
            f"wrk saw {non_2xx} non-2xx/3xx answers and {socket_errors} socket errors "
            f"in {len(runs)} runs.",
        ]
    if results["posting"]:
        lines += [
            "",
            f"Posting ({POSTERS} members at once, {results['database']}, "
            f"median of {results['posting'][0]['rounds']} burst(s))",
            "",
            "| followers of the essay | posts | posts/s | p50 | p99 | CPU a post | errors "
            "| published |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in results["posting"]:
            lines.append(
                f"| {row['followers']:,} | {row['posts']:.0f} | {row['posts_per_second']:.1f} "
                f"| {_ms(row['p50_ms'])} | {_ms(row['p99_ms'])} | {_ms(row['cpu_ms_per_post'])} "
                f"| {row['errors']} | {row['published']} |"
            )
        for row in results["posting"]:
            for error in row["first_errors"]:
                lines.append(f"  error ({row['followers']:,} followers): {error}")
    if memory := results.get("memory"):
        blocks = memory["blocks"]
        lines += [
            "",
            f"A worker's memory ({results['database']}): resident set (VmRSS) after "
            f"{memory['warm_up_requests']:,} mixed requests, then its growth in each of "
            f"{blocks} blocks of {memory['measured_requests']:,} more "
            f"({memory['requests_per_second']:.0f} req/s). Flat: the later blocks add nothing.",
            "",
            "| worker | after warm-up | "
            + " | ".join(f"block {n}" for n in range(1, blocks + 1))
            + " | at the end |",
            "|---:|---:|" + "---:|" * (blocks + 1),
        ]
        for worker in memory["workers"]:
            rss, growth = worker["rss_kb"], worker["growth_kb"]
            lines.append(
                f"| {worker['pid']} | {rss[0] / 1024:.1f} MB | "
                + " | ".join("replaced" if g is None else f"{g / 1024:+.1f} MB" for g in growth)
                + f" | {'replaced' if rss[-1] is None else f'{rss[-1] / 1024:.1f} MB'} |"
            )
        if memory["replaced_workers"] or memory["errors"]:
            lines.append(
                f"  {len(memory['replaced_workers'])} worker(s) replaced during the run, "
                f"{memory['errors']} failed request(s) {memory['first_errors']}"
            )
    lines += [
        "",
        f"gunicorn recycled workers {results['worker_restarts']['site']} times (site) and "
        f"{results['worker_restarts']['hello']} times (hello world) "
        "(max_requests in deploy/gunicorn.conf.py).",
    ]
    return "\n".join(lines)


# The code that answers: the site's folders (bench/ is the measuring side).
CODE = ("forum", "essays", "templates", "static", "deploy", "manage.py")


def code_changed_since(started: float) -> list[str]:
    """The site's files written since `started`: the run measured more than one version."""
    paths = [path for top in CODE for path in [PROJECT / top, *(PROJECT / top).rglob("*")]]
    return sorted(
        str(path.relative_to(PROJECT))
        for path in paths
        if path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > started
    )


def code_version() -> dict:
    """The commit measured, and the site's files that differ from it (work in progress)."""

    def git(*arguments: str) -> str:
        command = ["git", *arguments]
        run = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)  # noqa: S603, S607
        return run.stdout

    status = git("status", "--porcelain", "--", *CODE)
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "uncommitted": [line[3:] for line in status.splitlines()],
    }


PARTS = ("reading", "posting", "memory")


def parts_option(value: str) -> list[str]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(PARTS)}, comma-separated")
    return parts


def site_at_size(bench: Bench, size: int) -> None:
    """The site started afresh on a discussion grown to `size` comments, the cache empty
    (what the reading part leaves behind, for a run without it)."""
    bench.stop("site")
    if size:
        step(f"Growing the discussion to {size:,} comments")
        bench.fixtures("comments", str(size))
    redis.Redis.from_url(REDIS_URL).flushdb()
    bench.start("site", bench.site + bench.fixtures("describe")["essay_url"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s, seed and 200")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--only",
        type=parts_option,
        metavar="PARTS",
        help=f"run only these parts, comma-separated among {', '.join(PARTS)} "
        "(the figures are printed, and written only where --json says)",
    )
    parser.add_argument(
        "--memory", action="store_true", help="also measure a worker's memory (see --only)"
    )
    parser.add_argument("--rounds", type=int, help="rounds of each measure (3; 1 with --quick)")
    parser.add_argument("--json", type=Path, help="write the figures there (with --only)")
    options = parser.parse_args()
    parts = options.only or ["reading", "posting", *(["memory"] if options.memory else [])]
    wrk = shutil.which("wrk")
    if "reading" in parts and not wrk:
        print("bench/run.py needs wrk: sudo apt-get install wrk", file=sys.stderr)
        return 2
    sizes = [0, 200] if options.quick else [0, 200, 2_000, 20_000]
    rounds, seconds = (1, 3) if options.quick else (3, 10)
    rounds = options.rounds or rounds
    posts_each = 4 if options.quick else 20
    warm_up, measured = (200, 1_000) if options.quick else (1_000, 10_000)
    server = os.environ.get("BENCH_DATABASE_SERVER", DATABASE_SERVER)
    database = "PostgreSQL" if options.postgres else "SQLite"
    # The site's own variables pass through to it (scripts/stack.py keeps all but its
    # DJANGO_ and GUNICORN_ ones): one that changes the figures is named with them.
    kept_connections = os.environ.get("DATABASE_CONN_MAX_AGE", "").strip()
    if kept_connections:
        database += f", DATABASE_CONN_MAX_AGE={kept_connections}"
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C: everything started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(postgres=options.postgres, server=server)
    code = code_version()
    started = time.time()
    reading, posting, memory = [], [], None
    try:
        with bench:
            step(f"Preparing the site on {database}: migrate, seed, static files")
            bench.python("manage.py", "migrate", "--noinput")
            bench.python("manage.py", "load_seed")
            bench.python("manage.py", "collectstatic", "--noinput", "--verbosity", "0")
            if "reading" in parts:
                bench.start("hello", bench.hello)
                reading = measure_reading(bench, wrk, sizes=sizes, rounds=rounds, seconds=seconds)
            elif "posting" in parts:
                site_at_size(bench, sizes[-1])
            else:
                site_at_size(bench, sizes[1])
            if "posting" in parts:
                posting = measure_posting(bench, posts_each=posts_each, rounds=rounds)
            if "memory" in parts:
                # A worker of its own age: started afresh, it has served only what is counted.
                site_at_size(bench, 0)
                memory = measure_memory(bench, warm_up=warm_up, measured=measured)
            restarts = {name: bench.worker_restarts(name) for name in ("site", "hello")}
    except BenchFailure as failure:
        print(f"bench/run.py failed: {failure}", file=sys.stderr)
        return 1
    results = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": {**code, "changed_during_run": code_changed_since(started)},
        "database": database,
        "parts": parts,
        "machine": {"cpus": os.cpu_count(), "system": platform.platform(terse=True)},
        "load": {
            "tool": "wrk",
            "threads": THREADS,
            "connections": CONNECTIONS,
            "seconds": seconds,
            "rounds": rounds,
        },
        "gunicorn": {"config": GUNICORN_CONFIG, "workers": 2, "worker_class": "sync"},
        "caption": (
            f"gunicorn, 2 sync workers, {database}; wrk -t{THREADS} -c{CONNECTIONS}, "
            f"median of {rounds} x {seconds} s; {os.cpu_count()} CPUs; "
            f"{datetime.now(UTC):%Y-%m-%d}"
        ),
        "worker_restarts": restarts,
        "reading": reading,
        "posting": posting,
        "memory": memory,
    }
    written = []
    if options.only is None:
        RESULTS.mkdir(exist_ok=True)
        name, chart = ("quick", "quick.svg") if options.quick else ("latest", "reading-page.svg")
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / chart).write_text(reading_chart(results))
        written = [f"bench/results/{name}.json", f"bench/results/{chart}"]
    if options.json:
        options.json.write_text(json.dumps(results, indent=2) + "\n")
        written.append(str(options.json))
    print()
    print(report(results))
    if written:
        print(f"\nWritten: {', '.join(written)}")
    if results["code"]["changed_during_run"]:
        changed = ", ".join(results["code"]["changed_during_run"])
        print(f"Warning: the site's code changed during the run ({changed}): run again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
