"""The worker survives: tasks of a killed worker run again, a database outage does not stop
it, housekeeping clears what grows without end."""

import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from forum.operations import services
from forum.operations.models import WorkerHeartbeat
from scripts.tcp_forwarder import Forwarder
from tests.operations.tasks import record_run_then_hang_the_first_time

PROJECT = Path(__file__).resolve().parents[2]


def claimed_task(worker_id: str, *, started_ago: timedelta, attempts: int = 1) -> DBTaskResult:
    result = DBTaskResult.objects.get(id=record_run_then_hang_the_first_time.enqueue("-").id)
    result.status = TaskResultStatus.RUNNING
    result.started_at = timezone.now() - started_ago
    result.worker_ids = [f"earlier-{n}" for n in range(attempts - 1)] + [worker_id]
    result.save()
    return result


def beat(worker_id: str, *, ago: timedelta) -> None:
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, host="here", pid=1, last_seen=timezone.now() - ago
    )


@pytest.fixture
def presumed_dead_after_a_minute(settings):
    settings.WORKER_PRESUMED_DEAD_AFTER = 60
    settings.TASK_MAX_ATTEMPTS = 3


@pytest.mark.usefixtures("presumed_dead_after_a_minute")
def test_the_task_of_a_worker_whose_heartbeat_stopped_goes_back_to_the_queue(db):
    beat("dead", ago=timedelta(minutes=5))
    abandoned = claimed_task("dead", started_ago=timedelta(minutes=6))

    assert services.tasks_requeue_abandoned() == [str(abandoned.id)]

    abandoned.refresh_from_db()
    assert abandoned.status == TaskResultStatus.READY
    assert abandoned.started_at is None
    assert DBTaskResult.objects.ready().filter(id=abandoned.id).exists()


@pytest.mark.usefixtures("presumed_dead_after_a_minute")
def test_a_live_worker_keeps_its_long_task_and_a_task_just_claimed_is_left_alone(db):
    beat("alive", ago=timedelta(seconds=5))
    long_task = claimed_task("alive", started_ago=timedelta(hours=2))
    # Claimed a moment ago by a worker whose first heartbeat has not been written yet.
    just_claimed = claimed_task("newcomer", started_ago=timedelta(seconds=1))

    assert services.tasks_requeue_abandoned() == []

    for result in (long_task, just_claimed):
        result.refresh_from_db()
        assert result.status == TaskResultStatus.RUNNING


@pytest.mark.usefixtures("presumed_dead_after_a_minute")
def test_a_task_that_never_had_a_heartbeat_behind_it_is_given_back(db):
    # Claimed by a worker without heartbeats (django-tasks-db's own db_worker), long ago.
    orphan = claimed_task("no-heartbeat", started_ago=timedelta(minutes=10))
    assert services.tasks_requeue_abandoned() == [str(orphan.id)]


@pytest.mark.usefixtures("presumed_dead_after_a_minute")
def test_a_task_abandoned_by_every_worker_in_turn_is_failed_not_run_forever(db):
    killer = claimed_task("dead", started_ago=timedelta(minutes=10), attempts=3)

    assert services.tasks_requeue_abandoned() == []

    killer.refresh_from_db()
    assert killer.status == TaskResultStatus.FAILED
    assert "abandoned" in killer.traceback


def test_a_worker_gives_back_only_a_task_it_still_holds(db):
    held = claimed_task("me", started_ago=timedelta(seconds=3))
    taken_over = claimed_task("someone-else", started_ago=timedelta(seconds=3))

    assert services.task_requeue(task_id=held.id, worker_id="me") is True
    assert services.task_requeue(task_id=taken_over.id, worker_id="me") is False

    held.refresh_from_db()
    taken_over.refresh_from_db()
    assert (held.status, taken_over.status) == (TaskResultStatus.READY, TaskResultStatus.RUNNING)


def test_housekeeping_clears_expired_sessions_old_task_results_and_old_heartbeats(db, settings):
    settings.TASK_RESULTS_KEPT_DAYS = 30
    expired, current = SessionStore(), SessionStore()
    expired["draft"] = current["draft"] = "a thought"
    expired.set_expiry(-1)
    expired.create()
    current.create()
    old, recent = (
        DBTaskResult.objects.get(id=record_run_then_hang_the_first_time.enqueue("-").id)
        for _ in range(2)
    )
    DBTaskResult.objects.filter(id=old.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now() - timedelta(days=31)
    )
    DBTaskResult.objects.filter(id=recent.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now() - timedelta(days=29)
    )
    beat("gone", ago=timedelta(days=2))
    beat("here", ago=timedelta(seconds=1))

    call_command("housekeeping", stdout=io.StringIO())

    assert list(Session.objects.values_list("session_key", flat=True)) == [current.session_key]
    assert list(DBTaskResult.objects.values_list("id", flat=True)) == [recent.id]
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["here"]


