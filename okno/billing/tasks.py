"""Background jobs of metering and billing (registered with :mod:`okno.core.jobs`)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from okno.billing.models import BillingRun
from okno.core.jobs import job


@job("billing.run", max_attempts=1)
def billing_run(run_id: int) -> dict[str, Any]:
    from okno.billing.engine import execute_run

    run = BillingRun.objects.get(pk=run_id)
    if run.status == BillingRun.Status.DONE:
        return {"skipped": "done"}
    try:
        return execute_run(run).as_dict()
    except Exception as exc:
        BillingRun.objects.filter(pk=run_id).update(
            status=BillingRun.Status.FAILED,
            finished_at=timezone.now(),
            errors=[{"error": "failed", "detail": str(exc)[:2000]}],
        )
        raise
