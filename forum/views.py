"""The site's own pages that belong to no app."""

from datetime import timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def csrf_failure(request, reason=""):
    """A refused form (missing or stale CSRF token), in the site's own style: Django's page
    is blocked by our Content-Security-Policy."""
    return render(request, "403_csrf.html", status=403)


# A task ready this long ago and still not started means no worker is taking work.
WORKER_LAG_LIMIT = timedelta(minutes=5)


def healthz(request):
    """For load balancers: 200 when the database, the shared cache and the task worker
    answer, 503 naming what does not. The worker has no heartbeat of its own: a ready task
    left waiting past WORKER_LAG_LIMIT is the sign that none is running."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "unreachable"
    try:
        probe = f"healthz:{timezone.now().timestamp()}"
        cache.set(probe, "ok", timeout=5)
        checks["cache"] = "ok" if cache.get(probe) == "ok" else "not storing"
    except Exception:  # any backend's connection error
        checks["cache"] = "unreachable"
    if checks["database"] == "ok":
        overdue = DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, run_after__lt=timezone.now() - WORKER_LAG_LIMIT
        ).exists()
        checks["worker"] = "behind: tasks are waiting" if overdue else "ok"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )
