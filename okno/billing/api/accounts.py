"""API routes: an account's billing summary and its consumption chart data, for the personal cabinet
and integrations.

``GET /api/v1/accounts/{number}/billing/`` — profile, meters with last readings, readings with
consumption, charges by period with their lines, debt by period, payments, invoices (with PDF links)
and the debt case; money as strings with two decimals (roubles), energy with three (kWh).

``GET /api/v1/accounts/{number}/readings-chart/`` — volumes by month and zone from accepted readings.

Both need ``charge.view``; the account is looked up through ``Account.objects.restrict`` so another
branch's account answers 404. Showing the summary is recorded in the personal-data access log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from okno.billing.models import kwh, price, rub
from okno.billing.queries import (
    AccountSummary,
    ConsumptionPeriod,
    account_consumption,
    account_summary,
    local_today,
)
from okno.core.audit import log_access
from okno.customers.models import Account
from okno.customers.numbers import normalize_account_number
from okno.org.api.permissions import OknoPermission, client_ip


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


def _energy(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=3, **kwargs)


# --- serializers (shapes of the answers; they render dicts built from AccountSummary) ---------------


class CardAccountSerializer(serializers.Serializer):
    number = serializers.CharField()
    customer = serializers.CharField(help_text="The customer's name.")
    address = serializers.CharField()
    branch = serializers.CharField()
    is_open = serializers.BooleanField()


class CardProfileSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="Code of the consumer category.")
    category_name = serializers.CharField()
    residents = serializers.IntegerField()
    billable = serializers.BooleanField()


class CardRegisterValueSerializer(serializers.Serializer):
    zone = serializers.IntegerField()
    zone_name = serializers.CharField()
    kwh = _energy(help_text="The register's reading, kWh.")
    consumption_kwh = _energy(
        allow_null=True, help_text="Since the meter's previous accepted reading; null for the first."
    )


class CardLastReadingSerializer(serializers.Serializer):
    taken_on = serializers.DateField()
    period = serializers.CharField(help_text="YYYY-MM")
    values = CardRegisterValueSerializer(many=True)


class CardMeterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField()
    serial = serializers.CharField()
    zones = serializers.IntegerField()
    zone_names = serializers.ListField(child=serializers.CharField())
    integer_digits = serializers.IntegerField()
    fraction_digits = serializers.IntegerField()
    installed_on = serializers.DateField()
    sealed_on = serializers.DateField(allow_null=True)
    verified_on = serializers.DateField(allow_null=True)
    verification_due = serializers.DateField(allow_null=True)
    verification_expired = serializers.BooleanField()
    location = serializers.CharField()
    status = serializers.CharField()
    is_smart = serializers.BooleanField()
    last_reading = CardLastReadingSerializer(allow_null=True)


class CardReadingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    meter = serializers.IntegerField()
    taken_on = serializers.DateField()
    period = serializers.CharField(help_text="YYYY-MM")
    channel = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    rollover = serializers.BooleanField()
    values = CardRegisterValueSerializer(many=True)


class CardChargeLineSerializer(serializers.Serializer):
    meter = serializers.IntegerField(allow_null=True)
    method = serializers.CharField()
    method_name = serializers.CharField()
    zone = serializers.IntegerField()
    zone_name = serializers.CharField()
    tier = serializers.IntegerField()
    months = serializers.IntegerField()
    volume_kwh = _energy()
    price = serializers.DecimalField(max_digits=16, decimal_places=4, help_text="₽ per kWh.")
    amount = _money()


class CardChargePeriodSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM")
    methods = serializers.ListField(child=serializers.CharField())
    volume_kwh = _energy()
    total = _money()
    lines = CardChargeLineSerializer(many=True)


class CardPeriodDebtSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM")
    due_date = serializers.DateField(allow_null=True)
    charged = _money()
    paid = _money()
    open = _money()
    overdue = serializers.BooleanField()


class CardAllocationSerializer(serializers.Serializer):
    period = serializers.CharField(allow_null=True, help_text="YYYY-MM; null for an advance.")
    is_penalty = serializers.BooleanField()
    amount = _money()


class CardPaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    paid_on = serializers.DateField()
    amount = _money()
    channel = serializers.CharField(help_text="How it was paid: registry, acquiring, cashier, system.")
    status = serializers.CharField()
    period = serializers.CharField(allow_null=True, help_text="The period the payer named, YYYY-MM.")
    allocations = CardAllocationSerializer(many=True)


class CardInvoiceSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM")
    number = serializers.CharField()
    amount = _money(help_text="Charged for the period.")
    debt = _money(help_text="Debt at the start of the period.")
    penalty = _money()
    total = _money(help_text="To pay.")
    due_date = serializers.DateField()
    pdf_url = serializers.CharField(allow_null=True)


class CardDebtCaseSerializer(serializers.Serializer):
    status = serializers.CharField()
    status_name = serializers.CharField()
    opened_on = serializers.DateField()
    debt = _money(help_text="Debt when the case was opened.")


class AccountBillingSerializer(serializers.Serializer):
    account = CardAccountSerializer()
    as_of = serializers.DateField()
    profile = CardProfileSerializer(allow_null=True)
    balance = _money(help_text="Positive: the customer owes; negative: an advance.")
    overdue = _money(help_text="Debt whose due date has passed.")
    meters = CardMeterSerializer(many=True)
    readings = CardReadingSerializer(many=True)
    charges = CardChargePeriodSerializer(many=True)
    debts = CardPeriodDebtSerializer(many=True)
    payments = CardPaymentSerializer(many=True)
    invoices = CardInvoiceSerializer(many=True)
    debt_case = CardDebtCaseSerializer(allow_null=True)


class ChartPeriodSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="YYYY-MM")
    volumes = serializers.DictField(child=_energy(), help_text="Zone number → kWh.")
    total_kwh = _energy()


class ReadingsChartSerializer(serializers.Serializer):
    account = serializers.CharField()
    zones = serializers.DictField(child=serializers.CharField(), help_text="Zone number → name.")
    periods = ChartPeriodSerializer(many=True)


# --- building the answers --------------------------------------------------------------------------


def _period(day: dt.date | None) -> str | None:
    return None if day is None else f"{day:%Y-%m}"


def pdf_url(request: Request | None, number: str, period: dt.date) -> str | None:
    """The invoice PDF route (when the invoices part of billing provides it), absolute when possible."""
    try:
        url = reverse("billing:invoice_pdf", args=[number, f"{period:%Y-%m}"])
    except NoReverseMatch:
        return None
    return request.build_absolute_uri(url) if request is not None else url


def summary_data(summary: AccountSummary, request: Request | None = None) -> dict[str, Any]:
    """The JSON-ready dict of ``GET accounts/{number}/billing/``."""
    account = summary.account
    profile = summary.profile

    def values(names: list[str], wh: list[int], used: list[int] | None) -> list[dict[str, Any]]:
        return [
            {
                "zone": i,
                "zone_name": names[i - 1] if i - 1 < len(names) else f"T{i}",
                "kwh": kwh(v),
                "consumption_kwh": kwh(used[i - 1]) if used is not None else None,
            }
            for i, v in enumerate(wh, start=1)
        ]

    meters = []
    for info in summary.meters:
        m, last = info.meter, info.last_reading
        meters.append(
            {
                "id": m.pk,
                "model": m.model,
                "serial": m.serial,
                "zones": m.zones,
                "zone_names": info.zone_names,
                "integer_digits": m.integer_digits,
                "fraction_digits": m.fraction_digits,
                "installed_on": m.installed_on,
                "sealed_on": m.sealed_on,
                "verified_on": m.verified_on,
                "verification_due": info.verification_due,
                "verification_expired": info.verification_expired,
                "location": m.location,
                "status": m.status,
                "is_smart": m.is_smart,
                "last_reading": None
                if last is None
                else {
                    "taken_on": last.taken_on,
                    "period": _period(last.period),
                    "values": values(info.zone_names, last.values_wh(), None),
                },
            }
        )
    return {
        "account": {
            "number": account.number,
            "customer": account.customer.display_name,
            "address": str(account.service_point.address),
            "branch": account.service_point.branch.name,
            "is_open": account.is_open,
        },
        "as_of": summary.as_of,
        "profile": None
        if profile is None
        else {
            "category": profile.category.code,
            "category_name": profile.category.name,
            "residents": profile.residents,
            "billable": profile.billable,
        },
        "balance": summary.balance,
        "overdue": summary.overdue,
        "meters": meters,
        "readings": [
            {
                "id": row.reading.pk,
                "meter": row.reading.meter_id,
                "taken_on": row.reading.taken_on,
                "period": _period(row.reading.period),
                "channel": row.reading.channel,
                "kind": row.reading.kind,
                "status": row.reading.status,
                "version": row.reading.version,
                "rollover": row.rollover,
                "values": values(row.zone_names, row.values_wh, row.consumption_wh),
            }
            for row in summary.readings
        ],
        "charges": [
            {
                "period": _period(cp.period),
                "methods": cp.methods,
                "volume_kwh": cp.volume_kwh,
                "total": cp.total,
                "lines": [
                    {
                        "meter": line.charge.meter_id,
                        "method": line.charge.method,
                        "method_name": line.charge.get_method_display(),
                        "zone": line.charge.zone,
                        "zone_name": line.zone_name,
                        "tier": line.charge.tier,
                        "months": line.charge.months,
                        "volume_kwh": kwh(line.charge.volume_wh),
                        "price": price(line.charge.price_e4),
                        "amount": rub(line.charge.amount_kop),
                    }
                    for line in cp.lines
                ],
            }
            for cp in summary.charges
        ],
        "debts": [
            {
                "period": _period(d.period),
                "due_date": d.due_date,
                "charged": d.charged,
                "paid": d.paid,
                "open": d.open,
                "overdue": d.overdue,
            }
            for d in summary.debts
        ],
        "payments": [
            {
                "id": p.pk,
                "paid_on": p.paid_on,
                "amount": rub(p.amount_kop),
                "channel": p.source,
                "status": p.status,
                "period": _period(p.period),
                "allocations": [
                    {"period": _period(a.period), "is_penalty": a.is_penalty, "amount": rub(a.amount_kop)}
                    for a in p.allocations.all()
                ],
            }
            for p in summary.payments
        ],
        "invoices": [
            {
                "period": _period(row.invoice.period),
                "number": row.invoice.number,
                "amount": row.amount,
                "debt": row.debt,
                "penalty": row.penalty,
                "total": row.total,
                "due_date": row.invoice.due_date,
                "pdf_url": pdf_url(request, account.number, row.invoice.period),
            }
            for row in summary.invoices
        ],
        "debt_case": None
        if summary.debt_case is None
        else {
            "status": summary.debt_case.status,
            "status_name": summary.debt_case.get_status_display(),
            "opened_on": summary.debt_case.opened_on,
            "debt": summary.debt_case_debt,
        },
    }


def chart_data(
    account: Account, consumption: list[ConsumptionPeriod], zone_names: dict[int, str]
) -> dict[str, Any]:
    """The JSON-ready dict of ``GET accounts/{number}/readings-chart/``: months oldest first."""
    return {
        "account": account.number,
        "zones": {str(z): name for z, name in zone_names.items()},
        "periods": [
            {
                "period": _period(c.period),
                "volumes": {str(z): kwh(wh) for z, wh in sorted(c.by_zone.items())},
                "total_kwh": kwh(c.total_wh),
            }
            for c in consumption
        ],
    }


# --- views -----------------------------------------------------------------------------------------

_ON = OpenApiParameter(
    "on", OpenApiTypes.DATE, required=False, description="As of this date (default: today in the branch)."
)
_NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Account number")


class _AccountBillingBase(GenericAPIView):
    permission_classes = [OknoPermission]
    required_perms = {"get": "charge.view"}
    queryset = Account.objects.none()
    pagination_class = None
    filter_backends: list = []
    context_name = "api:account-billing"

    def _account(self, request: Request, number: str) -> tuple[Account, dt.date]:
        account = get_object_or_404(
            Account.objects.restrict(request.user, "view").select_related(
                "customer", "service_point__address", "service_point__branch"
            ),
            number=normalize_account_number(number),
        )
        text = request.query_params.get("on", "").strip()
        try:
            as_of = dt.date.fromisoformat(text) if text else local_today(account)
        except ValueError:
            raise ValidationError({"on": [_("Give the date as YYYY-MM-DD.")]}) from None
        log_access(
            actor=request.user,
            customer_id=account.customer_id,
            context_name=self.context_name,
            remote_addr=client_ip(request),
        )
        return account, as_of


class AccountBillingView(_AccountBillingBase):
    serializer_class = AccountBillingSerializer

    @extend_schema(
        summary="An account's billing: meters, readings, charges, payments, balance and invoices",
        parameters=[_NUMBER, _ON],
        responses={200: AccountBillingSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        summary = account_summary(*self._account(request, number))
        return Response(AccountBillingSerializer(summary_data(summary, request)).data)


class ReadingsChartView(_AccountBillingBase):
    serializer_class = ReadingsChartSerializer
    context_name = "api:account-readings-chart"

    @extend_schema(
        summary="Consumption by month and zone from an account's readings (kWh)",
        parameters=[_NUMBER, _ON],
        responses={200: ReadingsChartSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        account, as_of = self._account(request, number)
        consumption, zone_names = account_consumption(account, as_of)
        return Response(ReadingsChartSerializer(chart_data(account, consumption, zone_names)).data)


urlpatterns = [
    path("accounts/<str:number>/billing/", AccountBillingView.as_view(), name="account-billing"),
    path("accounts/<str:number>/readings-chart/", ReadingsChartView.as_view(), name="account-readings-chart"),
]
