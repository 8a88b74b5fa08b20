import datetime as dt
import threading

import pytest
from django.utils import timezone

from okno.core import jobs
from okno.core.models import JobRun

CALLS: list[dict] = []


@jobs.job("tests.record", max_attempts=2)
def record(value: int) -> dict:
    CALLS.append({"value": value})
    if value < 0:
        raise RuntimeError("negative")
    return {"doubled": value * 2}


@pytest.fixture(autouse=True)
def _clear():
    CALLS.clear()


def test_enqueued_job_runs_after_commit_and_records_its_result(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.enqueue("tests.record", value=21)
    assert CALLS == []  # nothing runs before the commit
    for cb in callbacks:
        cb()
    run = JobRun.objects.get(name="tests.record")
    assert (run.status, run.result, run.attempts) == ("done", {"doubled": 42}, 1)


def test_embedded_worker_runs_queued_jobs_once(db, settings):
    settings.OKNO_JOBS_EAGER = False
    run_id = jobs.submit("tests.record", value=5)
    assert JobRun.objects.get(pk=run_id).status == "queued"
    assert jobs.run_pending() >= 1
    assert JobRun.objects.get(pk=run_id).status == "done"
    assert jobs.execute(run_id) == "skipped"  # idempotent: a second worker finds it taken
    assert CALLS == [{"value": 5}]


def test_a_failing_job_is_retried_then_marked_failed(db, settings):
    settings.OKNO_JOBS_EAGER = False
    run_id = jobs.submit("tests.record", value=-1)
    assert jobs.execute(run_id) == "retry"
    run = JobRun.objects.get(pk=run_id)
    assert (run.status, run.attempts) == ("queued", 1)
    JobRun.objects.filter(pk=run_id).update(run_after=timezone.now())
    assert jobs.execute(run_id) == "failed"
    run.refresh_from_db()
    assert run.status == "failed"
    assert "negative" in run.error


def test_periodic_jobs_are_due_when_their_interval_has_passed(db):
    assert "appeals.check_deadlines" in jobs.due_periodic()
    jobs.submit_queued("appeals.check_deadlines")
    assert "appeals.check_deadlines" not in jobs.due_periodic()
    assert "appeals.check_deadlines" in jobs.due_periodic(timezone.now() + dt.timedelta(minutes=11))


def test_unknown_job_is_refused(db):
    with pytest.raises(KeyError):
        jobs.enqueue("no.such.job")


@pytest.mark.django_db(transaction=True)
def test_celery_worker_runs_the_job_over_a_real_broker_round_trip(settings):
    """A real Celery worker thread on the in-memory transport takes the run id and executes it."""
    from celery.contrib.testing.worker import start_worker

    from okno.celery import app

    settings.OKNO_JOBS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    app.conf.broker_url = "memory://"
    app.conf.result_backend = "cache+memory://"
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        run_id = jobs.submit("tests.record", value=7)
        deadline = timezone.now() + dt.timedelta(seconds=15)
        while timezone.now() < deadline and JobRun.objects.get(pk=run_id).status != "done":
            threading.Event().wait(0.1)
    run = JobRun.objects.get(pk=run_id)
    assert (run.status, run.result) == ("done", {"doubled": 14})
