"""Contact-centre statistics from the call records (:class:`~okno.contact_center.models.Call`) and the
agents' state events (:class:`~okno.contact_center.models.CallEvent`), by queue, by 30-minute interval
(in the company's or a branch's zone) or by agent.

Definitions (stated in every report as ``definitions``; ``service_level_variant`` names the variant):

* **offered** — inbound calls that entered a queue in the period (counted in the interval of their first
  entry; an overflowed call counts once, in the queue it ended in, its wait measured from its first
  entry);
* **answered within T** — answered with a wait of at most T seconds (T: each queue's waiting-time norm,
  or one T for the whole report);
* **short abandons** — callers who hung up after waiting less than S seconds (wrong numbers, misdials);
  **abandoned** — those who waited S seconds or longer; **callbacks** — callers who left the line asking
  to be called back (they keep their place; the callback is an outbound call of the same queue);
* **service level** = answered within T / (offered − short abandons) — the one definition, used by the
  wallboard (:func:`okno.contact_center.engine.wallboard`), these reports and the simulation
  (:func:`service_level`, :func:`classify_call`, :data:`SHORT_ABANDON_S`). A callback stays in
  *offered*; it counts as answered when its outbound call is connected to an agent (the wait measured
  from the original call's first entry to that connection);
* **ASA** = mean wait of the answered calls; **abandonment rate** = abandoned / offered;
* **AHT** = mean (talk + wrap-up) of the handled calls (answered, hung up and wrapped up; the callbacks
  put through to an agent included);
* **occupancy** = handling time (talk and wrap-up of any call) / staffed time, where staffed time is the
  time an agent was logged on (``ADDMEMBER`` … ``REMOVEMEMBER``) and not paused (``PAUSE`` …
  ``UNPAUSE``); a queue's occupancy is that of its members (every agent with a skill in it), an
  interval's that of all agents;
* **first-contact resolution** = among the appeals registered on the calls (channel contact centre, a
  known customer), the share with no further appeal of the same customer on the same topic registered
  through any channel (contact centre, portal, e-mail, visit …) within the next 7 days. For the last 7 days of data it is provisional.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.contact_center.choices import CallOutcome, Direction
from okno.contact_center.models import Agent, Call, CallEvent, Queue, Skill

BY_QUEUE, BY_INTERVAL, BY_AGENT = "queue", "interval", "agent"
GROUPINGS = (BY_QUEUE, BY_INTERVAL, BY_AGENT)
INTERVAL = dt.timedelta(minutes=30)
FCR_WINDOW = dt.timedelta(days=7)
#: Callers who hang up sooner than this did not really wait (a misdial): not in the service level.
SHORT_ABANDON_S = 5.0
STATE_EVENTS = ("ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE")

DEFINITIONS = {
    "offered": _("inbound calls that entered a queue in the period"),
    "service_level": _(
        "answered within T s / (offered − abandoned within S s); a callback counts as answered "
        "when it is connected"
    ),
    "asa_s": _("mean wait of the answered calls, seconds"),
    "abandon_rate": _("abandoned after waiting at least S s / offered"),
    "aht_s": _("mean talk + wrap-up time of the handled calls, seconds"),
    "occupancy": _("talk + wrap-up time / staffed time (logged on and not paused)"),
    "fcr": _(
        "appeals registered on calls with no repeat appeal of the same customer on the same topic "
        "through any channel within 7 days / appeals registered on calls"
    ),
}


def service_level(answered_within: int, offered: int, short_abandons: int) -> float | None:
    """The service level: answered within T / (offered − short abandons); ``None`` with nothing counted."""
    counted = offered - short_abandons
    return answered_within / counted if counted > 0 else None


@dataclass(frozen=True)
class CallFigures:
    """How one offered call counts: answered (within T or not, with its wait), a short abandon, an
    abandon, a callback still waiting, or still in the queue."""

    answered: bool = False
    within: bool = False
    wait_s: float = 0.0
    short_abandon: bool = False
    abandoned: bool = False
    callback: bool = False


def classify_call(
    *,
    enqueued_at: dt.datetime,
    answered_at: dt.datetime | None,
    ended_at: dt.datetime | None,
    outcome: str,
    target_s: float,
    short_abandon_s: float = SHORT_ABANDON_S,
    callback_connected_at: dt.datetime | None = None,
) -> CallFigures:
    """One offered (inbound, queued) call by the shared definitions (see the module's docstring)."""
    if answered_at is not None:
        wait = max(0.0, _secs(enqueued_at, answered_at))
        return CallFigures(answered=True, within=wait <= target_s, wait_s=wait)
    if outcome == CallOutcome.CALLBACK:
        if callback_connected_at is not None:
            wait = max(0.0, _secs(enqueued_at, callback_connected_at))
            return CallFigures(answered=True, within=wait <= target_s, wait_s=wait, callback=True)
        return CallFigures(callback=True)
    if outcome == CallOutcome.ABANDONED and ended_at is not None:
        wait = max(0.0, _secs(enqueued_at, ended_at))
        if wait < short_abandon_s:
            return CallFigures(short_abandon=True, wait_s=wait)
        return CallFigures(abandoned=True, wait_s=wait)
    return CallFigures()


def callback_connections(call_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """When the callbacks of these (original) calls were first connected to an agent, by call id."""
    ids = list(call_ids)
    if not ids:
        return {}
    from okno.contact_center.models import Callback

    by_callback = dict(Callback.objects.filter(call_id__in=ids).values_list("pk", "call_id"))
    out: dict[int, dt.datetime] = {}
    if not by_callback:
        return out
    for state, answered in Call.objects.filter(
        direction=Direction.OUTBOUND,
        answered_at__isnull=False,
        agent__isnull=False,
        ivr_state__callback__in=list(by_callback),
    ).values_list("ivr_state", "answered_at"):
        call_id = by_callback.get(int((state or {}).get("callback") or 0))
        if call_id is None or answered is None:
            continue
        if call_id not in out or answered < out[call_id]:
            out[call_id] = answered
    return out


@dataclass
class Row:
    """The figures of one group (a queue, an interval, an agent or the total)."""

    key: str
    label: str
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    short_abandons: int = 0
    callbacks: int = 0
    wait_answered_s: float = 0.0
    max_wait_s: float = 0.0
    handled: int = 0
    talk_s: float = 0.0
    wrapup_s: float = 0.0
    handling_s: float = 0.0  # occupancy's numerator: clipped to the period (and the interval)
    staffed_s: float = 0.0
    fcr_appeals: int = 0
    fcr_resolved: int = 0

    @property
    def counted(self) -> int:
        return self.offered - self.short_abandons

    @property
    def service_level(self) -> float | None:
        return service_level(self.answered_within, self.offered, self.short_abandons)

    @property
    def asa_s(self) -> float | None:
        return self.wait_answered_s / self.answered if self.answered else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    @property
    def aht_s(self) -> float | None:
        return (self.talk_s + self.wrapup_s) / self.handled if self.handled else None

    @property
    def occupancy(self) -> float | None:
        return self.handling_s / self.staffed_s if self.staffed_s > 0 else None

    @property
    def fcr(self) -> float | None:
        return self.fcr_resolved / self.fcr_appeals if self.fcr_appeals else None

    def as_dict(self, digits: int = 4) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return round(value, digits) if value is not None else None

        return {
            "key": self.key,
            "label": self.label,
            "offered": self.offered,
            "answered": self.answered,
            "answered_within": self.answered_within,
            "abandoned": self.abandoned,
            "short_abandons": self.short_abandons,
            "callbacks": self.callbacks,
            "service_level": r(self.service_level),
            "asa_s": r(self.asa_s),
            "max_wait_s": r(self.max_wait_s),
            "abandon_rate": r(self.abandon_rate),
            "handled": self.handled,
            "aht_s": r(self.aht_s),
            "talk_s": r(self.talk_s),
            "wrapup_s": r(self.wrapup_s),
            "handling_s": r(self.handling_s),
            "staffed_s": r(self.staffed_s),
            "occupancy": r(self.occupancy),
            "fcr_appeals": self.fcr_appeals,
            "fcr_resolved": self.fcr_resolved,
            "fcr": r(self.fcr),
        }


COLUMNS = list(Row(key="", label="").as_dict())


@dataclass
class Report:
    start: dt.datetime
    end: dt.datetime
    by: str
    tz: dt.tzinfo
    target_s: float | None
    short_abandon_s: float
    rows: list[Row]
    total: Row
    queue: str = ""
    fcr_provisional: bool = False

    @property
    def service_level_variant(self) -> str:
        target = f"{self.target_s:g} s" if self.target_s is not None else str(_("each queue's norm"))
        return str(
            _(
                "answered within {target} / (offered − abandoned within {short} s); "
                "a callback counts as answered when connected"
            ).format(target=target, short=f"{self.short_abandon_s:g}")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "by": self.by,
            "queue": self.queue or None,
            "time_zone": str(self.tz),
            "target_s": self.target_s,
            "short_abandon_s": self.short_abandon_s,
            "service_level_variant": self.service_level_variant,
            "fcr_provisional": self.fcr_provisional,
            "definitions": {k: str(v) for k, v in DEFINITIONS.items()},
            "rows": [row.as_dict() for row in self.rows],
            "total": self.total.as_dict(),
        }


# ---------------------------------------------------------------------------------------------- helpers


def _floor(t: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The start of the 30-minute interval holding ``t``, in ``tz``."""
    local = t.astimezone(tz)
    return local.replace(minute=local.minute - local.minute % 30, second=0, microsecond=0)


def _label(start: dt.datetime) -> str:
    return start.strftime("%Y-%m-%d %H:%M")


def _secs(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds()


def _clip(
    a: dt.datetime, b: dt.datetime, lo: dt.datetime, hi: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    return max(a, lo), min(b, hi)


def _split(a: dt.datetime, b: dt.datetime, tz: dt.tzinfo) -> Iterable[tuple[dt.datetime, float]]:
    """``[a, b)`` cut at the 30-minute boundaries: (interval start, seconds in it)."""
    while a < b:
        start = _floor(a, tz)
        nxt = min(b, start + INTERVAL)
        yield start, _secs(a, nxt)
        a = nxt


def staffed_periods(
    start: dt.datetime, end: dt.datetime, agents: Iterable[str] | None = None
) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """Per agent (the member name the events carry): the periods within ``[start, end)`` when they were
    logged on and not paused. The engine writes one state event per queue of the agent; they are read
    as one timeline per agent. The state at ``start`` is the one the last earlier event left."""
    wanted = set(agents) if agents is not None else None
    before = CallEvent.objects.filter(event__in=STATE_EVENTS, at__lt=start).exclude(agent="NONE")
    if wanted is not None:
        before = before.filter(agent__in=wanted)
    last: dict[str, str] = {}
    # the latest event of each agent before the period: their state when it starts
    latest = Q()
    for item in before.values("agent").annotate(last=Max("at")).order_by():
        latest |= Q(agent=item["agent"], at=item["last"])
    if latest:
        for name, event in (
            before.filter(latest).order_by("agent", "-at", "-id").values_list("agent", "event")
        ):
            last.setdefault(name, event)
    logged_on: dict[str, bool] = {}
    paused: dict[str, bool] = {}
    since: dict[str, dt.datetime] = {}
    for name, event in last.items():
        logged_on[name] = event != "REMOVEMEMBER"
        paused[name] = event == "PAUSE"
        if logged_on[name] and not paused[name]:
            since[name] = start
    out: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    rows = CallEvent.objects.filter(event__in=STATE_EVENTS, at__gte=start, at__lt=end).exclude(agent="NONE")
    if wanted is not None:
        rows = rows.filter(agent__in=wanted)
    for name, event, at in rows.order_by("at", "id").values_list("agent", "event", "at").iterator():
        on, off = logged_on.get(name, False), paused.get(name, False)
        if event == "ADDMEMBER":
            on, off = True, False
        elif event == "REMOVEMEMBER":
            on, off = False, False
        elif event == "PAUSE":
            off = True
        else:  # UNPAUSE
            off = False
        was = name in since
        now_staffed = on and not off
        if was and not now_staffed:
            if at > since[name]:
                out[name].append((since.pop(name), at))
            else:
                since.pop(name)
        elif now_staffed and not was:
            since[name] = at
        logged_on[name], paused[name] = on, off
    for name, begun in since.items():
        if end > begun:
            out[name].append((begun, end))
    return dict(out)


# ---------------------------------------------------------------------------------------------- the report


def report(
    start: dt.datetime,
    end: dt.datetime,
    *,
    by: str = BY_QUEUE,
    queue: str = "",
    target_s: float | None = None,
    short_abandon_s: float = SHORT_ABANDON_S,
    tz: dt.tzinfo | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """The statistics of ``[start, end)`` grouped ``by`` queue, interval or agent, with the total."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("start and end must be aware")
    if end <= start:
        raise ValueError("the period is empty")
    tz = tz or timezone.get_default_timezone()
    now = now or timezone.now()
    horizon = min(end, now)
    queues = {q.pk: q for q in Queue.objects.all()}
    codes = {q.code: q for q in queues.values()}
    only = codes.get(queue) if queue else None
    if queue and only is None:
        raise ValueError(f"unknown queue {queue!r}")
    agents = {a.pk: a for a in Agent.objects.select_related("user")}
    from okno.contact_center.engine import agent_name

    names = {pk: agent_name(a) for pk, a in agents.items()}

    rows: dict[str, Row] = {}
    total = Row(key="total", label=str(_("Total")))

    def row(key: str, label: str) -> Row:
        found = rows.get(key)
        if found is None:
            found = rows[key] = Row(key=key, label=label)
        return found

    def groups_of_call(c: dict[str, Any], at: dt.datetime) -> list[Row]:
        out = [total]
        if by == BY_QUEUE:
            q = queues.get(c["queue_id"])
            if q is not None:
                out.append(row(q.code, q.name))
        elif by == BY_INTERVAL:
            k = _floor(at, tz)
            out.append(row(k.isoformat(), _label(k)))
        elif c["agent_id"] is not None:
            out.append(row(str(c["agent_id"]), names.get(c["agent_id"], str(c["agent_id"]))))
        return out

    fields = (
        "pk",
        "direction",
        "queue_id",
        "agent_id",
        "started_at",
        "enqueued_at",
        "answered_at",
        "ended_at",
        "wrapup_ended_at",
        "outcome",
        "appeal_id",
    )
    calls = Call.objects.filter(queue__isnull=False)
    if only is not None:
        calls = calls.filter(queue=only)
    inbound = calls.filter(direction=Direction.INBOUND, enqueued_at__gte=start, enqueued_at__lt=end)
    outbound = calls.filter(
        direction=Direction.OUTBOUND, agent__isnull=False, started_at__gte=start, started_at__lt=end
    )
    appeal_calls: list[tuple[list[Row], int]] = []
    inbound_rows = list(inbound.values(*fields))
    connected = callback_connections(c["pk"] for c in inbound_rows if c["outcome"] == CallOutcome.CALLBACK)
    for c in inbound_rows + list(outbound.values(*fields)):
        is_in = c["direction"] == Direction.INBOUND
        at = c["enqueued_at"] if is_in else c["started_at"]
        groups = groups_of_call(c, at)
        target = target_s
        if target is None:
            q = queues.get(c["queue_id"])
            target = float(q.target_answer_s) if q is not None else 20.0
        for g in groups:
            if is_in:
                f = classify_call(
                    enqueued_at=c["enqueued_at"],
                    answered_at=c["answered_at"],
                    ended_at=c["ended_at"],
                    outcome=c["outcome"],
                    target_s=target,
                    short_abandon_s=short_abandon_s,
                    callback_connected_at=connected.get(c["pk"]),
                )
                g.offered += 1
                g.max_wait_s = max(g.max_wait_s, f.wait_s)
                g.callbacks += f.callback
                g.short_abandons += f.short_abandon
                g.abandoned += f.abandoned
                if f.answered:
                    g.answered += 1
                    g.wait_answered_s += f.wait_s
                    g.answered_within += f.within
            if (
                c["outcome"] == CallOutcome.ANSWERED
                and c["answered_at"] is not None
                and c["ended_at"] is not None
                and c["wrapup_ended_at"] is not None
            ):
                g.handled += 1
                g.talk_s += max(0.0, _secs(c["answered_at"], c["ended_at"]))
                g.wrapup_s += max(0.0, _secs(c["ended_at"], c["wrapup_ended_at"]))
        if c["appeal_id"] is not None:
            appeal_calls.append((groups, c["appeal_id"]))

    # ---- first-contact resolution
    fcr_provisional = end + FCR_WINDOW > now
    if appeal_calls:
        from okno.appeals.models import Appeal

        base = {
            a["pk"]: a
            for a in Appeal.objects.filter(
                pk__in={pk for _g, pk in appeal_calls}, customer__isnull=False
            ).values("pk", "customer_id", "topic", "registered_at")
        }
        later: dict[tuple[int, str], list[tuple[dt.datetime, int]]] = defaultdict(list)
        if base:
            first = min(a["registered_at"] for a in base.values())
            last = max(a["registered_at"] for a in base.values()) + FCR_WINDOW
            for a in Appeal.objects.filter(  # a repeat through any channel
                customer_id__in={a["customer_id"] for a in base.values()},
                registered_at__gte=first,
                registered_at__lte=last,
            ).values("pk", "customer_id", "topic", "registered_at"):
                later[(a["customer_id"], a["topic"])].append((a["registered_at"], a["pk"]))
            for items in later.values():
                items.sort()
        seen: set[tuple[int, int]] = set()
        for groups, appeal_id in appeal_calls:
            appeal = base.get(appeal_id)
            if appeal is None:
                continue
            items = later.get((appeal["customer_id"], appeal["topic"]), [])
            times = [t for t, _pk in items]
            i = bisect.bisect_right(times, appeal["registered_at"])
            repeated = i < len(items) and items[i][0] <= appeal["registered_at"] + FCR_WINDOW
            for g in groups:
                marker = (id(g), appeal_id)
                if marker in seen:  # two calls on one appeal count it once
                    continue
                seen.add(marker)
                g.fcr_appeals += 1
                if not repeated:
                    g.fcr_resolved += 1

    # ---- occupancy: handling time over staffed time
    members: dict[str, set[int]] = defaultdict(set)
    for agent_id, queue_id in Skill.objects.values_list("agent_id", "queue_id"):
        q = queues.get(queue_id)
        if q is not None:
            members[q.code].add(agent_id)
    relevant = set(agents) if only is None else members.get(only.code, set())
    staffed = staffed_periods(start, horizon, [names[pk] for pk in relevant]) if horizon > start else {}
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for agent_id, answered, wrapped in (
        Call.objects.filter(agent_id__in=relevant, answered_at__isnull=False, answered_at__lt=horizon)
        .exclude(wrapup_ended_at__lt=start)
        .values_list("agent_id", "answered_at", "wrapup_ended_at")
    ):
        finish = wrapped if wrapped is not None else horizon  # still talking or wrapping up
        if answered is None:
            continue
        lo, hi = _clip(answered, finish, start, horizon)
        if hi > lo:
            busy[agent_id].append((lo, hi))

    def add_time(target_rows: list[Row], periods: list[tuple[dt.datetime, dt.datetime]], attr: str) -> None:
        for lo, hi in periods:
            secs = _secs(lo, hi)
            for g in target_rows:
                setattr(g, attr, getattr(g, attr) + secs)

    for pk in relevant:
        periods = staffed.get(names[pk], [])
        handling = busy.get(pk, [])
        add_time([total], periods, "staffed_s")
        add_time([total], handling, "handling_s")
        if by == BY_AGENT:
            if periods or handling or str(pk) in rows:
                g = row(str(pk), names[pk])
                add_time([g], periods, "staffed_s")
                add_time([g], handling, "handling_s")
        elif by == BY_QUEUE:
            for code, ids in members.items():
                if pk in ids and (only is None or code == only.code):
                    g = row(code, codes[code].name)
                    add_time([g], periods, "staffed_s")
                    add_time([g], handling, "handling_s")
        else:
            for attr, spans in (("staffed_s", periods), ("handling_s", handling)):
                for lo, hi in spans:
                    for k, secs in _split(lo, hi, tz):
                        g = row(k.isoformat(), _label(k))
                        setattr(g, attr, getattr(g, attr) + secs)

    ordered = sorted(rows.values(), key=lambda r: r.key if by == BY_INTERVAL else r.label)
    return Report(
        start=start,
        end=end,
        by=by,
        tz=tz,
        target_s=target_s,
        short_abandon_s=short_abandon_s,
        rows=ordered,
        total=total,
        queue=queue,
        fcr_provisional=fcr_provisional,
    )
