"""The consumer–operator–dispatcher loop.

A "no power" report (an appeal on the outage topic, from any channel) at an address under an outage
that is on is attached to the outage's incident and answered at once with the restoration time. A
report at an address with no known outage waits in the dispatcher's queue; enough of them under one
node within a short window propose an outage there. When power is back, every attached report is
answered and closed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.appeals import actions as appeal_actions
from okno.appeals.choices import OPEN_STATUSES, AnswerChannel, Status, Topic
from okno.appeals.models import Appeal
from okno.core import events
from okno.core.errors import TransitionNotAllowed
from okno.customers.models import Account, Address
from okno.customers.numbers import normalize_phone
from okno.org.models import system_actor
from okno.outages.choices import OFF_STATUSES, OutageEventType, OutageStatus
from okno.outages.models import Feed, GridNode, Outage, OutageNode, OutageSettings

log = logging.getLogger(__name__)
WAITING_HOURS = 24


@dataclass(frozen=True)
class Placement:
    """Where a report sits on the grid: its service point's feed node and that node's path."""

    node_id: int
    path: str


def place(appeal: Appeal) -> Placement | None:
    """The grid node feeding the reported address: the account's service point, else the building."""
    return place_many([appeal])[0]


# Building triples per query when placing by address (three bind parameters each).
_BUILDINGS_PER_QUERY = 300


def place_many(appeals: Sequence[Appeal]) -> list[Placement | None]:
    """:func:`place` for many reports at once, in a bounded number of queries (not per report).

    The order of preference is the same: the account's service point, else the building of the
    report's address (the feed of its first service point), else, for a report naming no account, the
    customer's only open account.
    """
    appeals = list(appeals)
    if not appeals:
        return []
    account_ids = {a.account_id for a in appeals if a.account_id}
    sp_of_account: dict[int, int | None] = (
        dict(Account.objects.filter(pk__in=account_ids).values_list("pk", "service_point_id"))
        if account_ids
        else {}
    )
    # A customer with one account reported without naming it.
    customer_ids = {a.customer_id for a in appeals if a.customer_id and not a.account_id}
    open_accounts: dict[int, list[int]] = {}
    if customer_ids:
        for customer_id, sp_id in Account.objects.filter(
            customer_id__in=customer_ids, closed_on__isnull=True
        ).values_list("customer_id", "service_point_id"):
            open_accounts.setdefault(customer_id, []).append(sp_id)
    sp_of_customer = {c: sps[0] for c, sps in open_accounts.items() if len(sps) == 1}
    sp_ids = {sp for sp in (*sp_of_account.values(), *sp_of_customer.values()) if sp is not None}
    by_point: dict[int, Placement] = {}
    if sp_ids:
        by_point = {
            sp: Placement(node_id, path)
            for sp, node_id, path in Feed.objects.filter(service_point_id__in=sp_ids).values_list(
                "service_point_id", "node_id", "node__path"
            )
        }
    # Reports not placed by their account are placed by their address's building.
    address_ids = {
        a.address_id
        for a in appeals
        if a.address_id and by_point.get(sp_of_account.get(a.account_id or 0) or 0) is None
    }
    building_of: dict[int, tuple[str, str, str]] = {}
    if address_ids:
        building_of = {
            pk: (settlement, street, house)
            for pk, settlement, street, house in Address.objects.filter(pk__in=address_ids).values_list(
                "pk", "settlement", "street", "house"
            )
        }
    by_building = _feeds_by_building(set(building_of.values()))
    out: list[Placement | None] = []
    for appeal in appeals:
        found = by_point.get(sp_of_account.get(appeal.account_id or 0) or 0)
        if found is None and appeal.address_id:
            found = by_building.get(building_of.get(appeal.address_id, ("", "", "")))
        if found is None and appeal.customer_id and not appeal.account_id:
            found = by_point.get(sp_of_customer.get(appeal.customer_id) or 0)
        out.append(found)
    return out


def _feeds_by_building(buildings: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], Placement]:
    """The feed of each building's first service point (by id), a few hundred buildings per query."""
    out: dict[tuple[str, str, str], Placement] = {}
    wanted = sorted(buildings)
    for i in range(0, len(wanted), _BUILDINGS_PER_QUERY):
        part = wanted[i : i + _BUILDINGS_PER_QUERY]
        cond = Q()
        for settlement, street, house in part:
            cond |= Q(
                service_point__address__settlement=settlement,
                service_point__address__street=street,
                service_point__address__house=house,
            )
        rows = (
            Feed.objects.filter(cond)
            .order_by("service_point_id")
            .values_list(
                "service_point__address__settlement",
                "service_point__address__street",
                "service_point__address__house",
                "node_id",
                "node__path",
            )
        )
        for settlement, street, house, node_id, path in rows:
            out.setdefault((settlement, street, house), Placement(node_id, path))
    return out


