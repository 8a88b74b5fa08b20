"""The debt workflow: warning → restriction → suspension of supply → reconnection after payment.

* **Debtor**: an account whose overdue debt (:func:`okno.billing.ledger.overdue_by_account`) exceeds
  ``BillingSettings.debtor_months`` × the monthly charge at the norm — the norm per resident
  (:class:`ConsumptionNorm`) × residents × the one-zone price of the account's region and category
  (:class:`Tariff` / :class:`TariffRate`, first tier). Example: 100 kWh × 2 residents × 6.43 ₽ =
  1 286.00 ₽ a month; × 2.0 months = 2 572.00 ₽.
* **Steps** (each a :class:`DebtOrder` with its dates, a line in the customer's contact history, a
  notice by e-mail — where the customer has an e-mail and an active consent to service notices — or by
  post, an event ``debt.step`` and a change-log entry):

  1. :func:`open_cases` — a debtor without an open case gets a case and a WARNING order;
  2. :func:`mark_delivered` — the warning's delivery date (an e-mailed warning is delivered when sent);
  3. :func:`advance` — ``restriction_after_days`` after delivery, still a debtor: a RESTRICTION order;
     ``suspension_after_days`` after the restriction: a SUSPENSION order;
  4. once the overdue debt is no longer above the case's threshold (paid in full, or down to the
     threshold — the cause of the restriction is gone): before restriction the case is CLOSED; after
     it a RECONNECTION order (within 2 days) puts the case in PAID, and :func:`mark_done` of the
     reconnection CLOSES it.

The daily job ``billing.debt_workflow`` runs :func:`advance` and :func:`open_cases`; both are
idempotent (a second run on the same day changes nothing), and a ``payment.received`` event settles
the payer's case at once (:func:`connect`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.billing.ledger import overdue_by_account
from okno.billing.models import (
    BillingProfile,
    BillingSettings,
    ConsumptionNorm,
    DebtCase,
    DebtOrder,
    TariffRate,
    rub,
)
from okno.core import audit, events
from okno.core.context import acting_as, current_actor
from okno.core.errors import Conflict
from okno.core.jobs import enqueue, job
from okno.customers.actions import record_contact
from okno.customers.choices import ConsentPurpose, ContactEventKind, ContactKind
from okno.customers.models import Account, Consent, ContactPoint

log = logging.getLogger(__name__)

Status = DebtCase.Status
Kind = DebtOrder.Kind
KIND_CODE: dict[str, str] = {
    Kind.WARNING: "W",
    Kind.RESTRICTION: "R",
    Kind.SUSPENSION: "S",
    Kind.RECONNECTION: "C",
}
CHANNEL_EMAIL = "email"
CHANNEL_POST = "post"
RECONNECTION_DAYS = 2  # supply is restored within 2 days of the cause going away (Rules 354, p. 120)
PERMISSION = "debtcase.change"


# --- the threshold -----------------------------------------------------------------------------


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def monthly_norm_charge_kop(norm_wh: int, residents: int, price_e4: int) -> int:
    """Wh × residents × price (1/10 000 ₽ per kWh) → kopecks: Wh × price_e4 / 100 000, half up."""
    return _half_up(Decimal(norm_wh * residents * price_e4) / Decimal(100_000))


class _Book:
    """Norms and one-zone first-tier prices by (region, category), read once per call (small tables)."""

    def __init__(self, on: dt.date) -> None:
        self.norms: dict[tuple[str, int], list[tuple[dt.date, int]]] = defaultdict(list)
        for region, category_id, valid_from, wh in ConsumptionNorm.objects.filter(
            valid_from__lte=on
        ).values_list("region", "category_id", "valid_from", "wh_per_resident"):
            self.norms[(region, category_id)].append((valid_from, wh))
        self.prices: dict[tuple[str, int], list[tuple[dt.date, int]]] = defaultdict(list)
        rates = TariffRate.objects.filter(
            Q(tariff__valid_to__isnull=True) | Q(tariff__valid_to__gte=on),
            tariff__zones=1,
            tariff__valid_from__lte=on,
            zone=1,
            tier=1,
        ).values_list("tariff__region", "tariff__category_id", "tariff__valid_from", "price_e4")
        for region, category_id, valid_from, price_e4 in rates:
            self.prices[(region, category_id)].append((valid_from, price_e4))
        for table in (self.norms, self.prices):
            for rows in table.values():
                rows.sort()

    @staticmethod
    def _latest(rows: list[tuple[dt.date, int]]) -> int | None:
        return rows[-1][1] if rows else None

    def threshold_kop(self, region: str, category_id: int, residents: int, months: Decimal) -> int | None:
        norm = self._latest(self.norms.get((region, category_id), []))
        price_e4 = self._latest(self.prices.get((region, category_id), []))
        if norm is None or price_e4 is None:
            return None
        return _half_up(monthly_norm_charge_kop(norm, residents, price_e4) * months)


def thresholds_kop(account_ids: Iterable[int], on: dt.date) -> dict[int, int]:
    """Debtor thresholds of open accounts with a billing profile (accounts whose region and category
    have no norm or one-zone price are left out)."""
    ids = list(account_ids)
    if not ids:
        return {}
    months = BillingSettings.current().debtor_months
    book = _Book(on)
    out: dict[int, int] = {}
    profiles = BillingProfile.objects.filter(
        account_id__in=ids, account__closed_on__isnull=True, billable=True
    ).values_list("account_id", "account__service_point__branch__region", "category_id", "residents")
    for account_id, region, category_id, residents in profiles:
        limit = book.threshold_kop(region, category_id, residents, months)
        if limit is not None:
            out[account_id] = limit
    return out


def threshold_kop(account: Account, on: dt.date) -> int | None:
    return thresholds_kop([account.pk], on).get(account.pk)


# --- notices -----------------------------------------------------------------------------------


def email_targets(customer_ids: Iterable[int]) -> dict[int, str]:
    """Customer → e-mail address for those with an e-mail contact and an active consent to service
    notices by e-mail (or by any channel). Two queries for any number of customers."""
    ids = list(set(customer_ids))
    if not ids:
        return {}
    consenting = set(
        Consent.objects.filter(
            customer_id__in=ids,
            purpose=ConsentPurpose.SERVICE_NOTICES,
            channel__in=[ContactKind.EMAIL, "any"],
            withdrawn_at__isnull=True,
        ).values_list("customer_id", flat=True)
    )
    out: dict[int, str] = {}
    for customer_id, value in (
        ContactPoint.objects.filter(customer_id__in=consenting, kind=ContactKind.EMAIL)
        .order_by("customer_id", "-is_primary", "id")
        .values_list("customer_id", "value")
    ):
        out.setdefault(customer_id, value)
    return out


def notice_text(order: DebtOrder, account: Account) -> str:
    values: dict[str, Any] = {
        "account": account.number,
        "debt": rub(order.debt_kop),
        "number": order.number,
        "date": (order.scheduled_on or order.issued_on).strftime("%d.%m.%Y"),
    }
    if order.kind == Kind.WARNING:
        values["days"] = BillingSettings.current().restriction_after_days
        return (
            _(
                "Warning %(number)s: the overdue debt for electricity on account %(account)s is %(debt)s ₽. "
                "Unless it is paid within %(days)s days of receiving this warning, the supply will be "
                "restricted."
            )
            % values
        )
    if order.kind == Kind.RESTRICTION:
        return (
            _(
                "Order %(number)s: the supply to account %(account)s is restricted from %(date)s for a debt of %(debt)s ₽."
            )
            % values
        )
    if order.kind == Kind.SUSPENSION:
        return (
            _(
                "Order %(number)s: the supply to account %(account)s is suspended from %(date)s for a debt of %(debt)s ₽."
            )
            % values
        )
    return (
        _("Order %(number)s: the debt on account %(account)s is paid; the supply is restored by %(date)s.")
        % values
    )


def notice_subject(order: DebtOrder, account: Account) -> str:
    return _("%(kind)s, account %(account)s") % {"kind": order.get_kind_display(), "account": account.number}


@job("billing.debt_notice")
def send_notice(order_id: int, email: str) -> dict[str, Any]:
    """E-mail one step's notice (queued after the step commits)."""
    order = DebtOrder.objects.select_related("case__account").get(pk=order_id)
    account = order.case.account
    with translation.override(settings.LANGUAGE_CODE):
        EmailMessage(
            subject=notice_subject(order, account), body=notice_text(order, account), to=[email]
        ).send(fail_silently=False)
    return {"sent": 1}


