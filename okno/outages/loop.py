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
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.appeals import actions as appeal_actions
from okno.appeals.choices import OPEN_STATUSES, AnswerChannel, Status, Topic
from okno.appeals.models import Appeal
from okno.core import events
from okno.customers.models import Account
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
    sp_id = None
    if appeal.account_id:
        sp_id = (
            Account.objects.filter(pk=appeal.account_id).values_list("service_point_id", flat=True).first()
        )
    row = None
    if sp_id is not None:
        row = Feed.objects.filter(service_point_id=sp_id).values_list("node_id", "node__path").first()
    addr = appeal.address if appeal.address_id else None
    if row is None and addr is not None:
        row = (
            Feed.objects.filter(
                service_point__address__settlement=addr.settlement,
                service_point__address__street=addr.street,
                service_point__address__house=addr.house,
            )
            .values_list("node_id", "node__path")
            .first()
        )
    if row is None and appeal.customer_id and not appeal.account_id:
        # A customer with one account reported without naming it.
        accounts = list(
            Account.objects.filter(customer_id=appeal.customer_id, closed_on__isnull=True).values_list(
                "service_point_id", flat=True
            )[:2]
        )
        if len(accounts) == 1:
            row = (
                Feed.objects.filter(service_point_id=accounts[0]).values_list("node_id", "node__path").first()
            )
    return Placement(row[0], row[1]) if row else None


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
    recent = list(
        waiting_reports([appeal.branch_id]).filter(registered_at__gte=since).select_related("address")
    )
    paths = [p.path for a in recent if (p := place(a)) is not None]
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
    for appeal in waiting_reports([outage.branch_id]).select_related("address"):
        placement = place(appeal)
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
    """Answer (and close, once delivered) every report attached to the outage under restored nodes."""
    outage = Outage.objects.select_related("branch").get(pk=outage_id)
    if not outage.incident_id:
        return 0
    qs = OutageNode.objects.filter(outage=outage, restored_at__isnull=False)
    if node_ids is not None:
        qs = qs.filter(node_id__in=node_ids)
    restored = dict(qs.values_list("node__path", "restored_at"))
    actor = system_actor("outages")
    answered = 0
    for appeal in Appeal.objects.filter(
        incident_id=outage.incident_id, status__in=OPEN_STATUSES
    ).select_related("address", "customer"):
        placement = place(appeal)
        at = None
        if placement is None:
            # Attached by hand without a known feed: answered when the whole outage is over.
            at = outage.restored_at if outage.status == OutageStatus.RESTORED else None
        else:
            for path, when in restored.items():
                if placement.path.startswith(path):
                    at = when
                    break
        if at is None:
            continue
        with translation.override("ru"):
            text = _(
                "Power supply at your address was restored at %(t)s (%(tz)s). Outage %(n)s: %(reason)s."
            ) % {
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
        except Exception:  # one bad appeal must not stop the others being answered
            log.exception("answering appeal %s after outage %s failed", appeal.number, outage.number)
            continue
        answered += 1
        if channel == AnswerChannel.SMS:
            tell_reporter(
                appeal, outage, "outage_restored", event_key or f"outage:{outage.pk}:restored", sms_only=True
            )
        ans.appeal.refresh_from_db()
        if ans.appeal.delivered_at is not None and ans.appeal.status == Status.ANSWERED:
            appeal_actions.close(ans.appeal, actor=actor, reason=_("Power restored"))
    return answered


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
