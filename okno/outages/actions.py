"""The outage lifecycle: register, propose, schedule, start, change the ETR, restore (in steps), cancel.

Every change goes through here, inside one transaction, writes the outage's timeline, and schedules
what follows after commit: the notices to subscribers (:mod:`okno.outages.fanout`), the answers to the
reports attached to the outage (:mod:`okno.outages.loop`), and mass-outage mode when enough customers
are off (:mod:`okno.outages.mass`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.appeals.choices import Topic
from okno.appeals.models import Incident
from okno.core import jobs
from okno.core.context import acting_as
from okno.core.errors import Conflict
from okno.outages import topology
from okno.outages.choices import OFF_STATUSES, Cause, OutageEventType, OutageKind, OutageStatus
from okno.outages.models import (
    EtrChange,
    GridNode,
    Outage,
    OutageCounter,
    OutageEvent,
    OutageNode,
    OutageSettings,
)

# How far ahead an ETR may be set (a typo of a year is refused, a long repair is not).
MAX_ETR_AHEAD = dt.timedelta(days=14)
MAX_CREWS = 500
# A planned outage may last at most this long (longer works are split into several outages).
MAX_PLANNED = dt.timedelta(days=7)


def record_event(
    outage: Outage, type: str, actor: Any, when: dt.datetime | None = None, **payload: Any
) -> None:
    OutageEvent.objects.create(
        outage=outage,
        type=type,
        time=when or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        payload=payload,
    )


def _next_number(year: int) -> str:
    counter, _created = OutageCounter.objects.select_for_update().get_or_create(year=year)
    if counter.last == 0:
        # Numbers loaded in bulk (the demo's history) do not pass through the counter.
        prefix = f"О-{year}-"
        last = (
            Outage.objects.filter(number__startswith=prefix)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        counter.last = int(last.rsplit("-", 1)[1]) if last else 0
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"О-{year}-{counter.last:05d}"


def _lock(outage: Outage | int, expected_version: int | None = None) -> Outage:
    pk = outage if isinstance(outage, int) else outage.pk
    locked = Outage.objects.select_for_update().select_related("node", "branch").get(pk=pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("The outage was changed by someone else; reload it and try again."))
    return locked


def _save(outage: Outage, fields: list[str]) -> None:
    outage.version = F("version") + 1
    outage.save(update_fields=[*fields, "version"])
    outage.refresh_from_db(fields=["version"])


def _check_etr(etr: dt.datetime | None, now: dt.datetime, field: str = "etr") -> None:
    if etr is None:
        return
    if timezone.is_naive(etr):
        raise ValidationError({field: [_("The time needs a time zone.")]})
    if etr <= now:
        raise ValidationError({field: [_("The estimated restoration time is in the past.")]})
    if etr > now + MAX_ETR_AHEAD:
        raise ValidationError({field: [_("The estimated restoration time is more than 14 days ahead.")]})


def _count_customers(nodes: Iterable[GridNode]) -> int:
    return topology.service_points_under(list(nodes)).count()


def _newly_off(node: GridNode) -> int:
    """Customers a node cuts off that are not off already (a substation under it out in another step):
    nobody is interrupted twice at once, so the reliability indices do not count them twice."""
    already = GridNode.objects.filter(
        pk__in=OutageNode.objects.filter(
            restored_at__isnull=True,
            off_at__isnull=False,
            outage__status__in=list(OFF_STATUSES),
            node__path__startswith=node.path,
        )
        .exclude(node_id=node.pk)
        .values("node_id")
    )
    return topology.service_points_under([node], exclude=list(already)).count()


def _covering(node: GridNode, statuses: Iterable[str], exclude: int | None = None) -> Outage | None:
    """An outage in ``statuses`` whose switched-off nodes include ``node`` or a node above it."""
    ancestors = node.ancestor_ids() or [node.pk]
    qs = OutageNode.objects.filter(
        node_id__in=ancestors, restored_at__isnull=True, outage__status__in=list(statuses)
    ).select_related("outage")
    if exclude is not None:
        qs = qs.exclude(outage_id=exclude)
    row = qs.order_by("outage__detected_at").first()
    return row.outage if row is not None else None


def _incident(outage: Outage, actor: Any) -> Incident:
    inc = Incident.objects.create(
        title=_("Outage %(n)s: %(node)s") % {"n": outage.number, "node": outage.node.name},
        topic=Topic.OUTAGE,
        branch=outage.branch,
        opened_at=outage.started_at or outage.detected_at,
        description=outage.reason,
    )
    outage.incident = inc
    return inc


def _after_start(outage: Outage) -> None:
    """After an outage goes off: attach waiting reports, tell subscribers, check for mass mode."""
    from okno.outages import loop, mass

    pk = outage.pk
    transaction.on_commit(lambda: loop.attach_waiting_reports(pk))
    jobs.enqueue(
        "outages.fanout",
        outage_id=pk,
        template="outage_unplanned" if outage.kind == OutageKind.UNPLANNED else "outage_planned_today",
        event_key=f"outage:{pk}:off",
    )
    transaction.on_commit(lambda: mass.check(pk))


# --- unplanned ----------------------------------------------------------------------------------


def register_unplanned(
    *,
    node: GridNode,
    actor: Any,
    cause: str = Cause.UNKNOWN,
    started_at: dt.datetime | None = None,
    etr: dt.datetime | None = None,
    reason: str = "",
    crews: int = 0,
    note: str = "",
    extra_nodes: Iterable[GridNode] = (),
) -> Outage:
    """A dispatcher registers an unplanned outage on a node (a feeder tripped, a substation failed)."""
    now = timezone.now()
    started_at = started_at or now
    errors: dict[str, list[str]] = {}
    if started_at > now + dt.timedelta(minutes=5):
        errors["started_at"] = [_("An unplanned outage cannot start in the future.")]
    if cause not in Cause.values:
        errors["cause"] = [_("Unknown cause code “%(c)s”.") % {"c": cause}]
    if not 0 <= crews <= MAX_CREWS:
        errors["crews"] = [_("Enter a number of crews from 0 to 500.")]
    try:
        _check_etr(etr, now)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor):
        nodes = [node, *[n for n in extra_nodes if n.pk != node.pk]]
        for n in nodes:
            other = _covering(n, OFF_STATUSES)
            if other is not None:
                raise Conflict(
                    _("Node %(node)s is already off in outage %(n)s.") % {"node": n.code, "n": other.number}
                )
        outage = Outage(
            number=_next_number(timezone.localtime(started_at, node.branch.tz).year),
            kind=OutageKind.UNPLANNED,
            status=OutageStatus.ACTIVE,
            branch=node.branch,
            node=node,
            cause=cause,
            reason=reason,
            detected_at=min(now, started_at),
            started_at=started_at,
            etr=etr,
            crews=crews,
            note=note,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        outage.save()
        _incident(outage, actor)
        _switch_off(outage, nodes, started_at)
        outage.save(update_fields=["incident", "customers_affected"])
        if etr is not None:
            EtrChange.objects.create(outage=outage, etr=etr, changed_at=now, actor=_user(actor))
        record_event(outage, OutageEventType.REGISTERED, actor, now, node=node.code, etr=_iso(etr))
        _after_start(outage)
    return outage


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _switch_off(outage: Outage, nodes: list[GridNode], at: dt.datetime) -> None:
    # Deepest first, so a node above another of the same outage does not count its customers again.
    for n in sorted(nodes, key=lambda node: -node.depth):
        OutageNode.objects.create(outage=outage, node=n, off_at=at, customers=_newly_off(n))
    outage.customers_affected = _count_customers(nodes)


def propose(*, node: GridNode, reports: int, actor: Any) -> Outage:
    """An outage proposed from a cluster of "no power" reports; the dispatcher confirms or rejects it."""
    with transaction.atomic(), acting_as(actor):
        existing = Outage.objects.select_for_update().filter(node=node, status=OutageStatus.PROPOSED).first()
        if existing is not None:
            return existing
        now = timezone.now()
        outage = Outage.objects.create(
            number=_next_number(timezone.localtime(now, node.branch.tz).year),
            kind=OutageKind.UNPLANNED,
            status=OutageStatus.PROPOSED,
            branch=node.branch,
            node=node,
            cause=Cause.UNKNOWN,
            reason=_("Proposed from %(n)s reports of no power") % {"n": reports},
            detected_at=now,
            customers_affected=_count_customers([node]),
            reports=0,
        )
        record_event(outage, OutageEventType.PROPOSED, actor, now, reports=reports, node=node.code)
    return outage


def confirm(
    outage: Outage,
    *,
    actor: Any,
    etr: dt.datetime | None = None,
    cause: str = Cause.UNKNOWN,
    started_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Outage:
    """The dispatcher confirms a proposed outage: it goes off from the first report's time."""
    now = timezone.now()
    _check_etr(etr, now)
    if started_at is not None and started_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"started_at": [_("An unplanned outage cannot start in the future.")]})
    with transaction.atomic(), acting_as(actor):
        outage = _lock(outage, expected_version)
        if outage.status != OutageStatus.PROPOSED:
            raise Conflict(_("Only a proposed outage can be confirmed."))
        other = _covering(outage.node, OFF_STATUSES, exclude=outage.pk)
        if other is not None:
            raise Conflict(
                _("Node %(node)s is already off in outage %(n)s.")
                % {"node": outage.node.code, "n": other.number}
            )
        outage.status = OutageStatus.ACTIVE
        outage.started_at = started_at or outage.detected_at
        outage.etr = etr
        outage.cause = cause
        _incident(outage, actor)
        _switch_off(outage, [outage.node], outage.started_at)
        _save(outage, ["status", "started_at", "etr", "cause", "incident", "customers_affected"])
        if etr is not None:
            EtrChange.objects.create(outage=outage, etr=etr, changed_at=now, actor=_user(actor))
        record_event(outage, OutageEventType.CONFIRMED, actor, now, etr=_iso(etr))
        _after_start(outage)
    return outage