# --- the steps ---------------------------------------------------------------------------------


def _log(instance: Any, action: str, before: dict | None) -> None:
    """Change log of debt cases and orders (written here: the models are not registered with
    :func:`okno.core.audit.register`, so every save is logged exactly once, by its step)."""
    audit.log_change(instance, action, before, audit.snapshot(instance) if action != "delete" else None)


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _issue(
    case: DebtCase,
    kind: str,
    on: dt.date,
    debt_kop: int,
    *,
    actor: Any,
    emails: dict[int, str],
    scheduled_on: dt.date | None = None,
) -> DebtOrder:
    """Create a step's order and tell everyone: contact history, notice, event, change log."""
    account = case.account
    sequence = DebtOrder.objects.filter(case=case).count() + 1
    email = emails.get(account.customer_id)
    channel = CHANNEL_EMAIL if email else CHANNEL_POST
    order = DebtOrder.objects.create(
        case=case,
        kind=kind,
        number=f"{KIND_CODE[kind]}-{case.pk:06d}-{sequence}",
        issued_on=on,
        scheduled_on=scheduled_on,
        # An e-mailed warning counts as delivered on the day it is sent; a letter waits for its receipt.
        delivered_on=on if kind == Kind.WARNING and email else None,
        debt_kop=debt_kop,
        channel=channel,
        created_by=_actor_or_none(actor),
    )
    _log(order, "create", None)
    record_contact(
        account.customer_id,
        kind=ContactEventKind.NOTIFICATION,
        summary=notice_text(order, account),
        channel=channel,
        ref=("billing.debtorder", order.pk, order.number),
        actor=actor,
    )
    if email:
        enqueue("billing.debt_notice", order_id=order.pk, email=email)
    events.publish(
        "debt.step",
        case_id=case.pk,
        order_id=order.pk,
        kind=kind,
        account_id=case.account_id,
        on=on.isoformat(),
    )
    return order