def outage_over(placement: Placement) -> Outage | None:
    """The outage that has the node (or a node above it) off right now."""
    ancestors = [int(p) for p in placement.path.strip("/").split("/") if p]
    row = (
        OutageNode.objects.filter(
            node_id__in=ancestors, restored_at__isnull=True, outage__status__in=list(OFF_STATUSES)
        )
        .select_related("outage", "outage__branch")
        .order_by("outage__started_at")
        .first()
    )
    return row.outage if row else None


def waiting_reports(branch_ids: list[int] | None = None) -> QuerySet[Appeal]:
    """Reports of no power not attached to any outage: the dispatcher's queue."""
    since = timezone.now() - dt.timedelta(hours=WAITING_HOURS)
    qs = Appeal.objects.filter(
        topic=Topic.OUTAGE,
        status__in=OPEN_STATUSES,
        incident__isnull=True,
        registered_at__gte=since,
    )
    if branch_ids is not None:
        qs = qs.filter(branch_id__in=branch_ids)
    return qs


def etr_text(outage: Outage) -> str:
    tz = outage.branch.tz
    if outage.etr is None:
        return _("Crews are working on it; the restoration time is not known yet.")
    return _("Estimated restoration: %(t)s (%(tz)s).") % {
        "t": timezone.localtime(outage.etr, tz).strftime("%d.%m.%Y %H:%M"),
        "tz": str(tz),
    }


def interim_answer(outage: Outage) -> str:
    return _("Outage %(n)s is registered at your address: %(reason)s. %(etr)s") % {
        "n": outage.number,
        "reason": outage.reason or outage.get_cause_display(),
        "etr": etr_text(outage),
    }


def attach(appeal: Appeal, outage: Outage, actor=None) -> bool:
    """Attach a report to the outage's incident and give the interim answer (the ETR)."""
    actor = actor or system_actor("outages")
    with transaction.atomic():
        updated = Appeal.objects.filter(pk=appeal.pk, incident__isnull=True).update(
            incident=outage.incident_id
        )
        if not updated:
            return False
        Outage.objects.filter(pk=outage.pk).update(reports=F("reports") + 1)
        with translation.override("ru"):
            text = interim_answer(outage)
        appeal.refresh_from_db()
        appeal_actions.comment(appeal, actor=actor, text=text)
        from okno.outages.actions import record_event

        record_event(outage, OutageEventType.REPORT_ATTACHED, actor, appeal=appeal.number)
        template = "outage_unplanned" if outage.kind == "unplanned" else "outage_planned_today"
        key = f"outage:{outage.pk}:off" if outage.kind == "unplanned" else f"outage:{outage.pk}:today"
        transaction.on_commit(lambda: tell_reporter(appeal, outage, template, key))
    return True


def on_appeal_registered(appeal_id: int) -> None:
    appeal = Appeal.objects.select_related("address").filter(pk=appeal_id).first()
    if appeal is None or appeal.topic != Topic.OUTAGE or appeal.incident_id:
        return
    placement = place(appeal)
    if placement is None:
        return
    outage = outage_over(placement)
    if outage is not None and outage.incident_id:
        attach(appeal, outage)
        return
    propose_if_clustered(appeal, placement)


def propose_if_clustered(appeal: Appeal, placement: Placement) -> Outage | None:
    """Enough waiting reports under one node in a short window propose an outage on that node."""
    policy = OutageSettings.current()
    since = timezone.now() - dt.timedelta(minutes=policy.report_window_min)
    recent = list(waiting_reports([appeal.branch_id]).filter(registered_at__gte=since))
    # Placed together: a handful of queries however many reports a storm brings.
    paths = [p.path for p in place_many(recent) if p is not None]
    chain = [int(x) for x in placement.path.strip("/").split("/") if x]
    # From the feeding node upwards: the lowest node under which the threshold is reached.
    for node_id in reversed(chain):
        prefix = placement.path[: placement.path.index(f"/{node_id}/") + len(f"/{node_id}/")]
        count = sum(1 for p in paths if p.startswith(prefix))
        if count >= policy.report_threshold:
            node = GridNode.objects.select_related("branch").get(pk=node_id)
            if Outage.objects.filter(node=node, status=OutageStatus.PROPOSED).exists():
                return None
            from okno.outages.actions import propose

            return propose(node=node, reports=count, actor=system_actor("outages"))
    return None


