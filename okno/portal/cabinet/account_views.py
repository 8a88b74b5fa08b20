"""The cabinet's money and meters: the dashboard, an account's page, its invoices as PDF, handing in a
reading, and paying online (with the simulated acquirer in development and tests).

Every view reaches an account through :func:`session.my_account` and an order through
:func:`_my_order`, so any id or token the signed-in user does not hold answers 404, the same as one
that does not exist. State changes go through billing's actions as the system user ``system:cabinet``
(``okno.billing.readings.submit_reading``, ``okno.billing.online.create_order``); the payment itself is
registered only by the acquirer's signed callback.
"""

from __future__ import annotations

from decimal import InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from okno.billing import online
from okno.billing.chart import consumption_svg
from okno.billing.invoices import PeriodNotBillable, invoice_pdf
from okno.billing.models import Invoice, Meter, PaymentOrder, Reading, rub
from okno.billing.payments import AmountTooLarge, parse_amount, too_large_message
from okno.billing.queries import local_today, register_kwh, zone_label
from okno.billing.readings import ReadingRefused, format_values, submit_reading
from okno.billing.web.invoices import pdf_response
from okno.customers.models import Account
from okno.org.models import User, system_actor
from okno.portal.abuse import over_limit
from okno.portal.cabinet.account_queries import account_cards, account_page, meters_with_last_reading
from okno.portal.cabinet.session import cabinet_required, current_user, held_accounts, my_account, pop_draft

#: How many payment orders one cabinet user may start in an hour, and readings they may hand in.
ORDERS_PER_HOUR = 30
READINGS_PER_HOUR = 30


def cabinet_actor() -> User:
    """The system user the cabinet acts as (docs/decisions/0003)."""
    return system_actor("cabinet")


# --- dashboard and account page ------------------------------------------------------------------


def _account_response(request: HttpRequest, account: Account, *, dashboard: bool = False) -> HttpResponse:
    page = account_page(account, request.GET.get("page") or 1)
    chart = consumption_svg(
        {c.period: c.by_zone for c in page.consumption},
        page.zone_names,
        title=_("Consumption of account %(number)s by month, kWh") % {"number": account.number},
    )
    return render(
        request,
        "portal/cabinet/account.html",
        {
            "account": account,
            "page": page,
            "card": page.card,
            "chart": chart,
            "zones": [page.zone_names[z] for z in sorted(page.zone_names)],
            "several_zones": len(page.zone_names) > 1,
            "on_dashboard": dashboard,
            "tz": account.service_point.branch.tz,
        },
    )


@cabinet_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The signed-in user's accounts: the account itself when there is one, else a card per account."""
    user = current_user(request)
    accounts = held_accounts(user)  # type: ignore[arg-type]
    if len(accounts) == 1:
        return _account_response(request, accounts[0], dashboard=True)
    return render(request, "portal/cabinet/dashboard.html", {"cards": account_cards(accounts)})


@cabinet_required
def account_view(request: HttpRequest, account_id: int) -> HttpResponse:
    return _account_response(request, my_account(request, account_id))


@cabinet_required
def invoice_pdf_view(request: HttpRequest, account_id: int, invoice_id: int) -> HttpResponse:
    """The account's own invoice as a PDF (built by billing when it has not been yet)."""
    account = my_account(request, account_id)
    invoice = Invoice.objects.filter(pk=invoice_id, account=account).only("period").first()
    if invoice is None:
        raise Http404
    try:
        invoice, pdf = invoice_pdf(account, invoice.period)
    except PeriodNotBillable:
        raise Http404 from None
    return pdf_response(pdf, f"{invoice.number}.pdf")


# --- readings ------------------------------------------------------------------------------------


def _reading_fields(meter: Meter) -> list[str]:
    return [f"t{z}" for z in range(1, meter.zones + 1)]


@cabinet_required
@require_http_methods(["GET", "POST"])
def reading_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """Hand in a reading of the account's meter, one value per tariff zone.

    A refused reading answers 400 with billing's explanation next to the values, which are kept; an
    accepted (or held) one redirects here with ``?done=<id>`` and shows what was recorded."""
    account = my_account(request, account_id)
    infos = meters_with_last_reading(account, local_today(account))
    info = next((i for i in infos if i.meter.status == Meter.Status.ACTIVE), infos[0] if infos else None)
    meter = info.meter if info is not None else None
    names = _reading_fields(meter) if meter is not None else []
    values = dict.fromkeys(names, "")
    field_errors: dict[str, str] = {}
    error = ""
    status = 200
    done: Reading | None = None

    if request.method == "POST":
        user = current_user(request)
        values = {name: request.POST.get(name, "").strip()[:30] for name in names}
        if meter is None:
            error = _("Account %(n)s has no meter in service.") % {"n": account.number}
        elif over_limit(
            "cabinet-reading", str(user.pk if user else ""), limit=READINGS_PER_HOUR, window_s=3600
        ):
            error = _("Too many readings in an hour. Please try again later.")
            status = 429
        else:
            field_errors = {name: _("Enter the reading of this zone.") for name in names if not values[name]}
            if not field_errors:
                try:
                    reading = submit_reading(
                        account=account,
                        values=[values[name] for name in names],
                        channel=Reading.Channel.CABINET,
                        actor=cabinet_actor(),
                        meter=meter,
                    )
                except ReadingRefused as refused:
                    error = refused.text
                else:
                    return redirect(f"{reverse('cabinet:reading', args=[account.pk])}?done={reading.pk}")
        status = status if status != 200 else 400
    else:
        draft = pop_draft(request)
        for name in names:
            if draft.get(name):
                values[name] = str(draft[name])[:30]
        done_id = request.GET.get("done", "")
        if done_id.isdigit():
            done = Reading.objects.filter(pk=int(done_id), account=account).first()

    zone_fields: list[dict[str, Any]] = []
    if meter is not None:
        last = info.last_values if info is not None else []
        for z, name in enumerate(names, start=1):
            zone_fields.append(
                {
                    "name": name,
                    "label": zone_label(meter.zones, z),
                    "value": values.get(name, ""),
                    "error": field_errors.get(name, ""),
                    "last": last[z - 1] if len(last) >= z else None,
                }
            )
    done_values = []
    if done is not None:
        zones = len(done.values_wh())
        digits = meter.fraction_digits if meter is not None else 3
        done_values = [
            (zone_label(zones, z), register_kwh(v, digits)) for z, v in enumerate(done.values_wh(), start=1)
        ]
    return render(
        request,
        "portal/cabinet/reading.html",
        {
            "account": account,
            "meter": meter,
            "info": info,
            "zone_fields": zone_fields,
            "error": error,
            "has_errors": bool(error or field_errors),
            "done": done,
            "done_values": done_values,
            "done_text": format_values(done.values_wh()) if done is not None else "",
        },
        status=status,
    )