def _set_status(case: DebtCase, status: str, on: dt.date) -> None:
    before = audit.snapshot(case)
    case.status = status
    fields = ["status"]
    if status == Status.CLOSED:
        case.closed_on = on
        fields.append("closed_on")
    case.save(update_fields=fields)
    _log(case, "update", before)


def open_case(
    account: Account, *, debt_kop: int, threshold_kop: int, as_of: dt.date, actor: Any, emails: dict[int, str]
) -> DebtCase | None:
    """A case with its warning for ``account``; ``None`` if it already has an open case."""
    try:
        with transaction.atomic(), acting_as(actor):
            case = DebtCase.objects.create(
                account=account,
                status=Status.WARNED,
                opened_on=as_of,
                debt_kop=debt_kop,
                threshold_kop=threshold_kop,
            )
            _log(case, "create", None)
            _issue(case, Kind.WARNING, as_of, debt_kop, actor=actor, emails=emails)
    except IntegrityError:  # an open case appeared meanwhile (the unique constraint on open cases)
        return None
    return case


def open_cases(as_of: dt.date, *, actor: Any = None) -> dict[str, int]:
    """Open a case with a warning for every debtor on ``as_of`` without an open case. The debtors are
    found set-based: one GROUP BY of the ledger, one query of open cases, one of profiles."""
    actor = actor or current_actor()
    overdue = overdue_by_account(as_of)
    busy = set(DebtCase.objects.exclude(status=Status.CLOSED).values_list("account_id", flat=True))
    candidates = [a for a in overdue if a not in busy]
    limits = thresholds_kop(candidates, as_of)
    debtors = sorted(a for a in candidates if a in limits and overdue[a] > limits[a])
    accounts = Account.objects.in_bulk(debtors)
    emails = email_targets(a.customer_id for a in accounts.values())
    opened = 0
    for account_id in debtors:
        case = open_case(
            accounts[account_id],
            debt_kop=overdue[account_id],
            threshold_kop=limits[account_id],
            as_of=as_of,
            actor=actor,
            emails=emails,
        )
        opened += case is not None
    return {"overdue_accounts": len(overdue), "debtors": len(debtors), "opened": opened}


