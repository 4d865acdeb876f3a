"""Production settings refuse to start without what production needs, and say what is missing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "-production-secret-key-for-tests"


def start(*, fail_level="CRITICAL", **environ):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in ("DATABASE_URL", "SITE_URL", "REDIS_URL")
    }
    env.update(environ)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", fail_level],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DJANGO_SECRET_KEY": GOOD_KEY,
    "DJANGO_ALLOWED_HOSTS": "essays.example.org",
    "SITE_URL": "https://essays.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "DATABASE_URL": "postgres://margins@127.0.0.1:5432/margins",
}


@pytest.mark.parametrize("debug", ["false", None, "", "no"])
@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_production_refuses_to_start_and_names_the_missing_variable(debug, missing):
    """Unset, empty or anything but true is production: it fails closed."""
    environ = {name: value for name, value in PRODUCTION.items() if name != missing}
    if debug is not None:
        environ["DJANGO_DEBUG"] = debug
    result = start(**environ)
    assert result.returncode != 0
    assert f"{missing} is missing" in result.stderr


@pytest.mark.parametrize("decision", ["true", "false"])
def test_the_deployment_checklist_passes_once_the_owner_decides_on_hsts(decision):
    undecided = start(fail_level="WARNING", **PRODUCTION)
    assert undecided.returncode != 0
    assert "security.W005" in undecided.stderr and "security.W021" in undecided.stderr

    decided = start(
        fail_level="WARNING",
        DJANGO_HSTS_INCLUDE_SUBDOMAINS=decision,
        DJANGO_HSTS_PRELOAD=decision,
        **PRODUCTION,
    )
    assert decided.returncode == 0, decided.stderr


def test_hsts_preload_without_subdomains_is_refused():
    result = start(**PRODUCTION, DJANGO_HSTS_PRELOAD="true", DJANGO_HSTS_INCLUDE_SUBDOMAINS="false")
    assert result.returncode != 0 and "DJANGO_HSTS_INCLUDE_SUBDOMAINS=true" in result.stderr


def test_hsts_preload_sends_the_header_the_preload_list_asks_for():
    code = (
        "import django; django.setup()\n"
        "from django.http import HttpResponse\n"
        "from django.middleware.security import SecurityMiddleware\n"
        "from django.test import RequestFactory\n"
        "request = RequestFactory().get('/', secure=True)\n"
        "print(SecurityMiddleware(lambda r: HttpResponse())(request)"
        "['Strict-Transport-Security'])"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        PRODUCTION,
        DJANGO_SETTINGS_MODULE="forum.settings",
        DJANGO_HSTS_INCLUDE_SUBDOMAINS="true",
        DJANGO_HSTS_PRELOAD="true",
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    assert run.stdout.strip() == "max-age=31536000; includeSubDomains; preload", run.stderr


def test_a_short_key_is_refused():
    result = start(**{**PRODUCTION, "DJANGO_SECRET_KEY": "short"})
    assert result.returncode != 0 and "DJANGO_SECRET_KEY is missing" in result.stderr


def test_production_starts_with_a_real_key_hosts_and_address():
    result = start(**PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_development_needs_no_other_variable():
    result = start(DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_the_development_key_is_this_checkouts_own_and_never_committed(tmp_path):
    """Development makes its key once, in an ignored file: no key is in the repository."""
    from forum import settings as site_settings

    key_file = tmp_path / "key"
    original = site_settings.DEVELOPMENT_SECRET_KEY_FILE
    site_settings.DEVELOPMENT_SECRET_KEY_FILE = key_file
    try:
        first = site_settings.development_secret_key()
        assert len(first) >= 32 and key_file.read_text().strip() == first
        assert site_settings.development_secret_key() == first  # made once, then kept
        key_file.unlink()
        assert site_settings.development_secret_key() != first  # another checkout's own
    finally:
        site_settings.DEVELOPMENT_SECRET_KEY_FILE = original
    ignored = (PROJECT / ".gitignore").read_text().split()
    assert original.name in ignored


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="CI runs this with REDIS_URL set")
def test_with_redis_the_cache_and_rate_limits_are_shared_between_processes():
    """What one process counts, another sees: the limits hold across web processes."""
    from django.core.cache import caches

    from forum.ratelimits import RateLimited, consume

    assert type(caches["default"]).__name__ == "FailSoftRedisCache"
    code = (
        "import django; django.setup()\n"
        "from forum.ratelimits import consume\n"
        "for _ in range(3): consume('shared-test', 'someone', [(3, 60)])\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "forum.settings", "DJANGO_DEBUG": "true"}
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, check=True, timeout=60)
    with pytest.raises(RateLimited):
        consume("shared-test", "someone", [(3, 60)])
    assert caches["default"].failing_since is None, "counted in memory: Redis was not reached"


def test_env_example_as_written_starts_once_the_required_values_are_filled():
    """An owner copies .env.example into their environment file: its empty values mean
    the defaults, never a crash."""
    example = {}
    for line in (PROJECT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            example[name] = value
    assert "WORKER_PRESUMED_DEAD_AFTER" in example and "DJANGO_HSTS_SECONDS" in example
    result = start(**{**example, **PRODUCTION})
    assert result.returncode == 0, result.stderr


def database_options(**environ) -> dict:
    """settings.DATABASES["default"]["OPTIONS"] as a process started with `environ` sees it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_"))
        and key not in ("DATABASE_URL", "SITE_URL", "REDIS_URL")
    }
    env.update(environ)
    code = (
        "import os, json; os.environ['DJANGO_SETTINGS_MODULE'] = 'forum.settings'; "
        "from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgresql_prepares_statements_and_keeps_the_urls_own_options():
    """The server binds parameters and prepares repeated statements; what the address asks
    of the connection (verify the server's certificate, a timeout) is kept."""
    url = (
        "postgres://margins@db.example.org:5432/margins"
        "?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem&connect_timeout=3"
    )
    options = database_options(DJANGO_DEBUG="true", DATABASE_URL=url)
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    assert options["sslmode"] == "verify-full"
    assert options["sslrootcert"] == "/etc/ssl/db-ca.pem"
    assert options["connect_timeout"] == 3
    # Behind a pooler that cannot keep prepared statements, they can be turned off.
    off = database_options(
        DJANGO_DEBUG="true", DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="false"
    )
    assert off["prepare_threshold"] is None and off["sslmode"] == "verify-full"