def attach_waiting_reports(outage_id: int) -> int:
    """After an outage goes off: reports already waiting under its nodes join it."""
    outage = Outage.objects.select_related("branch").get(pk=outage_id)
    if outage.status not in OFF_STATUSES or not outage.incident_id:
        return 0
    open_paths = list(
        OutageNode.objects.filter(outage=outage, restored_at__isnull=True).values_list(
            "node__path", flat=True
        )
    )
    attached = 0
    waiting = list(waiting_reports([outage.branch_id]))
    for appeal, placement in zip(waiting, place_many(waiting), strict=True):
        if placement and any(placement.path.startswith(p) for p in open_paths):
            attached += attach(appeal, outage)
    # A proposal on a node now covered is superseded.
    for proposal in Outage.objects.filter(status=OutageStatus.PROPOSED, branch_id=outage.branch_id):
        if any(proposal.node.path.startswith(p) for p in open_paths):
            from okno.outages.actions import cancel

            cancel(
                proposal,
                actor=system_actor("outages"),
                reason=_("Covered by outage %(n)s") % {"n": outage.number},
            )
    return attached


def _answer_channel(appeal: Appeal) -> str:
    preferred = appeal.preferred_answer_channel
    if preferred in (AnswerChannel.PHONE, AnswerChannel.CABINET, AnswerChannel.IN_PERSON):
        return preferred
    if preferred == AnswerChannel.EMAIL and (
        appeal.contact_email or appeal_actions.customer_contact(appeal.customer, "email")
    ):
        return AnswerChannel.EMAIL
    if appeal.contact_phone or appeal_actions.customer_contact(appeal.customer, "phone"):
        return AnswerChannel.SMS
    return AnswerChannel.CABINET if appeal.customer_id else AnswerChannel.PHONE


def answer_restored(outage_id: int, node_ids: list[int] | None, event_key: str = "") -> int:
    """Answer (and close, once delivered) the reports attached to the outage whose power is back.

    A restoration step answers the reports under its nodes, with the step's time. When the outage is
    over (the last step), every report still open on its incident is answered, under whichever of its
    nodes or none: one attached after an earlier step, one whose answer failed then, one attached by
    hand. An answered report is no longer open and the answer is written under the appeal's lock, so a
    second run (or a concurrent one) answers nobody twice.
    """
    outage = Outage.objects.select_related("branch").get(pk=outage_id)
    if not outage.incident_id:
        return 0
    final = outage.status == OutageStatus.RESTORED
    step = set(node_ids) if node_ids is not None else None
    # (path, time, in this step): this step's nodes first, so a report under two nodes takes this step.
    restored = sorted(
        (
            (path, when, step is None or node_id in step)
            for node_id, path, when in OutageNode.objects.filter(
                outage=outage, restored_at__isnull=False
            ).values_list("node_id", "node__path", "restored_at")
        ),
        key=lambda r: not r[2],
    )
    generic_key = f"outage:{outage.pk}:restored"
    actor = system_actor("outages")
    answered = 0
    appeals = list(
        Appeal.objects.filter(incident_id=outage.incident_id, status__in=OPEN_STATUSES).select_related(
            "customer"
        )
    )
    for appeal, placement in zip(appeals, place_many(appeals), strict=True):
        path = placement.path if placement is not None else None
        when, in_step = next(((t, s) for p, t, s in restored if path and path.startswith(p)), (None, False))
        at: dt.datetime | None
        if when is not None and in_step:
            at, key = when, event_key or generic_key
        elif final:
            # Power came back in an earlier step: its time, unless the report came in after it (attached
            # by hand, the caller still without power); else (no place known) the end of the outage.
            reported_before = appeal.registered_at is None or (
                when is not None and when >= appeal.registered_at
            )
            at = when if when is not None and reported_before else outage.restored_at
            key = generic_key
        else:
            continue
        if at is None:
            continue
        if _answer_one(appeal, outage, at, key, actor):
            answered += 1
    return answered


