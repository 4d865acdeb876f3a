"""The site's own pages that belong to no app."""

import os

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from forum.operations.reads import last_worker_heartbeat


def csrf_failure(request, reason=""):
    """A refused form (missing or stale CSRF token), in the site's own style: Django's page
    is blocked by our Content-Security-Policy."""
    return render(request, "403_csrf.html", status=403)


def healthz(request):
    """For load balancers and monitoring. 503 only when this instance cannot serve (its
    database is unreachable): a balancer then takes it out. A cache that fails (pages still
    render without it) or a silent worker (reading and posting go on; notifications wait)
    is reported as "degraded" with a 200, so that monitoring alerts and no balancer takes every
    instance out at once for a fault they all share."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "unreachable"
    try:
        probe = f"healthz:{os.getpid()}"  # one key per process, however often it is asked
        cache.set(probe, "ok", timeout=5)
        checks["cache"] = "ok" if cache.get(probe) == "ok" else "not storing"
        if getattr(cache, "failing_since", None):
            checks["cache"] = "unreachable: this process's memory stands in"
    except Exception:  # any backend's connection error
        checks["cache"] = "unreachable"
    if checks["database"] == "ok":
        checks["worker"] = worker_health()
    if checks["database"] != "ok":
        status, code = "unavailable", 503
    elif any(value != "ok" for value in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse(
        {"status": status, "checks": checks}, status=code, headers={"Cache-Control": "no-store"}
    )


def worker_health() -> str:
    last_seen = last_worker_heartbeat()
    if last_seen is None:
        return "no worker has reported"
    silent_for = (timezone.now() - last_seen).total_seconds()
    if silent_for > settings.WORKER_PRESUMED_DEAD_AFTER:
        return f"silent for {silent_for:.0f} s"
    return "ok"
