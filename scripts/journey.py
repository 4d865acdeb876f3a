"""The production stack, started on loopback as `make serve` starts it, walked through as
readers would: sign up, confirm the address from the email, comment, follow, hear of a reply
by the worker's email, unsubscribe in one click.

    .venv/bin/python -m scripts.journey

Needs PostgreSQL and Redis (JOURNEY_DATABASE_SERVER, default postgres://postgres@127.0.0.1:5432,
and JOURNEY_REDIS_URL, default redis://127.0.0.1:6379/13). It makes a database of its own
and drops it at the end. Exits non-zero, saying which step failed, if any does.
"""

import os
import re
import sys
import tempfile
import time
from pathlib import Path

from scripts.stack import (
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
        r"(http://127\.0\.0\.1:\d+/accounts/confirm-email/\S+/)", text_of(confirmation), "link"
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
    stylesheet = find(r'href="(/static/[^"]+\.css)"', page, "the stylesheet")
    status, headers, _ = visitor.get(stylesheet)
    assert status == 200 and "immutable" in headers.get("Cache-Control", ""), stylesheet
    key = find(r'id="p-([A-Za-z0-9_-]+)"', page, "a paragraph's address")

    step("Alice signs up and confirms her address from the email")
    alice = sign_up_and_confirm(site, mail, "alice@example.org", "Alice Journey")
    step("Bob signs up and confirms his address")
    bob = sign_up_and_confirm(site, mail, "bob@example.org", "Bob Journey")

    step("Alice comments on a paragraph (posting follows her thread)")
    paragraph = f"{SEED_ESSAY}p/{key}/"
    status, headers, _ = alice.submit(
        paragraph, action_contains="/comment/", body="Alice's thought on this paragraph."
    )
    assert status == 302, f"Alice's comment answered {status}"
    status, _, page = visitor.get(paragraph)
    assert "thought on this paragraph." in page, "Alice's comment is not on the paragraph's page"
    alices_comment = find(r'id="c-(\d+)"', page, "Alice's comment")

    step("Alice follows the whole essay as well")
    status, _, _ = alice.submit(SEED_ESSAY, action_contains="/subscriptions/set/", level="follow")
    assert status in (200, 302), f"following answered {status}"

    step("Bob replies; the worker tells Alice by email")
    status, _, _ = bob.post(f"/comments/{alices_comment}/reply/", {"body": "Bob answers Alice."})
    assert status == 302, f"Bob's reply answered {status}"
    reply_email = wait_for(
        lambda: [m for m in mail.to("alice@example.org") if "Bob" in text_of(m)],
        within=60,
        what="the worker sent Alice no email about Bob's reply",
    )[0]
    assert "Bob answers Alice." in text_of(reply_email)
    assert reply_email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = find(r"<(http[^>]+)>", reply_email["List-Unsubscribe"], "unsubscribe link")
    assert unsubscribe.startswith(site), f"the email links elsewhere: {unsubscribe}"
    for link in re.findall(r"https?://\S+", text_of(reply_email)):
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


def main() -> int:
    server = os.environ.get("JOURNEY_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
    redis_url = os.environ.get("JOURNEY_REDIS_URL", "redis://127.0.0.1:6379/13")
    logs = Path(tempfile.mkdtemp(prefix="journey-"))
    database = ScratchDatabase(server, "margins_journey").create()
    mail = MailServer().start()
    port = free_port()
    environment = production_environment(
        database_url=database.url(),
        redis_url=redis_url,
        site_port=port,
        smtp_port=mail.port,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        # Each reader's first comment goes straight up (it is held for review by default).
        MODERATION_FIRST_COMMENTS_REVIEWED="0",
        NOTIFICATION_EMAIL_WINDOW="0",
    )
    site = f"http://127.0.0.1:{port}"
    stack = None
    try:
        step("Migrating a fresh database and loading the seed essay")
        manage(environment, "migrate", "--noinput")
        manage(environment, "load_seed")
        manage(environment, "shell", "-c", "from django.core.cache import cache; cache.clear()")
        step(f"make serve on {site} (gunicorn, 2 workers, and the task worker)")
        stack = Process(["make", "--no-print-directory", "serve"], environment, logs / "serve.log")
        wait_for(
            lambda: Reader(site).get("/healthz")[0] == 200 if port_open(port) else False,
            within=90,
            what=f"the stack did not come up; see {logs / 'serve.log'}",
            every=0.5,
        )
        walk(site, mail)
    except AssertionError as failure:
        step(f"FAILED: {failure}")
        if (logs / "serve.log").exists():
            print((logs / "serve.log").read_text()[-6000:], file=sys.stderr)
        return 1
    finally:
        if stack:
            stack.stop()
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
