"""Jobs of the outages capability: notice fan-out and the minute tick for planned works."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from okno.core.errors import Conflict
from okno.core.jobs import job
from okno.org.models import system_actor
from okno.outages.choices import OutageEventType, OutageKind, OutageStatus
from okno.outages.models import Outage, OutageEvent

# Planned works are announced again on their day, from this local hour (or at once if published later).
DAY_NOTICE_HOUR = 7
EVE_NOTICE_HOUR = 18


@job("outages.fanout", max_attempts=5)
def fanout(
    outage_id: int, template: str, event_key: str, node_ids: list[int] | None = None
) -> dict[str, Any]:
    from okno.outages.actions import record_event
    from okno.outages.fanout import plan_outage_notices

    outage = Outage.objects.select_related("node", "branch").get(pk=outage_id)
    counts = plan_outage_notices(outage, template, event_key, node_ids)
    record_event(outage, OutageEventType.NOTICE, system_actor("outages"), None, template=template, **counts)
    return counts


@job("outages.tick", every=dt.timedelta(minutes=1))
def tick(now: str | None = None) -> dict[str, Any]:
    """Start planned works whose time has come, and send the on-the-day notices of today's works."""
    from okno.outages import actions

    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    actor = system_actor("outages")
    started = 0
    blocked = 0
    for outage in Outage.objects.filter(
        kind=OutageKind.PLANNED, status=OutageStatus.SCHEDULED, planned_start__lte=moment
    ).select_related("branch"):
        was_blocked = OutageEvent.objects.filter(
            outage=outage, type=OutageEventType.NOTE, payload__blocked=True
        ).exists()
        # On time, the works start at their planned start (the tick runs within the minute). Works held
        # back by an accident start when the tick finally starts them, not backdated over the time
        # their node was off in the accident (which would count those customers twice).
        planned = outage.planned_start or moment
        at = max(planned, moment) if was_blocked else planned
        try:
            actions.start_planned(outage, actor=actor, at=at)
        except Conflict as exc:
            # A node of the works is already off in an accident: the dispatcher decides; the others go on.
            blocked += 1
            if not was_blocked:
                actions.record_event(
                    outage, OutageEventType.NOTE, actor, moment, blocked=True, reason=str(exc.message)
                )
            continue
        started += 1
    day_notices = 0
    upcoming = Outage.objects.filter(
        kind=OutageKind.PLANNED,
        status=OutageStatus.SCHEDULED,
        planned_start__gt=moment,
        planned_start__lte=moment + dt.timedelta(hours=24),
    ).select_related("branch", "node")
    for outage in upcoming:
        if moment < day_notice_time(outage):
            continue
        already = OutageEvent.objects.filter(
            outage=outage, type=OutageEventType.NOTICE, payload__template="outage_planned_today"
        ).exists()
        if already:
            continue
        from okno.core import jobs
        from okno.outages.actions import record_event

        with transaction.atomic():
            # The marker makes the next minute's tick skip it; the job plans the notices.
            record_event(
                outage, OutageEventType.NOTICE, actor, moment, template="outage_planned_today", queued=True
            )
            jobs.enqueue(
                "outages.fanout",
                outage_id=outage.pk,
                template="outage_planned_today",
                event_key=f"outage:{outage.pk}:today",
            )
        day_notices += 1
    return {"started": started, "blocked": blocked, "day_notices": day_notices}


def day_notice_time(outage: Outage) -> dt.datetime:
    """When the on-the-day notice goes: 07:00 local on the day of the works, or, for works that start
    before 07:00, 18:00 local the evening before (a notice after the start would be no warning)."""
    tz = outage.branch.tz
    start = timezone.localtime(outage.planned_start, tz)
    if start.hour >= DAY_NOTICE_HOUR:
        return dt.datetime.combine(start.date(), dt.time(DAY_NOTICE_HOUR), tzinfo=tz)
    return dt.datetime.combine(start.date() - dt.timedelta(days=1), dt.time(EVE_NOTICE_HOUR), tzinfo=tz)
