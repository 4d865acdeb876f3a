"""Production settings refuse to start without what production needs, and say what is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "-production-secret-key-for-tests"


def start(**environ):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key != "DATABASE_URL"
    }
    env.update(environ)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "CRITICAL"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "environ, missing",
    [
        ({"DJANGO_ALLOWED_HOSTS": "essays.example.org"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short", "DJANGO_ALLOWED_HOSTS": "e.example"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": GOOD_KEY}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_and_names_the_missing_variable(environ, missing):
    result = start(DJANGO_DEBUG="false", **environ)
    assert result.returncode != 0
    assert f"{missing} is missing" in result.stderr


def test_production_starts_with_a_real_key_and_hosts():
    result = start(
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_ALLOWED_HOSTS="essays.example.org"
    )
    assert result.returncode == 0, result.stderr


def test_development_needs_no_variable_at_all():
    result = start()
    assert result.returncode == 0, result.stderr


def test_every_variable_the_settings_read_is_listed_in_env_example():
    import re

    settings_source = (PROJECT / "forum" / "settings.py").read_text()
    read = set(re.findall(r'(?:environ\.get|env_bool|env_list)\("([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z_]+)=", (PROJECT / ".env.example").read_text(), re.M))
    assert read - listed == set()


def test_the_error_pages_render_without_a_request():
    from django.template.loader import render_to_string

    assert "Something went wrong" in render_to_string("500.html")
    assert "Page not found" in render_to_string("404.html")
