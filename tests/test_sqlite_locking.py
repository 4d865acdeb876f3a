"""The development database (SQLite) under the two processes `make run` starts: the web
server and the worker write at the same time, and neither may fail with "database is locked"."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

# Each writer reads, then writes, in one transaction, as a service does (the read takes a
# shared lock that a deferred transaction must upgrade: the upgrade fails at once when the
# other process holds the write lock, whatever the busy timeout).
WRITER = textwrap.dedent(
    """
    import time
    import django
    django.setup()
    from django.db import connection, transaction
    for _ in range(150):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT n FROM counter")
            cursor.fetchone()
            time.sleep(0.002)  # the other process's transaction starts meanwhile
            cursor.execute("UPDATE counter SET n = n + 1")
    """
)


def test_two_processes_writing_at_once_never_meet_a_locked_database(tmp_path):
    database = tmp_path / "dev.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "forum.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        "PYTHONPATH": str(PROJECT),
    }
    setup = "import django; django.setup(); from django.db import connection\n"
    setup += "connection.cursor().execute('CREATE TABLE counter (n integer)')\n"
    setup += "connection.cursor().execute('INSERT INTO counter VALUES (0)')\n"
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=PROJECT, check=True)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER],
            env=env,
            cwd=PROJECT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    errors = [writer.communicate(timeout=120)[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], errors
    check = "import django; django.setup(); from django.db import connection\n"
    check += "c = connection.cursor(); c.execute('SELECT n FROM counter'); print(c.fetchone()[0])\n"
    check += "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
    out = subprocess.run(
        [sys.executable, "-c", check],
        env=env,
        cwd=PROJECT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert out == ["300", "wal"]
