"""Background jobs of metering and billing (registered with :mod:`okno.core.jobs`)."""

from __future__ import annotations

from typing import Any

from okno.billing.models import BillingRun
from okno.core.jobs import job


@job("billing.run", max_attempts=1)
def billing_run(run_id: int) -> dict[str, Any]:
    from okno.billing.engine import execute_run

    run = BillingRun.objects.get(pk=run_id)
    if run.status == BillingRun.Status.DONE:
        return {"skipped": "done"}
    return execute_run(run).as_dict()  # a failure marks the run failed; start it again to resume
