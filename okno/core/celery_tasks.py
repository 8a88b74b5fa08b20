"""The single Celery task: run a recorded job run; beat fires the periodic jobs."""

from __future__ import annotations

from celery import shared_task

from okno.core import jobs


@shared_task(name="okno.run_job", acks_late=True)
def run_job(run_id: int) -> str:
    jobs.autodiscover()
    return jobs.execute(run_id)


@shared_task(name="okno.fire_periodic")
def fire_periodic(name: str) -> int:
    jobs.autodiscover()
    run_id = jobs.submit_queued(name)
    jobs.execute(run_id)
    return run_id


def beat_schedule() -> dict:
    jobs.autodiscover()
    return {
        spec.name: {
            "task": "okno.fire_periodic",
            "schedule": spec.every.total_seconds(),
            "args": (spec.name,),
        }
        for spec in jobs.REGISTRY.values()
        if spec.every is not None
    }