def add_node(outage: Outage, *, node: GridNode, actor: Any, at: dt.datetime | None = None) -> Outage:
    """The outage spreads to another node (a second feeder trips in the same storm)."""
    at = at or timezone.now()
    with transaction.atomic(), acting_as(actor):
        outage = _lock(outage)
        if outage.status not in OFF_STATUSES:
            raise Conflict(_("Nodes are added only to an outage that is on."))
        if at > timezone.now() + dt.timedelta(minutes=5) or (outage.started_at and at < outage.started_at):
            raise ValidationError({"at": [_("The node goes off between the outage's start and now.")]})
        other = _covering(node, OFF_STATUSES)
        if other is not None:
            raise Conflict(
                _("Node %(node)s is already off in outage %(n)s.") % {"node": node.code, "n": other.number}
            )
        OutageNode.objects.create(outage=outage, node=node, off_at=at, customers=_newly_off(node))
        open_nodes = GridNode.objects.filter(
            pk__in=outage.nodes.filter(restored_at__isnull=True).values("node_id")
        )
        outage.customers_affected = max(outage.customers_affected, _count_customers(open_nodes))
        if outage.status == OutageStatus.PARTIALLY_RESTORED:
            outage.status = OutageStatus.ACTIVE
        _save(outage, ["customers_affected", "status"])
        record_event(outage, OutageEventType.NODE_ADDED, actor, at, node=node.code)
        pk = outage.pk
        jobs.enqueue(
            "outages.fanout",
            outage_id=pk,
            template="outage_unplanned",
            event_key=f"outage:{pk}:off",
            node_ids=[node.pk],
        )
        from okno.outages import loop, mass

        transaction.on_commit(lambda: loop.attach_waiting_reports(pk))
        transaction.on_commit(lambda: mass.check(pk))
    return outage


