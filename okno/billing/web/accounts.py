"""Web routes: the operator's account card (meters, readings and a consumption chart, charges,
payments, the ledger, invoices, the debt case) and the search by account number."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _

from okno.billing.chart import consumption_svg
from okno.billing.queries import AccountSummary, account_summary, local_today
from okno.core.access import require_perm
from okno.core.audit import log_access, log_access_many
from okno.customers.models import Account
from okno.customers.numbers import normalize_account_number

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class CardAction:
    label: str
    url: str


def _visible_accounts(user: object) -> QuerySet[Account]:
    return Account.objects.restrict(user, "view").select_related(
        "customer", "service_point__address", "service_point__branch", "service_point__grid_district"
    )


def route_url(name: str, *args: object) -> str | None:
    """The URL of a route another part of billing provides, or None while it does not exist."""
    try:
        return reverse(name, args=list(args))
    except NoReverseMatch:
        return None


def card_actions(user: object, account: Account, summary: AccountSummary) -> list[CardAction]:
    """Links to the work an operator may do from the card: those whose routes exist and whose
    permission the user holds."""
    wanted: list[tuple[str, str, tuple[object, ...], str]] = [
        ("reading.add", "billing:reading_new", (account.number,), _("Enter a reading")),
        ("payment.add", "billing:cashier", (account.number,), _("Take a payment")),
    ]
    meter = summary.active_meter
    if meter is None:
        wanted.append(("meter.change", "billing:meter_install", (account.number,), _("Install a meter")))
    else:
        wanted.append(("meter.change", "billing:meter_replace", (meter.pk,), _("Replace the meter")))
    latest = summary.latest_invoice
    if latest is not None:
        wanted.append(
            (
                "invoice.view",
                "billing:invoice_pdf",
                (account.number, f"{latest.period:%Y-%m}"),
                _("Invoice for %(period)s (PDF)") % {"period": f"{latest.period:%m.%Y}"},
            )
        )
    if summary.debt_case is not None:
        wanted.append(("debtcase.view", "billing:debt_cases", (), _("Debt cases")))
    actions = []
    for perm, name, args, label in wanted:
        if not user.has_okno_perm(perm):  # type: ignore[attr-defined]
            continue
        url = route_url(name, *args)
        if url is not None:
            actions.append(CardAction(label=label, url=url))
    return actions


def _as_of(request: HttpRequest, account: Account) -> dt.date:
    text = request.GET.get("on", "").strip()
    if text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    return local_today(account)


@login_required
def account_card(request: HttpRequest, number: str) -> HttpResponse:
    require_perm(request.user, "charge.view")
    account = get_object_or_404(_visible_accounts(request.user), number=normalize_account_number(number))
    log_access(
        actor=request.user,
        customer_id=account.customer_id,
        context_name="ui:billing-account",
        remote_addr=request.META.get("REMOTE_ADDR") or None,
    )
    summary = account_summary(account, _as_of(request, account))
    chart = consumption_svg(
        {c.period: c.by_zone for c in summary.consumption},
        summary.zone_names,
        title=_("Consumption of account %(number)s by month, kWh") % {"number": account.number},
    )
    return render(
        request,
        "billing/account.html",
        {
            "account": account,
            "summary": summary,
            "chart": chart,
            "actions": card_actions(request.user, account, summary),
            "customer_url": route_url("customers:detail", account.customer_id)
            if request.user.has_okno_perm("customer.view")  # type: ignore[union-attr]
            else None,
        },
    )


@login_required
def account_search(request: HttpRequest) -> HttpResponse:
    """Find an account by its number: an exact hit opens the card, otherwise numbers starting so."""
    require_perm(request.user, "charge.view")
    query = request.GET.get("q", "").strip()
    number = normalize_account_number(query)
    results: list[Account] = []
    if number:
        visible = _visible_accounts(request.user)
        exact = visible.filter(number=number).first()
        if exact is not None:
            return redirect("billing:account", number=exact.number)
        if number.isdigit():
            results = list(visible.filter(number__startswith=number).order_by("number")[:SEARCH_LIMIT])
            log_access_many(
                actor=request.user,
                customer_ids=[a.customer_id for a in results],
                context_name="ui:billing-account-search",
                remote_addr=request.META.get("REMOTE_ADDR") or None,
            )
    return render(
        request,
        "billing/account/search.html",
        {"query": query, "results": results, "searched": bool(number)},
    )


urlpatterns = [
    path("accounts/", account_search, name="accounts"),
    path("accounts/<str:number>/", account_card, name="account"),
]
