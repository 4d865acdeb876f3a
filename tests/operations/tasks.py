"""Tasks the worker tests enqueue: each leaves a trace in a file, outside the database."""

import os
import time
from pathlib import Path

from django.db import connection
from django_tasks import task


def runs_so_far(path: str) -> list[str]:
    trace = Path(path)
    return trace.read_text().splitlines() if trace.exists() else []


@task()
def record_run_then_hang_the_first_time(path: str) -> int:
    """The first run hangs (to be killed mid-task); any later run finishes at once."""
    earlier = runs_so_far(path)
    with open(path, "a") as trace:
        trace.write(f"{os.getpid()}\n")
    if not earlier:
        time.sleep(300)
    return len(earlier) + 1


@task()
def record_run_then_query(path: str, wait: float) -> int:
    """Starts, waits (the database may go away meanwhile), then needs the database."""
    with open(path, "a") as trace:
        trace.write("started\n")
    time.sleep(wait)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    with open(path, "a") as trace:
        trace.write("finished\n")
    return len(runs_so_far(path))
