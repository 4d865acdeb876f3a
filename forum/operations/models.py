from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeatQuerySet(models.QuerySet):
    def alive(self, *, since):
        return self.filter(last_seen__gte=since)


class WorkerHeartbeat(models.Model):
    """A running task worker, and when it last said it was alive.

    A worker killed with SIGKILL (or its machine lost) cannot say anything: its heartbeat
    simply stops, and the tasks it had claimed are given back (services.py)."""

    worker_id = models.CharField(_("worker id"), max_length=64, primary_key=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started = models.DateTimeField(_("started"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)

    objects = WorkerHeartbeatQuerySet.as_manager()

    class Meta:
        verbose_name = _("worker heartbeat")
        ordering = ["-last_seen"]

    def __str__(self):
        return f"worker {self.worker_id} on {self.host} (pid {self.pid})"