def change_etr(
    outage: Outage,
    *,
    etr: dt.datetime,
    actor: Any,
    reason: str = "",
    expected_version: int | None = None,
) -> Outage:
    now = timezone.now()
    _check_etr(etr, now)
    with transaction.atomic(), acting_as(actor):
        outage = _lock(outage, expected_version)
        if outage.status not in OFF_STATUSES:
            raise Conflict(_("The restoration time is set only while the power is off."))
        if outage.etr == etr:
            return outage
        change = EtrChange.objects.create(
            outage=outage, etr=etr, previous=outage.etr, changed_at=now, actor=_user(actor), reason=reason
        )
        previous = outage.etr
        outage.etr = etr
        _save(outage, ["etr"])
        record_event(outage, OutageEventType.ETR_CHANGED, actor, now, etr=_iso(etr), previous=_iso(previous))
        jobs.enqueue(
            "outages.fanout",
            outage_id=outage.pk,
            template="outage_etr_changed",
            event_key=f"outage:{outage.pk}:etr:{change.pk}",
        )
        from okno.outages import mass

        pk = outage.pk
        transaction.on_commit(lambda: mass.refresh_announcement(pk))
    return outage


def set_crews(outage: Outage, *, crews: int, actor: Any, note: str = "") -> Outage:
    if not 0 <= crews <= MAX_CREWS:
        raise ValidationError({"crews": [_("Enter a number of crews from 0 to 500.")]})
    with transaction.atomic(), acting_as(actor):
        outage = _lock(outage)
        outage.crews = crews
        fields = ["crews"]
        if note:
            outage.note = note
            fields.append("note")
        _save(outage, fields)
        record_event(outage, OutageEventType.NOTE, actor, crews=crews, note=note)
    return outage