# Real worker processes, killed and cut off as in production.


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "forum.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(PROJECT),
        "WORKER_HEARTBEAT_SECONDS": "0.5",
        "WORKER_PRESUMED_DEAD_AFTER": "3",
    }


def manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=PROJECT, check=True, **kwargs
    )


def start_worker(env, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-reload", "--no-startup-delay"]
        + ["--interval", "0.2"],
        env=env,
        cwd=PROJECT,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def python(env, code: str) -> str:
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        env=env,
        cwd=PROJECT,
        check=True,
        capture_output=True,
        text=True,
    )
    return run.stdout.strip()


def enqueue(env, task_name: str, *args) -> str:
    return python(
        env,
        f"from tests.operations.tasks import {task_name}\nprint({task_name}.enqueue(*{args!r}).id)",
    )


def status_of(env, task_id: str) -> str:
    return python(
        env,
        "from django_tasks_db.models import DBTaskResult\n"
        f"print(DBTaskResult.objects.get(id={task_id!r}).status)",
    )


def wait_for(condition, *, within: float, what: str):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"after {within} s: {what}")


@pytest.fixture
def workers():
    started = []
    yield started
    for worker in started:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


def test_a_task_whose_worker_is_killed_is_run_again_by_another_worker(tmp_path, workers):
    env = environment(f"sqlite:///{tmp_path / 'site.sqlite3'}")
    manage(env, "migrate", "--noinput", capture_output=True)
    trace = tmp_path / "runs"
    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    workers.append(first)
    task_id = enqueue(env, "record_run_then_hang_the_first_time", str(trace))
    wait_for(trace.exists, within=30, what="the first worker never started the task")

    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = time.monotonic()
    second = start_worker(env, log)
    workers.append(second)

    wait_for(
        lambda: status_of(env, task_id) == TaskResultStatus.SUCCESSFUL,
        within=30,
        what=f"the abandoned task was not run again:\n{log.read_text()}",
    )
    # Presumed dead after 3 s of silence, then given back at the next heartbeat.
    assert time.monotonic() - killed_at < 20
    assert trace.read_text().split() == [str(first.pid), str(second.pid)]
    assert "giving it back to the queue" in log.read_text()


@pytest.fixture
def scratch_postgres_database():
    """A database of its own on the test's PostgreSQL server, reached through a forwarder
    the test can cut, as a network outage would."""
    if connection.vendor != "postgresql":
        pytest.skip("a network outage needs a database server: runs in CI's PostgreSQL pass")
    import psycopg

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_worker_outage"
    server = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}"

    def administer(statement):
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(statement)

    administer(f"DROP DATABASE IF EXISTS {name}")
    administer(f"CREATE DATABASE {name}")
    forwarder = Forwarder(upstream=(settings_dict["HOST"], int(settings_dict["PORT"]))).start()
    yield forwarder, f"postgres://{settings_dict['USER']}@127.0.0.1:{forwarder.port}/{name}"
    forwarder.stop()
    administer(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_worker_rides_out_a_database_outage_idle_or_mid_task(
    tmp_path, workers, scratch_postgres_database
):
    forwarder, database_url = scratch_postgres_database
    env = environment(database_url)
    manage(env, "migrate", "--noinput", capture_output=True)
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    workers.append(worker)
    time.sleep(1)

    # Idle: cut off for 3 s.
    forwarder.cut()
    time.sleep(3)
    forwarder.restore()
    idle_trace = tmp_path / "after-idle-outage"
    task_id = enqueue(env, "record_run_then_query", str(idle_trace), 0)
    wait_for(
        lambda: status_of(env, task_id) == TaskResultStatus.SUCCESSFUL,
        within=60,
        what=f"the worker did not come back after an idle outage:\n{log.read_text()}",
    )

    # Working: cut off for 5 s while a task runs; the task cannot finish, nor be recorded.
    busy_trace = tmp_path / "during-outage"
    task_id = enqueue(env, "record_run_then_query", str(busy_trace), 2)
    wait_for(busy_trace.exists, within=30, what="the task never started")
    forwarder.cut()
    time.sleep(5)
    forwarder.restore()
    wait_for(
        lambda: status_of(env, task_id) == TaskResultStatus.SUCCESSFUL,
        within=90,
        what=f"the interrupted task was not run again:\n{log.read_text()}",
    )
    assert busy_trace.read_text().split() == ["started", "started", "finished"]
    assert worker.poll() is None, log.read_text()
    assert "Database unreachable" in log.read_text()
