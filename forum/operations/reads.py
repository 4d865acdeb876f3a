"""Reads about the running site, for /healthz and the admin."""

from datetime import datetime

from .models import WorkerHeartbeat


def last_worker_heartbeat() -> datetime | None:
    return (
        WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
    )
