"""One job module for the whole project.

A job is a plain function registered with :func:`job`; it takes JSON-serialisable keyword
arguments, acts as the system actor and returns a dict of counts. :func:`enqueue` schedules it
after the current transaction commits and records a :class:`~okno.core.models.JobRun`.

Backends:

* **embedded** (default, no broker): runs are rows in the database; ``okno worker`` (started by
  ``okno serve``) takes them with a row lock and also fires the periodic jobs;
* **eager** (``OKNO_JOBS_EAGER=true``, the test default): runs right after commit, in-process;
* **Celery** (``CELERY_BROKER_URL`` set): the run id is sent to a Celery worker on Redis or
  RabbitMQ, and Celery beat fires the periodic jobs.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from okno.core import context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., dict[str, Any] | None]
    every: dt.timedelta | None
    max_attempts: int


REGISTRY: dict[str, JobSpec] = {}


def job(name: str, *, every: dt.timedelta | None = None, max_attempts: int = 3) -> Callable:
    """Register a job; ``every`` makes it periodic."""

    def wrap(func: Callable[..., dict[str, Any] | None]) -> Callable[..., dict[str, Any] | None]:
        REGISTRY[name] = JobSpec(name, func, every, max_attempts)
        return func

    return wrap


def backend() -> str:
    if settings.CELERY_BROKER_URL:
        return "celery"
    if settings.OKNO_JOBS_EAGER:
        return "eager"
    return "embedded"


def enqueue(name: str, **kwargs: Any) -> None:
    """Run job ``name`` with ``kwargs`` once the current transaction commits."""
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    transaction.on_commit(lambda: submit(name, **kwargs))


def submit(name: str, **kwargs: Any) -> int:
    from okno.core.models import JobRun

    run = JobRun.objects.create(name=name, kwargs=kwargs)
    mode = backend()
    if mode == "eager":
        execute(run.pk)
    elif mode == "celery":
        from okno.core.celery_tasks import run_job

        run_job.delay(run.pk)
    return run.pk


def execute(run_id: int) -> str:
    """Run one queued job run; safe to call twice (the second call finds it taken)."""
    from okno.core.models import JobRun
    from okno.org.models import system_actor

    now = timezone.now()
    taken = JobRun.objects.filter(pk=run_id, status=JobRun.Status.QUEUED).update(
        status=JobRun.Status.RUNNING, started_at=now
    )
    if not taken:
        return "skipped"
    run = JobRun.objects.get(pk=run_id)
    spec = REGISTRY.get(run.name)
    attempts = run.attempts + 1
    try:
        if spec is None:
            raise KeyError(f"unknown job {run.name!r}")
        with context.acting_as(system_actor("jobs")), context.request_id(f"job-{run.pk}"):
            result = spec.func(**run.kwargs) or {}
    except Exception as exc:
        log.exception("job %s #%s failed", run.name, run.pk)
        retry = spec is not None and attempts < spec.max_attempts
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.QUEUED if retry else JobRun.Status.FAILED,
            attempts=attempts,
            finished_at=None if retry else timezone.now(),
            run_after=timezone.now() + dt.timedelta(seconds=30 * attempts),
            error="".join(traceback.format_exception(exc))[-4000:],
        )
        return "retry" if retry else "failed"
    JobRun.objects.filter(pk=run.pk).update(
        status=JobRun.Status.DONE, attempts=attempts, finished_at=timezone.now(), result=result, error=""
    )
    return "done"


def claim_next() -> int | None:
    """Take the next due queued run (row-locked on PostgreSQL so several workers can share the queue)."""
    from okno.core.models import JobRun

    with transaction.atomic():
        qs = JobRun.objects.filter(status=JobRun.Status.QUEUED, run_after__lte=timezone.now()).order_by(
            "run_after", "id"
        )
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        run = qs.only("id").first()
        return run.pk if run is not None else None


def due_periodic(now: dt.datetime | None = None) -> list[str]:
    """Names of periodic jobs whose last run is older than their interval (or that never ran)."""
    from okno.core.models import JobRun

    now = now or timezone.now()
    due = []
    for spec in REGISTRY.values():
        if spec.every is None:
            continue
        last = (
            JobRun.objects.filter(name=spec.name)
            .order_by("-queued_at")
            .values_list("queued_at", flat=True)
            .first()
        )
        if last is None or now - last >= spec.every:
            due.append(spec.name)
    return due


def run_pending(limit: int = 100) -> int:
    """Run due periodic jobs and up to ``limit`` queued runs; returns how many ran."""
    for name in due_periodic():
        submit_queued(name)
    count = 0
    while count < limit:
        run_id = claim_next()
        if run_id is None:
            break
        execute(run_id)
        count += 1
    return count


def submit_queued(name: str, **kwargs: Any) -> int:
    """Queue a run without executing it, whatever the backend (used by the embedded scheduler)."""
    from okno.core.models import JobRun

    return JobRun.objects.create(name=name, kwargs=kwargs).pk


def autodiscover() -> None:
    """Import every app's ``tasks`` module so their jobs register."""
    from importlib import import_module

    from django.apps import apps

    for app in apps.get_app_configs():
        if app.name.startswith("okno."):
            try:
                import_module(f"{app.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.tasks":
                    raise
