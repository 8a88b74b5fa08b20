"""Starting billing runs: the action used by the web page, the API and ``okno billing run``."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.billing.models import BillingRun
from okno.billing.periods import month_start
from okno.core import jobs
from okno.core.errors import Conflict
from okno.org.models import Branch


def validate_period(period: dt.date, *, today: dt.date | None = None) -> None:
    today = today or timezone.localdate()
    if period.day != 1:
        raise ValidationError({"period": [_("A period is a month: give its first day.")]})
    if period > month_start(today):
        raise ValidationError({"period": [_("Period %(p)s has not begun yet.") % {"p": f"{period:%Y-%m}"}]})


# A run bills a million accounts in about a minute; one "running" for this long lost its process.
ABANDONED_AFTER = dt.timedelta(hours=2)


def _fail_abandoned(period: dt.date) -> None:
    """Mark runs of ``period`` whose process died (killed worker, lost job) as failed, so a new run
    can resume the work: it bills only the accounts still without a charge."""
    cutoff = timezone.now() - ABANDONED_AFTER
    stale = BillingRun.objects.filter(period=period).filter(
        models.Q(status=BillingRun.Status.RUNNING, started_at__lt=cutoff)
        | models.Q(status=BillingRun.Status.QUEUED, created_at__lt=cutoff)
    )
    stale.update(
        status=BillingRun.Status.FAILED,
        finished_at=timezone.now(),
        errors=[{"error": "abandoned", "detail": "no progress for two hours; superseded by a new run"}],
    )


def create_run(*, period: dt.date, actor, branch: Branch | None = None) -> BillingRun:
    """Record a run for ``period`` (all branches or one); refused while another run of it is going."""
    if actor is not None and not actor.has_okno_perm("billingrun.add"):
        raise PermissionDenied(_("You may not start billing runs."))
    validate_period(period)
    with transaction.atomic():
        _fail_abandoned(period)
        busy = BillingRun.objects.select_for_update().filter(
            period=period, status__in=[BillingRun.Status.QUEUED, BillingRun.Status.RUNNING]
        )
        if branch is not None:
            busy = busy.filter(branch__in=[branch.pk]) | busy.filter(branch__isnull=True)
        if busy.exists():
            raise Conflict(_("A billing run for %(p)s is already in progress.") % {"p": f"{period:%Y-%m}"})
        return BillingRun.objects.create(
            period=period, branch=branch, started_by=actor if getattr(actor, "pk", None) else None
        )


def start_run(*, period: dt.date, actor, branch: Branch | None = None) -> BillingRun:
    """Create a run and hand it to the job queue (it bills after the transaction commits)."""
    with transaction.atomic():
        run = create_run(period=period, actor=actor, branch=branch)
        jobs.enqueue("billing.run", run_id=run.pk)
    return run
