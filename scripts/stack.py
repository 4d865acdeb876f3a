"""What the journey and the scale-out scripts share: the production stack started on
loopback, a mail server that keeps what it receives, and a reader's browser without a
browser (cookies, CSRF tokens, forms).

Everything here talks to 127.0.0.1 only.
"""

import contextlib
import email
import email.policy
import html.parser
import http.cookiejar
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_for(condition, *, within: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"after {within:.0f} s: {what}")


# The database and the environment.


class ScratchDatabase:
    """A PostgreSQL database of the script's own, dropped at the end."""

    def __init__(self, server_url: str, name: str):
        self.server_url = server_url.rstrip("/")
        self.name = name

    def administer(self, statement: str) -> None:
        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as admin:
            admin.execute(statement)

    def create(self) -> "ScratchDatabase":
        self.administer(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self.administer(f"CREATE DATABASE {self.name}")
        return self

    def drop(self) -> None:
        self.administer(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def url(self, *, port: int | None = None) -> str:
        parsed = urllib.parse.urlsplit(self.server_url)
        netloc = parsed.netloc if port is None else f"{parsed.netloc.rsplit(':', 1)[0]}:{port}"
        return f"{parsed.scheme}://{netloc}/{self.name}"

    def query(self, sql: str, *params):
        with psycopg.connect(self.url()) as connection:
            return connection.execute(sql, params).fetchall()


def production_environment(*, database_url, redis_url, site_port, smtp_port, **extra) -> dict:
    """Production settings (DJANGO_DEBUG unset), on loopback: plain HTTP (TLS belongs to
    the proxy in front, deploy/nginx), mail to the script's own mail server."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GUNICORN_", "WORKER_"))
        and key not in ("DATABASE_URL", "REDIS_URL", "SITE_URL", "EMAIL_HOST", "WEB_CONCURRENCY")
    }
    environment.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=f"http://127.0.0.1:{site_port}",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SECURE_SSL="false",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="false",
        DEFAULT_FROM_EMAIL="Margins <margins@127.0.0.1>",
    )
    environment.update(extra)
    return environment


def manage(environment: dict, *arguments: str) -> str:
    run = subprocess.run(
        [PYTHON, "manage.py", *arguments],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(arguments)} failed:\n{run.stderr}")
    return run.stdout


class Process:
    """A long-running process in a process group of its own, its output in a log file."""

    def __init__(self, command: list[str], environment: dict, log: Path):
        self.log = log
        self.popen = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=environment,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self, sig=signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            self.popen.wait()


# Mail.


class MailServer:
    """An SMTP server on loopback that keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        sink = self

        class Session(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 127.0.0.1 ready")
                while line := self.rfile.readline():
                    command = line.decode(errors="replace").strip().upper()
                    if command.startswith("EHLO"):
                        self.reply("250-127.0.0.1")
                        self.reply("250 8BITMIME")
                    elif command == "DATA":
                        self.reply("354 end with <CR><LF>.<CR><LF>")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        sink.keep(b"".join(data))
                        self.reply("250 kept")
                    elif command == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # HELO, MAIL, RCPT, RSET, NOOP
                        self.reply("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def start(self) -> "MailServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def keep(self, data: bytes) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [message for message in self.messages if address in message["To"]]


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


# A reader.


class Forms(html.parser.HTMLParser):
    """Every form of a page: its action, method and the values it would send."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": attributes.get("action") or "",
                    "method": (attributes.get("method") or "get").lower(),
                    "fields": {},
                }
            )
        elif tag in ("input", "button") and self.forms and attributes.get("name"):
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            if tag == "button" or kind == "submit":
                self.forms[-1].setdefault("buttons", {})[attributes["name"]] = attributes.get(
                    "value", ""
                )
                return
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Reader:
    """One reader's browser: a cookie jar, and requests that answer (status, headers, text)."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        # The journey's nginx has a certificate made a moment ago, for 127.0.0.1 only.
        loopback_tls = ssl.create_default_context()
        loopback_tls.check_hostname = False
        loopback_tls.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies),
            urllib.request.HTTPSHandler(context=loopback_tls),
            NoRedirects(),
        )

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def request(self, method: str, path: str, data: dict | None = None, headers=None):
        body = urllib.parse.urlencode(data or {}, doseq=True).encode() if method == "POST" else None
        request = urllib.request.Request(
            self.url(path), data=body, method=method, headers=dict(headers or {})
        )
        if method == "POST":
            request.add_header("Referer", self.url(path))
            if token := self.csrf_token():
                request.add_header("X-CSRFToken", token)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers, answer.read().decode(errors="replace")

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        return self.request("POST", path, data, **kwargs)

    def csrf_token(self) -> str | None:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), None)

    def forms(self, path: str) -> list[dict]:
        status, _, text = self.get(path)
        assert status == 200, f"GET {path}: {status}"
        parser = Forms()
        parser.feed(text)
        return parser.forms

    def submit(self, path: str, *, action_contains: str = "", **values):
        """Fill in and send the first form on the page whose action contains the text (a
        form without an action posts to its page's own address)."""
        form = next(
            form
            for form in self.forms(path)
            if action_contains in (form["action"] or path) and form["method"] == "post"
        )
        action = urllib.parse.urljoin(self.url(path), form["action"] or path)
        return self.post(action, {**form["fields"], **values})


def location(headers) -> str:
    return headers.get("Location", "")


def find(pattern: str, text: str, what: str) -> str:
    match = re.search(pattern, text)
    assert match, f"not found on the page: {what}"
    return match.group(1)
