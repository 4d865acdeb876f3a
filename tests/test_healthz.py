"""/healthz answers a load balancer: 503 when this instance cannot serve, "degraded" (200)
when something they all share is failing, so that monitoring alerts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from forum.operations.models import WorkerHeartbeat


@pytest.fixture
def worker_alive(db):
    WorkerHeartbeat.objects.create(worker_id="w1", host="here", pid=1)


def test_a_healthy_site_answers_200_with_each_check(worker_alive):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "worker": "ok"},
    }
    assert response["Cache-Control"] == "no-store"


def test_a_silent_worker_is_reported_without_taking_the_site_out(db, settings):
    settings.WORKER_PRESUMED_DEAD_AFTER = 60
    response = Client().get("/healthz")
    assert (response.status_code, response.json()["status"]) == (200, "degraded")
    assert response.json()["checks"]["worker"] == "no worker has reported"

    WorkerHeartbeat.objects.create(
        worker_id="w1", host="here", pid=1, last_seen=timezone.now() - timedelta(minutes=5)
    )
    assert Client().get("/healthz").json()["checks"]["worker"] == "silent for 300 s"


def test_a_cache_that_stores_nothing_is_reported(worker_alive, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response = Client().get("/healthz")
    assert (response.status_code, response.json()["status"]) == (200, "degraded")
    assert response.json()["checks"]["cache"] == "not storing"


def test_an_unreachable_database_answers_503(worker_alive, monkeypatch):
    def unreachable(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("connection refused")

    with monkeypatch.context() as outage:
        outage.setattr(connection, "cursor", unreachable)
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "cache": "ok"},
    }


def test_a_balancer_probing_a_machine_by_its_address_over_http_is_answered(worker_alive, settings):
    settings.ALLOWED_HOSTS = ["essays.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # Every other page still refuses a host it does not serve.
    assert Client().get("/", HTTP_HOST="10.0.0.5:8000").status_code == 400
