"""Who hears of an outage: the service points under its nodes, handed to the notification planner."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from okno.customers.models import Address
from okno.outages import topology
from okno.outages.models import GridNode, Outage, OutageNode

# Templates whose notices may wake people at night (the power went off unexpectedly).
EMERGENCY_TEMPLATES = {"outage_unplanned"}
OPEN_ONLY_TEMPLATES = {"outage_unplanned", "outage_etr_changed"}


def affected_service_points(
    outage: Outage, node_ids: list[int] | None = None, *, open_only: bool = True
) -> QuerySet:
    """Service point ids under the outage's nodes (those still off, or the given ones)."""
    rows = OutageNode.objects.filter(outage=outage)
    if node_ids is not None:
        rows = rows.filter(node_id__in=node_ids)
    elif open_only:
        rows = rows.filter(restored_at__isnull=True)
    nodes = list(GridNode.objects.filter(pk__in=rows.values("node_id")))
    return topology.service_points_under(nodes)


def affected_settlements(service_points: QuerySet) -> list[tuple[str, str]]:
    """(district, settlement) pairs of the addresses under an outage, sorted."""
    return sorted(
        set(
            Address.objects.filter(service_points__in=service_points)
            .values_list("district", "settlement")
            .distinct()
        )
    )


def context_for(outage: Outage, settlements: list[str] | None = None) -> dict[str, Any]:
    if settlements is None:
        settlements = sorted(
            {s for _d, s in affected_settlements(affected_service_points(outage, open_only=False))}
        )
    return {
        "outage_id": outage.pk,
        "number": outage.number,
        "kind": outage.kind,
        "node": outage.node.name,
        "settlements": settlements,
        "reason": outage.reason or outage.get_cause_display(),
        "start": outage.started_at or outage.planned_start,
        "end": outage.planned_end,
        "etr": outage.etr,
        "restored_at": outage.restored_at,
        "branch_id": outage.branch_id,
    }


def plan_outage_notices(
    outage: Outage, template: str, event_key: str, node_ids: list[int] | None = None
) -> dict[str, int]:
    """Plan the notices of one outage event (topology walk, then the planner's set-based work)."""
    from okno.notify.planning import plan

    # Those still off hear of the outage and of a new ETR; all of the outage's nodes hear of planned
    # works and of the end (node_ids narrows both to the nodes just added or just restored).
    service_points = affected_service_points(outage, node_ids, open_only=template in OPEN_ONLY_TEMPLATES)
    context = context_for(outage, event_settlements(service_points) if node_ids is not None else None)
    if template == "outage_restored" and node_ids is not None:
        # A step of a partial restoration: its own time, not the (still empty) end of the outage.
        times = OutageNode.objects.filter(outage=outage, node_id__in=node_ids, restored_at__isnull=False)
        moments = [t for t in times.values_list("restored_at", flat=True) if t is not None]
        context["restored_at"] = max(moments, default=outage.restored_at)
    return plan(event_key, template, service_points, context, emergency=template in EMERGENCY_TEMPLATES)


def event_settlements(service_points: QuerySet) -> list[str]:
    return sorted({s for _d, s in affected_settlements(service_points)})
