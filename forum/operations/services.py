"""Writes that keep background work flowing: heartbeats, giving back abandoned tasks,
daily housekeeping."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def heartbeat_record(*, worker_id: str, host: str, pid: int) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"host": host, "pid": pid, "last_seen": timezone.now()}
    )


def heartbeat_remove(*, worker_id: str) -> None:
    """A worker that stops cleanly says so, rather than waiting to be presumed dead."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


@transaction.atomic
def task_requeue(*, task_id, worker_id: str) -> bool:
    """Give back a task this worker claimed but could not record an outcome for (the
    database went away), unless another worker has claimed it since. Every task of ours is
    safe to run again: fan-out and email skip what they have already done."""
    # Running, or failed by the outage itself (the worker checked the exception).
    result = (
        DBTaskResult.objects.filter(
            status__in=[TaskResultStatus.RUNNING, TaskResultStatus.FAILED], id=task_id
        )
        .select_for_update()
        .first()
    )
    if result is None or result.worker_ids[-1:] != [worker_id]:
        return False
    result.status = TaskResultStatus.READY
    result.started_at = None
    result.save(update_fields=["status", "started_at"])
    return True


@transaction.atomic
def tasks_requeue_abandoned() -> list[str]:
    """Give back the tasks left "running" by workers that have stopped beating, so that a
    live worker runs them again. Returns the ids given back.

    A task that has already been tried settings.TASK_MAX_ATTEMPTS times is marked failed
    instead: a task that kills its worker every time must not kill every worker in turn."""
    presumed_dead_before = timezone.now() - timedelta(seconds=settings.WORKER_PRESUMED_DEAD_AFTER)
    alive = set(
        WorkerHeartbeat.objects.alive(since=presumed_dead_before).values_list(
            "worker_id", flat=True
        )
    )
    running = DBTaskResult.objects.running().filter(started_at__lt=presumed_dead_before)
    given_back = []
    for result in running.select_for_update(skip_locked=True):
        last_worker = result.worker_ids[-1] if result.worker_ids else None
        if last_worker in alive:
            continue
        if len(result.worker_ids) >= settings.TASK_MAX_ATTEMPTS:
            logger.error(
                "Task %s (%s) was abandoned by %s workers in turn; marking it failed.",
                result.id,
                result.task_path,
                len(result.worker_ids),
            )
            result.set_failed(RuntimeError("abandoned by every worker that ran it"))
            continue
        logger.warning(
            "Task %s (%s) was left running by worker %s, which has stopped; "
            "giving it back to the queue.",
            result.id,
            result.task_path,
            last_worker,
        )
        result.status = TaskResultStatus.READY
        result.started_at = None
        result.save(update_fields=["status", "started_at"])
        given_back.append(str(result.id))
    return given_back


def housekeeping() -> dict[str, int]:
    """The daily clean-up: expired sessions (every anonymous draft makes one), finished task
    results older than settings.TASK_RESULTS_KEPT_DAYS, and heartbeats of workers long gone."""
    now = timezone.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    finished_before = now - timedelta(days=settings.TASK_RESULTS_KEPT_DAYS)
    task_results, _ = (
        DBTaskResult.objects.finished().filter(finished_at__lt=finished_before).delete()
    )
    heartbeats, _ = WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
    return {"sessions": sessions, "task results": task_results, "worker heartbeats": heartbeats}
