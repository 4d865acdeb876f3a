"""/healthz answers a load balancer: 200 when the site can serve, 503 naming what cannot."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def test_a_healthy_site_answers_200_with_each_check(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "worker": "ok"},
    }
    assert response["Cache-Control"] == "no-store"


def test_a_worker_that_takes_no_work_makes_the_site_unavailable(db):
    DBTaskResult.objects.create(
        status=TaskResultStatus.READY,
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="forum.subscriptions.tasks.fan_out_comment",
        backend_name="default",
        run_after=timezone.now() - timedelta(minutes=10),
    )
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "behind: tasks are waiting"


def test_a_cache_that_stores_nothing_makes_the_site_unavailable(db, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "not storing"