def _orders(case: DebtCase) -> dict[str, DebtOrder]:
    """The latest order of each kind."""
    return {o.kind: o for o in DebtOrder.objects.filter(case=case).order_by("issued_on", "id")}


def _step(
    case_id: int, overdue: int, as_of: dt.date, cfg: BillingSettings, actor: Any, emails: dict[int, str]
) -> str:
    """Move one case on by at most one step; returns what happened (``""``: nothing)."""
    with transaction.atomic(), acting_as(actor):
        case = DebtCase.objects.select_for_update().select_related("account").get(pk=case_id)
        settled = overdue <= case.threshold_kop
        orders = _orders(case)
        if case.status == Status.WARNED:
            if settled:
                _set_status(case, Status.CLOSED, as_of)
                record_contact(
                    case.account.customer_id,
                    kind=ContactEventKind.NOTIFICATION,
                    summary=_("Debt on account %(account)s paid before restriction; the debt case is closed.")
                    % {"account": case.account.number},
                    channel="",
                    ref=("billing.debtcase", case.pk, f"{case.pk:06d}"),
                    actor=actor,
                )
                events.publish(
                    "debt.step", case_id=case.pk, order_id=None, kind="closed", account_id=case.account_id
                )
                return "closed"
            warning = orders.get(Kind.WARNING)
            if warning is None or warning.delivered_on is None:
                return ""
            due = warning.delivered_on + dt.timedelta(days=cfg.restriction_after_days)
            if as_of >= due and Kind.RESTRICTION not in orders:
                _issue(case, Kind.RESTRICTION, as_of, overdue, actor=actor, emails=emails, scheduled_on=as_of)
                _set_status(case, Status.RESTRICTED, as_of)
                return "restricted"
            return ""
        if case.status in (Status.RESTRICTED, Status.SUSPENDED):
            if settled:
                _issue(
                    case,
                    Kind.RECONNECTION,
                    as_of,
                    overdue,
                    actor=actor,
                    emails=emails,
                    scheduled_on=as_of + dt.timedelta(days=RECONNECTION_DAYS),
                )
                _set_status(case, Status.PAID, as_of)
                return "reconnection_ordered"
            restriction = orders.get(Kind.RESTRICTION)
            if case.status == Status.RESTRICTED and restriction is not None and Kind.SUSPENSION not in orders:
                base = restriction.done_on or restriction.scheduled_on or restriction.issued_on
                if as_of >= base + dt.timedelta(days=cfg.suspension_after_days):
                    _issue(
                        case, Kind.SUSPENSION, as_of, overdue, actor=actor, emails=emails, scheduled_on=as_of
                    )
                    _set_status(case, Status.SUSPENDED, as_of)
                    return "suspended"
        return ""


