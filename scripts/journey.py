"""The production stack, started on loopback as `make serve` starts it, behind nginx with
deploy/nginx/margins.conf (TLS, proxy headers, static files), walked through as readers
would: sign up, confirm the address from the email, comment, follow, hear of a reply by
the worker's email, unsubscribe in one click.

    .venv/bin/python -m scripts.journey

Needs nginx and openssl (Debian: nginx-light, openssl), PostgreSQL and Redis
(JOURNEY_DATABASE_SERVER, default postgres://postgres@127.0.0.1:5432, and JOURNEY_REDIS_URL,
default redis://127.0.0.1:6379/13). It makes a database of its own and drops it at the end.
Exits non-zero, saying which step failed, if any does.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scripts.stack import (
    PROJECT,
    MailServer,
    Process,
    Reader,
    ScratchDatabase,
    find,
    free_port,
    manage,
    production_environment,
    step,
    text_of,
    wait_for,
)

SEED_ESSAY = "/essays/stalinism-the-inner-truth-of-bolshevism/"
PASSWORD = "a long passphrase for the journey"
VISITORS_AT_ONCE = 8


def sign_up_and_confirm(site: str, mail: MailServer, address: str, name: str) -> Reader:
    reader = Reader(site)
    status, headers, _ = reader.submit(
        "/accounts/signup/",
        email=address,
        password1=PASSWORD,
        password2=PASSWORD,
        display_name=name,
    )
    assert status == 302, f"sign-up of {address} answered {status}"
    confirmation = wait_for(
        lambda: mail.to(address), within=20, what=f"no confirmation email for {address}"
    )[0]
    link = find(
        r"(https?://127\.0\.0\.1:\d+/accounts/confirm-email/\S+/)", text_of(confirmation), "link"
    )
    status, headers, _ = reader.submit(link, action_contains="/accounts/confirm-email/")
    assert status == 302, f"confirming {address} answered {status}"
    status, _, page = reader.get("/")
    assert status == 200 and name in page, f"{name} is not signed in after confirming"
    return reader


def walk(site: str, mail: MailServer) -> None:
    step("A visitor reads the seed essay")
    visitor = Reader(site)
    status, headers, page = visitor.get(SEED_ESSAY)
    assert status == 200, f"the essay answered {status}"
    assert "Content-Security-Policy" in headers and "Permissions-Policy" in headers
    assert "max-age=" in headers.get("Strict-Transport-Security", ""), "no HSTS over HTTPS"
    stylesheet = find(r'href="(/static/[^"]+\.css)"', page, "the stylesheet")
    status, headers, _ = visitor.get(stylesheet)
    assert status == 200 and "immutable" in headers.get("Cache-Control", ""), stylesheet
    key = find(r'id="p-([A-Za-z0-9_-]+)"', page, "a paragraph's address")

    step("Alice signs up and confirms her address from the email")
    alice = sign_up_and_confirm(site, mail, "alice@example.org", "Alice Journey")
    step("Bob signs up and confirms his address")
    bob = sign_up_and_confirm(site, mail, "bob@example.org", "Bob Journey")

    paragraph = f"{SEED_ESSAY}p/{key}/"
    step("Visitors read the paragraph's page, from both web workers (each keeps it)")
    every_visitor_sees(site, paragraph, "thought on this paragraph.", present=False)

    step("Alice comments on a paragraph (posting follows her thread)")
    status, headers, _ = alice.submit(
        paragraph, action_contains="/comment/", body="Alice's thought on this paragraph."
    )
    assert status == 302, f"Alice's comment answered {status}"
    status, _, page = visitor.get(paragraph)
    assert "thought on this paragraph." in page, "Alice's comment is not on the paragraph's page"
    alices_comment = find(r'id="c-(\d+)"', page, "Alice's comment")
    step("Every visitor sees it at once, whichever worker answers")
    every_visitor_sees(site, paragraph, "thought on this paragraph.")

    step("Alice follows the whole essay as well")
    status, _, _ = alice.submit(SEED_ESSAY, action_contains="/subscriptions/set/", level="follow")
    assert status in (200, 302), f"following answered {status}"
    _, _, followed = alice.get("/subscriptions/")
    assert re.search(r"The essay\s+<a", followed), "the essay is not among what Alice follows"

    step("Bob replies; the worker tells Alice by email")
    status, _, _ = bob.post(f"/comments/{alices_comment}/reply/", {"body": "Bob answers Alice."})
    assert status == 302, f"Bob's reply answered {status}"
    reply_email = wait_for(
        lambda: [m for m in mail.to("alice@example.org") if "Bob" in text_of(m)],
        within=60,
        what="the worker sent Alice no email about Bob's reply",
    )[0]
    assert "Bob answers Alice." in text_of(reply_email)
    every_visitor_sees(site, paragraph, "Bob answers Alice.")
    assert reply_email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = find(r"<(http[^>]+)>", reply_email["List-Unsubscribe"], "unsubscribe link")
    assert unsubscribe.startswith(site), f"the email links elsewhere: {unsubscribe}"
    html = reply_email.get_body(preferencelist=("html",)).get_content()
    for link in re.findall(r"https?://[^\s\"'<>]+", text_of(reply_email) + html):
        assert link.startswith(site), f"the email links elsewhere: {link}"

    step("Alice unsubscribes in one click, as her mail program would (no cookies)")
    status, _, _ = Reader(site).post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert status == 200, f"one-click unsubscribe answered {status}"

    step("Bob replies again: Alice is notified on the site, and gets no email")
    emails_before = len(mail.to("alice@example.org"))
    status, _, _ = bob.post(f"/comments/{alices_comment}/reply/", {"body": "Bob again."})
    assert status == 302, f"Bob's second reply answered {status}"
    wait_for(
        lambda: "Bob again." in alice.get("/notifications/")[2],
        within=60,
        what="Alice's notifications never showed Bob's second reply",
    )
    time.sleep(3)  # an email, were one coming, is sent right after the notification
    assert len(mail.to("alice@example.org")) == emails_before, "Alice was emailed anyway"

    step("Health check: database, cache and worker all ok")
    status, _, body = visitor.get("/healthz")
    assert status == 200 and '"status": "ok"' in body, body


def every_visitor_sees(site: str, path: str, text: str, *, present: bool = True) -> None:
    """VISITORS_AT_ONCE visitors, each with no cookie, ask for the page at the same moment,
    three times: every web worker answers some (a worker serves one request at a time), and
    each must show `text` (or not). A worker keeps a reading page in its own memory until
    another announces a change (forum/cache.py's NearCache): none may show it stale."""
    with ThreadPoolExecutor(VISITORS_AT_ONCE) as pool:
        for _ in range(3):
            pages = list(pool.map(lambda _: Reader(site).get(path), range(VISITORS_AT_ONCE)))
            for status, _, page in pages:
                assert status == 200, f"{path} answered {status}"
                how = "without" if present else "with"
                assert (text in page) == present, f"a visitor was shown {path} {how} {text!r}"


def nginx_in_front(*, web_port: int, https_port: int, http_port: int, folder: Path) -> Process:
    """deploy/nginx/margins.conf as written, but for its ports, certificate (self-signed,
    made here) and folder: TLS, proxy headers and static files as on a server."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-keyout", str(folder / "key.pem")]
        + ["-out", str(folder / "cert.pem")],
        check=True,
        capture_output=True,
    )
    site = (PROJECT / "deploy" / "nginx" / "margins.conf").read_text()
    for old, new in {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/etc/letsencrypt/live/essays.example.org/fullchain.pem": str(folder / "cert.pem"),
        "/etc/letsencrypt/live/essays.example.org/privkey.pem": str(folder / "key.pem"),
        "/srv/margins/staticfiles/": f"{PROJECT / 'staticfiles'}/",
        "server 127.0.0.1:8000": f"server 127.0.0.1:{web_port}",
    }.items():
        assert old in site, f"deploy/nginx/margins.conf no longer has {old!r}"
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "[::]" not in line)
    (folder / "site.conf").write_text(site)
    # nginx started as root serves files as an unprivileged user, who may not enter a
    # checkout in a private folder: on loopback, for this run, it serves as root.
    serve_as = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{serve_as}pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log {folder}/access.log;\n  include {folder}/site.conf;\n}}\n"
        "daemon off;\n"
    )
    return Process(
        ["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)],
        dict(os.environ),
        folder / "nginx.log",
    )


def main() -> int:
    server = os.environ.get("JOURNEY_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
    redis_url = os.environ.get("JOURNEY_REDIS_URL", "redis://127.0.0.1:6379/13")
    logs = Path(tempfile.mkdtemp(prefix="journey-"))
    database = ScratchDatabase(server, "margins_journey").create()
    mail = MailServer().start()
    web_port, https_port, http_port = free_port(), free_port(), free_port()
    site = f"https://127.0.0.1:{https_port}"
    environment = production_environment(
        database_url=database.url(),
        redis_url=redis_url,
        site_port=https_port,
        smtp_port=mail.port,
        GUNICORN_BIND=f"127.0.0.1:{web_port}",
        WEB_CONCURRENCY="2",
        # Behind nginx, as deploy/ sets it up: HTTPS everywhere, the proxy's headers trusted.
        SITE_URL=site,
        DJANGO_SECURE_SSL="true",
        DJANGO_BEHIND_PROXY="true",
        DJANGO_CSRF_TRUSTED_ORIGINS=site,
        # Each reader's first comment goes straight up (it is held for review by default).
        MODERATION_FIRST_COMMENTS_REVIEWED="0",
        NOTIFICATION_EMAIL_WINDOW="0",
    )
    stack = proxy = None
    try:
        step("Migrating a fresh database and loading the seed essay")
        manage(environment, "migrate", "--noinput")
        manage(environment, "load_seed")
        manage(environment, "shell", "-c", "from django.core.cache import cache; cache.clear()")
        step(f"make serve on port {web_port}, behind deploy/'s nginx at {site}")
        stack = Process(["make", "--no-print-directory", "serve"], environment, logs / "serve.log")
        proxy = nginx_in_front(
            web_port=web_port, https_port=https_port, http_port=http_port, folder=logs
        )
        wait_for(
            lambda: port_open(https_port) and Reader(site).get("/healthz")[0] == 200,
            within=90,
            what=f"the stack did not come up; see {logs}",
            every=0.5,
        )
        status, headers, _ = Reader(f"http://127.0.0.1:{http_port}").get("/essays/")
        assert status == 301 and headers["Location"].startswith("https://"), "no HTTPS redirect"
        walk(site, mail)
    except AssertionError as failure:
        step(f"FAILED: {failure}")
        for log in ("serve.log", "error.log"):
            if (logs / log).exists():
                print((logs / log).read_text()[-6000:], file=sys.stderr)
        return 1
    finally:
        for process in (proxy, stack):
            if process:
                process.stop()
        mail.stop()
        database.drop()
    step("The journey passed")
    return 0


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


if __name__ == "__main__":
    sys.exit(main())