def restore_nodes(
    outage: Outage,
    *,
    node_ids: Iterable[int],
    actor: Any,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Outage:
    """Partial restoration: the named nodes are back; the outage ends when the last one is."""
    now = timezone.now()
    at = at or now
    wanted = set(node_ids)
    if at > now + dt.timedelta(minutes=5):
        raise ValidationError({"restored_at": [_("The restoration time cannot be in the future.")]})
    with transaction.atomic(), acting_as(actor):
        outage = _lock(outage, expected_version)
        if outage.status not in OFF_STATUSES:
            raise Conflict(_("The outage is not on; there is nothing to restore."))
        rows = list(outage.nodes.select_for_update().filter(restored_at__isnull=True))
        open_ids = {r.node_id for r in rows}
        unknown = wanted - open_ids
        if unknown or not wanted:
            raise ValidationError({"nodes": [_("Choose nodes of this outage that are still off.")]})
        if any(r.node_id in wanted and r.off_at and at < r.off_at for r in rows) or (
            outage.started_at and at < outage.started_at
        ):
            raise ValidationError({"restored_at": [_("Power cannot come back before it went off.")]})
        for row in rows:
            if row.node_id in wanted:
                row.restored_at = at
                row.save(update_fields=["restored_at"])
        restored_nodes = list(GridNode.objects.filter(pk__in=wanted))
        record_event(outage, OutageEventType.NODE_RESTORED, actor, at, nodes=[n.code for n in restored_nodes])
        ids = sorted(wanted)
        # One event per restoration step: those whose power came back now hear of it, with this time.
        key = f"outage:{outage.pk}:restored:{_step_label(ids)}"
        if open_ids - wanted:
            outage.status = OutageStatus.PARTIALLY_RESTORED
            _save(outage, ["status"])
        else:
            _finish(outage, actor, at)
        jobs.enqueue(
            "outages.fanout", outage_id=outage.pk, template="outage_restored", event_key=key, node_ids=ids
        )
        from okno.outages import loop

        pk = outage.pk
        transaction.on_commit(lambda: loop.answer_restored(pk, ids, key))
        return outage


def _step_label(node_ids: list[int]) -> str:
    """The nodes of a restoration step in an event key: their ids, or a digest when there are many
    (the key must stay short)."""
    label = "-".join(map(str, node_ids))
    return label if len(label) <= 60 else "h" + hashlib.sha1(label.encode()).hexdigest()[:16]  # noqa: S324


def restore(
    outage: Outage, *, actor: Any, at: dt.datetime | None = None, expected_version: int | None = None
) -> Outage:
    """Power is back everywhere the outage cut it."""
    open_ids = list(
        OutageNode.objects.filter(outage=outage, restored_at__isnull=True).values_list("node_id", flat=True)
    )
    if not open_ids:
        raise Conflict(_("The outage is not on; there is nothing to restore."))
    return restore_nodes(outage, node_ids=open_ids, actor=actor, at=at, expected_version=expected_version)


def _finish(outage: Outage, actor: Any, at: dt.datetime) -> Outage:
    policy = OutageSettings.current()
    outage.status = OutageStatus.RESTORED
    outage.restored_at = at
    started = outage.started_at or at
    outage.is_momentary = (at - started) < dt.timedelta(minutes=policy.momentary_min)
    _save(outage, ["status", "restored_at", "is_momentary"])
    if outage.incident_id:
        Incident.objects.filter(pk=outage.incident_id).update(closed_at=at)
    record_event(outage, OutageEventType.RESTORED, actor, at, momentary=outage.is_momentary)
    from okno.outages import mass

    pk = outage.pk
    transaction.on_commit(lambda: mass.leave(pk))
    return outage


def cancel(outage: Outage, *, actor: Any, reason: str, expected_version: int | None = None) -> Outage:
    """Cancel a proposal (a false alarm) or planned works that will not happen."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the outage is cancelled.")]})
    with transaction.atomic(), acting_as(actor):
        outage = _lock(outage, expected_version)
        if outage.status not in (OutageStatus.PROPOSED, OutageStatus.SCHEDULED):
            raise Conflict(_("Only a proposed or scheduled outage can be cancelled; restore one that is on."))
        outage.status = OutageStatus.CANCELLED
        _save(outage, ["status"])
        record_event(outage, OutageEventType.CANCELLED, actor, reason=reason.strip())
    return outage


# --- planned ------------------------------------------------------------------------------------


def schedule_planned(
    *,
    node: GridNode,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    reason: str,
    actor: Any,
    works_order: str = "",
    merge: bool = False,
    extra_nodes: Iterable[GridNode] = (),
) -> Outage:
    """Planned works: published ahead and announced to subscribers of every address under the nodes.

    Works overlapping another planned outage on the same node are refused with that outage's number,
    or, with ``merge``, folded into it (its window grows to cover both).
    """
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    for field, value in (("planned_start", planned_start), ("planned_end", planned_end)):
        if value is None or timezone.is_naive(value):
            errors[field] = [_("Enter a date and time with a time zone.")]
    times_ok = not errors
    if not reason.strip():
        errors["reason"] = [_("Say what works are planned.")]
    if times_ok:
        if planned_start <= now:
            errors["planned_start"] = [_("Planned works must start in the future.")]
        if planned_end <= planned_start:
            errors["planned_end"] = [_("The end must be after the start.")]
        elif planned_end - planned_start > MAX_PLANNED:
            errors["planned_end"] = [_("Planned works may last at most 7 days; split longer works.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor):
        nodes = [node, *[n for n in extra_nodes if n.pk != node.pk]]
        overlapping = (
            Outage.objects.select_for_update()
            .filter(
                kind=OutageKind.PLANNED,
                status__in=(OutageStatus.SCHEDULED, OutageStatus.ACTIVE),
                pk__in=OutageNode.objects.filter(node__in=nodes).values("outage_id"),
                planned_start__lt=planned_end,
                planned_end__gt=planned_start,
            )
            .order_by("planned_start")
            .first()
        )
        if overlapping is not None:
            if not merge or overlapping.status != OutageStatus.SCHEDULED:
                raise Conflict(
                    _(
                        "Planned outage %(n)s already switches this node off from %(s)s to %(e)s; "
                        "merge the works into it or choose another time."
                    )
                    % {
                        "n": overlapping.number,
                        "s": timezone.localtime(overlapping.planned_start, node.branch.tz).strftime(
                            "%d.%m.%Y %H:%M"
                        ),
                        "e": timezone.localtime(overlapping.planned_end, node.branch.tz).strftime(
                            "%d.%m.%Y %H:%M"
                        ),
                    }
                )
            return _merge(overlapping, nodes, planned_start, planned_end, reason, actor)
        policy = OutageSettings.current()
        short_notice = planned_start - now < dt.timedelta(days=policy.planned_notice_days)
        outage = Outage(
            number=_next_number(timezone.localtime(planned_start, node.branch.tz).year),
            kind=OutageKind.PLANNED,
            status=OutageStatus.SCHEDULED,
            branch=node.branch,
            node=node,
            cause=Cause.PLANNED_WORKS,
            reason=reason.strip(),
            works_order=works_order,
            planned_start=planned_start,
            planned_end=planned_end,
            detected_at=now,
            etr=planned_end,
            published_at=now,
            created_by=_user(actor),
        )
        outage.save()
        OutageNode.objects.bulk_create(
            [OutageNode(outage=outage, node=n, customers=_count_customers([n])) for n in nodes]
        )
        outage.customers_affected = _count_customers(nodes)
        outage.save(update_fields=["customers_affected"])
        record_event(
            outage,
            OutageEventType.SCHEDULED,
            actor,
            now,
            start=planned_start.isoformat(),
            end=planned_end.isoformat(),
            short_notice=short_notice,
        )
        jobs.enqueue(
            "outages.fanout",
            outage_id=outage.pk,
            template="outage_planned_ahead",
            event_key=f"outage:{outage.pk}:ahead",
        )
    return outage


def _merge(
    outage: Outage,
    nodes: list[GridNode],
    start: dt.datetime,
    end: dt.datetime,
    reason: str,
    actor: Any,
) -> Outage:
    outage.planned_start = min(outage.planned_start or start, start)
    outage.planned_end = max(outage.planned_end or end, end)
    outage.etr = outage.planned_end
    if reason.strip() and reason.strip() not in outage.reason:
        outage.reason = f"{outage.reason}; {reason.strip()}"[:500]
    have = set(outage.nodes.values_list("node_id", flat=True))
    new = [n for n in nodes if n.pk not in have]
    OutageNode.objects.bulk_create(
        [OutageNode(outage=outage, node=n, customers=_count_customers([n])) for n in new]
    )
    all_nodes = GridNode.objects.filter(pk__in=outage.nodes.values("node_id"))
    outage.customers_affected = _count_customers(all_nodes)
    _save(outage, ["planned_start", "planned_end", "etr", "reason", "customers_affected"])
    record_event(
        outage,
        OutageEventType.SCHEDULED,
        actor,
        merged=True,
        start=outage.planned_start.isoformat(),
        end=outage.planned_end.isoformat(),
        nodes=[n.code for n in new],
    )
    # Subscribers under new nodes hear of the works; those told before get the new window once.
    jobs.enqueue(
        "outages.fanout",
        outage_id=outage.pk,
        template="outage_planned_ahead",
        event_key=f"outage:{outage.pk}:ahead:{outage.version}",
    )
    return outage


def start_planned(outage: Outage, *, actor: Any, at: dt.datetime | None = None) -> Outage:
    """Planned works begin: the scheduled nodes go off (the periodic job calls this at the start time)."""
    now = timezone.now()
    at = at or now
    with transaction.atomic(), acting_as(actor):
        outage = _lock(outage)
        if outage.status != OutageStatus.SCHEDULED:
            raise Conflict(_("Only a scheduled outage can start."))
        for n in outage.nodes.all():
            other = _covering(n.node, OFF_STATUSES, exclude=outage.pk)
            if other is not None:
                raise Conflict(
                    _("Node %(node)s is already off in outage %(n)s.")
                    % {"node": n.node.code, "n": other.number}
                )
        outage.nodes.update(off_at=at)
        outage.status = OutageStatus.ACTIVE
        outage.started_at = at
        if outage.etr is None or outage.etr <= now:
            outage.etr = outage.planned_end if outage.planned_end and outage.planned_end > now else None
        _incident(outage, actor)
        _save(outage, ["status", "started_at", "etr", "incident"])
        record_event(outage, OutageEventType.STARTED, actor, at)
        pk = outage.pk
        from okno.outages import loop, mass

        transaction.on_commit(lambda: loop.attach_waiting_reports(pk))
        transaction.on_commit(lambda: mass.check(pk))
    return outage