def advance(as_of: dt.date, *, actor: Any = None, account_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Move every open case (or those of ``account_ids``) on by the rules; one ledger query for all."""
    actor = actor or current_actor()
    cases = DebtCase.objects.exclude(status__in=[Status.CLOSED, Status.PAID])
    if account_ids is not None:
        cases = cases.filter(account_id__in=list(account_ids))
    pairs = list(cases.values_list("pk", "account_id"))
    if not pairs:
        return {"checked": 0}
    overdue = overdue_by_account(as_of, [a for _pk, a in pairs])
    customers = dict(Account.objects.filter(pk__in=[a for _pk, a in pairs]).values_list("pk", "customer_id"))
    emails = email_targets(customers.values())
    cfg = BillingSettings.current()
    counts: dict[str, int] = defaultdict(int)
    counts["checked"] = len(pairs)
    for case_id, account_id in pairs:
        outcome = _step(case_id, overdue.get(account_id, 0), as_of, cfg, actor, emails)
        if outcome:
            counts[outcome] += 1
    return dict(counts)


# --- manual steps ------------------------------------------------------------------------------


def _check_actor(actor: Any) -> None:
    if actor is None or not actor.has_okno_perm(PERMISSION):
        raise PermissionDenied(_("You may not change debt cases."))


def _check_day(field: str, on: dt.date, order: DebtOrder) -> None:
    if on > timezone.localdate():
        raise ValidationError({field: [_("The date is in the future.")]})
    if on < order.issued_on:
        raise ValidationError({field: [_("The date is before the order was issued.")]})


def mark_delivered(order: DebtOrder, on: dt.date, actor: Any) -> DebtOrder:
    """Record the day the warning reached the customer (the restriction is counted from it)."""
    _check_actor(actor)
    with transaction.atomic(), acting_as(actor):
        order = DebtOrder.objects.select_for_update().select_related("case__account").get(pk=order.pk)
        if order.kind != Kind.WARNING:
            raise ValidationError({"order": [_("Only a warning is delivered.")]})
        if order.delivered_on is not None:
            raise Conflict(
                _("The warning was already delivered on %(day)s.") % {"day": f"{order.delivered_on:%d.%m.%Y}"}
            )
        _check_day("delivered_on", on, order)
        before = audit.snapshot(order)
        order.delivered_on = on
        order.save(update_fields=["delivered_on"])
        _log(order, "update", before)
        record_contact(
            order.case.account.customer_id,
            kind=ContactEventKind.NOTIFICATION,
            summary=_("Warning %(number)s delivered on %(day)s.")
            % {"number": order.number, "day": f"{on:%d.%m.%Y}"},
            channel=order.channel,
            ref=("billing.debtorder", order.pk, order.number),
            actor=actor,
        )
        events.publish(
            "debt.step",
            case_id=order.case_id,
            order_id=order.pk,
            kind="delivered",
            account_id=order.case.account_id,
        )
    return order


def mark_done(order: DebtOrder, on: dt.date, actor: Any) -> DebtOrder:
    """Record that a restriction, suspension or reconnection was carried out; a done reconnection
    closes the case."""
    _check_actor(actor)
    with transaction.atomic(), acting_as(actor):
        order = DebtOrder.objects.select_for_update().select_related("case__account").get(pk=order.pk)
        if order.kind == Kind.WARNING:
            raise ValidationError({"order": [_("A warning is delivered, not done.")]})
        if order.done_on is not None:
            raise Conflict(_("The order was already done on %(day)s.") % {"day": f"{order.done_on:%d.%m.%Y}"})
        _check_day("done_on", on, order)
        before = audit.snapshot(order)
        order.done_on = on
        order.save(update_fields=["done_on"])
        _log(order, "update", before)
        case = DebtCase.objects.select_for_update().get(pk=order.case_id)
        if order.kind == Kind.RECONNECTION and case.status == Status.PAID:
            _set_status(case, Status.CLOSED, on)
        record_contact(
            order.case.account.customer_id,
            kind=ContactEventKind.NOTIFICATION,
            summary=_("%(kind)s %(number)s done on %(day)s.")
            % {"kind": order.get_kind_display(), "number": order.number, "day": f"{on:%d.%m.%Y}"},
            channel=order.channel,
            ref=("billing.debtorder", order.pk, order.number),
            actor=actor,
        )
        events.publish(
            "debt.step", case_id=case.pk, order_id=order.pk, kind="done", account_id=case.account_id
        )
    return order


# --- job and events ----------------------------------------------------------------------------


@job("billing.debt_workflow", every=dt.timedelta(days=1))
def debt_workflow(as_of: str | None = None) -> dict[str, Any]:
    """The daily run: move open cases on, then open cases for new debtors."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    actor = current_actor()
    moved = advance(day, actor=actor)
    opened = open_cases(day, actor=actor)
    return {"as_of": day.isoformat(), **{f"advance_{k}": v for k, v in moved.items()}, **opened}


def _on_payment(account_id: int | None = None, **payload: Any) -> None:
    if account_id is None:
        return
    if DebtCase.objects.filter(
        account_id=account_id, status__in=[Status.WARNED, Status.RESTRICTED, Status.SUSPENDED]
    ).exists():
        from okno.org.models import system_actor

        advance(timezone.localdate(), actor=system_actor("jobs"), account_ids=[account_id])


def connect() -> None:
    """Settle a payer's case as soon as a payment arrives (called from the app's ``ready()``)."""
    events.subscribe("payment.received", _on_payment)