# --- paying ------------------------------------------------------------------------------------


@cabinet_required
@require_http_methods(["GET", "POST"])
def pay_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """The amount to pay (the debt by default); a valid one starts an order and goes to the acquirer."""
    account = my_account(request, account_id)
    card = account_cards([account])[0]
    amount = str(card.debt) if card.balance_kop > 0 else ""
    error = ""
    status = 200
    enabled = online.online_payments_enabled()
    closed = account.closed_on is not None
    if request.method == "POST":
        amount = request.POST.get("amount", "").strip()[:30]
        user = current_user(request)
        if closed:
            error = _("Account %(n)s is closed: it cannot be paid online.") % {"n": account.number}
            status = 400
        elif not enabled:
            error = _("Online payment is not available at the moment.")
            status = 503
        elif over_limit("cabinet-pay", str(user.pk if user else ""), limit=ORDERS_PER_HOUR, window_s=3600):
            error = _("Too many payments started in an hour. Please try again later.")
            status = 429
        else:
            try:
                amount_kop = parse_amount(amount)
                order = online.create_order(
                    account=account, amount_kop=amount_kop, cabinet_user=user, actor=cabinet_actor()
                )
            except AmountTooLarge:
                error = too_large_message()
            except (ValueError, InvalidOperation):
                error = _("Enter a positive amount in roubles with at most two decimals, e.g. 1234.56.")
            except ValidationError as invalid:
                error = " ".join(invalid.message_dict.get("amount", invalid.messages))
            else:
                return redirect(online.provider_url(order))
            status = 400
    else:
        draft = pop_draft(request)
        if draft.get("amount"):
            amount = str(draft["amount"])[:30]
    return render(
        request,
        "portal/cabinet/pay.html",
        {
            "account": account,
            "card": card,
            "amount": amount,
            "error": error,
            "enabled": enabled and not closed,
            "closed": closed,
            "max_amount": rub(online.MAX_ORDER_KOP),
        },
        status=status,
    )


def _my_order(request: HttpRequest, token: str) -> PaymentOrder:
    """The signed-in user's order ``token`` on an account they still hold; 404 for anything else."""
    user = current_user(request)
    order = (
        PaymentOrder.objects.filter(token=token, cabinet_user=user).select_related("payment").first()
        if user is not None and len(token) <= 64
        else None
    )
    if order is None:
        raise Http404
    order.account = my_account(request, order.account_id)
    return order


@cabinet_required
def pay_return(request: HttpRequest, token: str) -> HttpResponse:
    """Where the acquirer sends the customer back: the order paid, still pending, or declined."""
    order = _my_order(request, token)
    if order.status == PaymentOrder.Status.PAID and order.payment is not None:
        # Show the money that came, not what the order meant (the template reads order.amount);
        # in memory only, the order is not saved.
        order.amount_kop = order.payment.amount_kop
    return render(
        request,
        "portal/cabinet/pay_return.html",
        {"order": order, "account": order.account, "tz": order.account.service_point.branch.tz},
    )


def _callback_url(request: HttpRequest) -> str:
    """The acquiring callback's address: from ``OKNO_PUBLIC_URL`` when set, else from the request's
    host as Django validated it against ``ALLOWED_HOSTS`` (``get_host``), never a raw header."""
    path = reverse("api:acquiring-callback")
    base = str(getattr(settings, "OKNO_PUBLIC_URL", "") or "").rstrip("/")
    if base:
        return f"{base}{path}"
    return f"{request.scheme}://{request.get_host()}{path}"


@cabinet_required
@require_http_methods(["GET", "POST"])
def pay_sim(request: HttpRequest, token: str) -> HttpResponse:
    """The simulated acquirer's card form (development and tests only; 404 in production).

    Pay or Decline makes the server send the acquirer's real signed callback to its own address over
    HTTP, then sends the browser back to the return page, as a real acquirer does."""
    if not online.simulator_enabled():
        raise Http404
    order = _my_order(request, token)
    if order.provider != online.SIMULATOR:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ("pay", "decline"):
            return render(request, "portal/cabinet/pay_sim.html", {"order": order, "bad": True}, status=400)
        if order.status == PaymentOrder.Status.CREATED:
            url = _callback_url(request)
            code = online.send_callback(order, "succeeded" if action == "pay" else "declined", url)
            if code is None or code >= 400:
                messages.error(
                    request, _("The payment provider could not reach the server; try again later.")
                )
        return redirect("cabinet:pay_return", token=order.token)
    return render(request, "portal/cabinet/pay_sim.html", {"order": order, "account": order.account})