def _answer_one(appeal: Appeal, outage: Outage, at: dt.datetime, key: str, actor) -> bool:
    with translation.override("ru"):
        text = _("Power supply at your address was restored at %(t)s (%(tz)s). Outage %(n)s: %(reason)s.") % {
            "t": timezone.localtime(at, outage.branch.tz).strftime("%d.%m.%Y %H:%M"),
            "tz": str(outage.branch.tz),
            "n": outage.number,
            "reason": outage.reason or outage.get_cause_display(),
        }
    channel = _answer_channel(appeal)
    try:
        ans = appeal_actions.answer_appeal(
            appeal,
            actor=actor,
            text=text,
            channel=channel,
            delivered_at=timezone.now() if channel == AnswerChannel.SMS else None,
        )
    except TransitionNotAllowed:
        return False  # answered meanwhile (another run of this step, or by hand)
    except Exception:  # one bad appeal must not stop the others being answered
        log.exception("answering appeal %s after outage %s failed", appeal.number, outage.number)
        return False
    # The SMS answer goes through the notification service; a reporter told the ETR by SMS (the
    # contact centre's callers, answered by phone) hears by SMS that the power is back too.
    if channel == AnswerChannel.SMS or _told_by_sms(appeal, outage):
        tell_reporter(appeal, outage, "outage_restored", key, sms_only=True)
    ans.appeal.refresh_from_db()
    if ans.appeal.delivered_at is not None and ans.appeal.status == Status.ANSWERED:
        appeal_actions.close(ans.appeal, actor=actor, reason=_("Power restored"))
    return True


def _told_by_sms(appeal: Appeal, outage: Outage) -> bool:
    """Whether the report's author got the outage notice (power off, or works today) by SMS."""
    try:
        from okno.notify.choices import Channel, NoticeStatus
        from okno.notify.models import Notice
    except ImportError:  # pragma: no cover - notifications app not installed
        return False
    phone = appeal.contact_phone or appeal_actions.customer_contact(appeal.customer, "phone")
    if not (phone or appeal.customer_id):
        return False
    who = Q(recipient=normalize_phone(phone)) if phone else Q(customer_id=appeal.customer_id)
    if phone and appeal.customer_id:
        who |= Q(customer_id=appeal.customer_id)
    return (
        Notice.objects.filter(
            who,
            event__key__in=[f"outage:{outage.pk}:off", f"outage:{outage.pk}:today"],
            channel=Channel.SMS,
        )
        .exclude(status=NoticeStatus.SKIPPED)
        .exists()
    )


def tell_reporter(
    appeal: Appeal, outage: Outage, template: str, event_key: str, *, sms_only: bool = False
) -> None:
    """Send the report's author the outage notice (the ETR now, the restoration later) by SMS, or by
    e-mail when there is no phone: one message per person per event, shared with the subscribers'."""
    phone = appeal.contact_phone or appeal_actions.customer_contact(appeal.customer, "phone")
    email = appeal.contact_email or appeal_actions.customer_contact(appeal.customer, "email")
    channel, contact = ("sms", phone) if phone else ("email", email)
    if not contact or (sms_only and channel != "sms"):
        return
    try:
        from okno.notify.models import NoticeEvent
        from okno.notify.planning import notify_customer
    except ImportError:  # pragma: no cover - notifications app not installed
        return
    # The event's text was fixed when its first notice was planned; only a new event needs a context
    # (worked out over every address of the outage, which costs time in a storm of reports).
    known = NoticeEvent.objects.filter(key=event_key).exists()
    notify_customer(
        event_key,
        template,
        channel=channel,
        contact=contact,
        context={"branch_id": outage.branch_id} if known else _context_for(outage),
        customer_id=appeal.customer_id,
        emergency=template == "outage_unplanned",
    )


def _context_for(outage: Outage) -> dict:
    from okno.outages.fanout import context_for

    return context_for(outage)


def on_appeal_delivered(appeal_id: int, answer_id: int) -> None:
    """An answer sent by e-mail reached the server: a report of a restored outage is closed."""
    appeal = Appeal.objects.filter(pk=appeal_id, status=Status.ANSWERED, incident__isnull=False).first()
    if appeal is None or appeal.incident_id is None:
        return
    if Outage.objects.filter(incident_id=appeal.incident_id, status=OutageStatus.RESTORED).exists():
        appeal_actions.close(appeal, actor=system_actor("outages"), reason=_("Power restored"))


def connect() -> None:
    events.subscribe("appeal.registered", on_appeal_registered)
    events.subscribe("appeal.delivered", on_appeal_delivered)
