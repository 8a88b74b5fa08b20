"""Celery application, used only when ``CELERY_BROKER_URL`` is set (see okno.core.jobs)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")

app = Celery("okno")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["okno.core"], related_name="celery_tasks")


@app.on_after_finalize.connect
def _periodic(sender: Celery, **kwargs: object) -> None:
    from okno.core.celery_tasks import beat_schedule

    sender.conf.beat_schedule = beat_schedule()
