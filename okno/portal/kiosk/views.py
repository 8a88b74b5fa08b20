"""The self-service terminal in an office: identify → balance → hand in a reading / print the invoice → end.

* ``start`` — the account number and its check value (:func:`okno.billing.proof.account_by_proof`).
  A wrong pair gets one generic message; failures are counted per terminal (its IP address: over
  :func:`identify_limit` in :data:`IDENTIFY_WINDOW_S`) and per account number, together with the
  cabinet's failed proofs (:data:`okno.portal.abuse.PROOF_SCOPE`); over either the terminal answers
  429 until the window ends. An attempt is counted before it is checked and handed back when it
  succeeds. A success writes a line in the customer's contact history.

Outside the networks of ``OKNO_KIOSK_NETWORKS`` (CIDRs; empty = anywhere, for development and the
demo) every kiosk page answers 404: in production list the offices' terminal networks.
* ``home`` — balance, the last invoice's amount and due date, the meter and the last payments
  (:func:`okno.billing.queries.account_summary`, as the staff account card).
* ``reading`` — one field per zone, :func:`okno.billing.readings.submit_reading` with the terminal
  channel (which writes the contact history); a refusal shows billing's reason and keeps the values.
* ``invoice`` — the last invoice as a printable page and its PDF (:func:`okno.billing.invoices.invoice_pdf`).
* ``end`` — sign out (also the target of the pages' inactivity refresh) and back to Russian.

Every page is ``never_cache``: after a sign-out the browser's Back button must not show the previous
person's balance from its cache.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from okno.billing import invoices, qr
from okno.billing.models import Invoice, Meter, Reading, rub
from okno.billing.proof import account_by_proof
from okno.billing.queries import account_summary, local_today, register_kwh
from okno.billing.readings import ReadingRefused, submit_reading
from okno.core.middleware import Network, in_networks, parse_networks
from okno.customers.actions import record_contact
from okno.customers.choices import ContactEventKind
from okno.customers.models import Account
from okno.org.api.permissions import client_ip
from okno.org.models import User, system_actor
from okno.portal import abuse
from okno.portal.kiosk import session
from okno.portal.kiosk.forms import IdentifyForm, ReadingForm, point_at_form_errors

#: The channel of everything done at a terminal (readings and contact history lines).
CHANNEL = Reading.Channel.TERMINAL
THROTTLE_SCOPE = "kiosk-identify"
#: Wrong identifications a terminal may make per window (``OKNO_KIOSK_IDENTIFY_LIMIT``).
IDENTIFY_LIMIT = 10
IDENTIFY_WINDOW_S = 900
#: Payments shown on the home page.
LAST_PAYMENTS = 5


def identify_limit() -> int:
    return int(getattr(settings, "OKNO_KIOSK_IDENTIFY_LIMIT", IDENTIFY_LIMIT))


def kiosk_actor() -> User:
    """The system user the kiosk acts as (docs/decisions/0003)."""
    return system_actor("kiosk")


def _terminal(request: HttpRequest) -> str:
    return client_ip(request) or "-"


def _throttled(minutes: int) -> str:
    return _(
        "Too many unsuccessful attempts at this terminal. Try again in %(minutes)s min or ask the office staff."
    ) % {"minutes": minutes}


def _checks(terminal: str, number: str) -> list[abuse.Check]:
    """Per terminal first (a blocked terminal does not use up the account's allowance), then per
    account number in the scope the cabinet's sign-up and linking count in."""
    return [
        (THROTTLE_SCOPE, terminal, identify_limit(), IDENTIFY_WINDOW_S),
        (abuse.PROOF_SCOPE, abuse.account_key(number), abuse.PROOF_FAILURES, abuse.PROOF_WINDOW_S),
    ]


def kiosk_networks() -> list[Network]:
    return parse_networks(getattr(settings, "OKNO_KIOSK_NETWORKS", []) or [])


def _allowed_network(request: HttpRequest) -> bool:
    """Whether the terminal's address is in ``OKNO_KIOSK_NETWORKS`` (any address when it is empty)."""
    networks = kiosk_networks()
    return not networks or in_networks(_terminal(request), networks)


def terminal_only(view: Any) -> Any:
    """404 for a request from outside ``OKNO_KIOSK_NETWORKS``: the kiosk is not on the internet."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _allowed_network(request):
            raise Http404
        return view(request, *args, **kwargs)  # type: ignore[no-any-return]

    return wrapper


def _reset_language(response: HttpResponse) -> HttpResponse:
    """The next person at the terminal starts in Russian, whatever the last one chose."""
    response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("idle_seconds", session.idle_seconds())
    return render(request, f"portal/kiosk/{template}", context, status=status)


def _kiosk_page(view: Any) -> Any:
    """An identified page: never cached; a timed-out session goes to start, in Russian again."""
    guarded = session.kiosk_required(view)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = guarded(request, *args, **kwargs)
        if getattr(request, "kiosk_account", None) is None:
            _reset_language(response)
        return response

    return terminal_only(never_cache(wrapper))


@terminal_only
@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Identification by the account number and its check value."""
    if request.method == "GET" and session.current_account(request, touch=False) is not None:
        return redirect("kiosk:home")
    reason = request.GET.get("reason", "")
    status = 200
    error = ""
    terminal = _terminal(request)
    if request.method == "POST":
        form = IdentifyForm(request.POST)
        wait, counted = abuse.take(_checks(terminal, request.POST.get("number", "")))
        if wait:
            error, status = _throttled(wait), 429
        elif not form.is_valid():
            abuse.give_back(counted)
            status = 400
        else:
            account = account_by_proof(form.cleaned_data["number"], form.cleaned_data["check_value"])
            if account is not None:
                abuse.give_back(counted)
                session.identify(request, account)
                record_contact(
                    account.customer_id,
                    kind=ContactEventKind.VISIT,
                    summary=_("Identified at a self-service terminal, account %(number)s")
                    % {"number": account.number},
                    channel=CHANNEL,
                    ref=("customers.account", account.pk, account.number),
                    actor=kiosk_actor(),
                )
                return redirect("kiosk:home")
            error, status = _("The account number or check value does not match."), 400
        if error:
            # Never show the check value back on a shared screen.
            form = IdentifyForm(initial={"number": form.data.get("number", "")[:40]})
            point_at_form_errors(form)
    else:
        form = IdentifyForm()
    return _render(
        request,
        "start.html",
        {"form": form, "error": error, "idle_ended": reason == session.REASON_IDLE},
        status=status,
    )


def _account(request: HttpRequest) -> Account:
    return request.kiosk_account  # type: ignore[attr-defined,no-any-return]


@_kiosk_page
def home(request: HttpRequest) -> HttpResponse:
    """Balance, the last invoice with its due date, the meter and the last payments."""
    account = _account(request)
    summary = account_summary(account, local_today(account))
    latest = summary.invoices[0] if summary.invoices else None
    return _render(
        request,
        "home.html",
        {
            "account": account,
            "summary": summary,
            "advance": rub(-summary.balance_kop) if summary.balance_kop < 0 else None,
            "latest": latest,
            "payments": summary.payments[:LAST_PAYMENTS],
            "meter_info": next((m for m in summary.meters if m.meter.status != Meter.Status.REMOVED), None),
        },
    )


def _meter(account: Account) -> Meter | None:
    return Meter.objects.filter(account=account).exclude(status=Meter.Status.REMOVED).order_by("-id").first()


@_kiosk_page
@require_http_methods(["GET", "POST"])
def reading(request: HttpRequest) -> HttpResponse:
    """Hand in a reading of the account's meter; billing's reason when it is refused."""
    account = _account(request)
    meter = _meter(account)
    status = 200
    form = None
    if meter is not None:
        if request.method == "POST":
            form = ReadingForm(request.POST, meter=meter)
            if form.is_valid():
                try:
                    done = submit_reading(
                        account=account,
                        values=form.values(),
                        channel=CHANNEL,
                        actor=kiosk_actor(),
                        meter=meter,
                    )
                except ReadingRefused as exc:
                    form.refuse(exc.text)
                else:
                    if done.status == Reading.Status.HELD:
                        messages.warning(
                            request,
                            _(
                                "Reading received. It differs much from your usual consumption and will be checked."
                            ),
                        )
                    else:
                        messages.success(
                            request,
                            _("Reading accepted for %(period)s.") % {"period": f"{done.period:%m.%Y}"},
                        )
                    return redirect("kiosk:home")
            status = 400
        else:
            form = ReadingForm(meter=meter)
    last = (
        Reading.objects.filter(meter=meter, status=Reading.Status.ACCEPTED)
        .order_by("-taken_on", "-id")
        .first()
        if meter is not None
        else None
    )
    return _render(
        request,
        "reading.html",
        {
            "account": account,
            "meter": meter,
            "form": form,
            "last": last,
            "last_values": _last_values(meter, last),
        },
        status=status,
    )


def _last_values(meter: Meter | None, last: Reading | None) -> list[tuple[str, Decimal | None]]:
    """(zone label, value in kWh with the meter's decimals) of the last accepted reading."""
    if meter is None or last is None:
        return []
    return [
        ("" if meter.zones == 1 else f"T{z} ({meter.zone_name(z)})", register_kwh(wh, meter.fraction_digits))
        for z, wh in enumerate(last.values_wh(), start=1)
    ]


def _last_invoice(account: Account) -> Invoice | None:
    return Invoice.objects.filter(account=account).order_by("-period", "-id").first()


@_kiosk_page
def invoice(request: HttpRequest) -> HttpResponse:
    """The last invoice as a page to print (the Print button needs JavaScript; the PDF does not)."""
    account = _account(request)
    last = _last_invoice(account)
    context: dict[str, Any] = {"account": account, "invoice": last}
    if last is not None:
        facts = invoices.collect([account.pk], last.period)[account.pk]
        context.update(invoices.context(last, facts))
        context["qr_image"] = qr.qr_png_data_uri(last.qr_payload) if last.qr_payload else ""
    return _render(request, "invoice.html", context)


@_kiosk_page
def invoice_pdf(request: HttpRequest) -> HttpResponse:
    """The last invoice's PDF (built and stored first when missing)."""
    account = _account(request)
    last = _last_invoice(account)
    if last is None:
        raise Http404
    built, pdf = invoices.invoice_pdf(account, last.period)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{built.number}.pdf"'
    return response


@terminal_only
@never_cache
@require_http_methods(["GET", "POST"])
def end(request: HttpRequest) -> HttpResponse:
    """Sign out. GET is allowed on purpose: the pages' inactivity refresh can only follow a link, and
    a forged request can do no more than end a terminal session."""
    was_idle = request.GET.get("reason") == session.REASON_IDLE
    session.current_account(request, touch=False)
    session.sign_out(request)
    return _reset_language(_render(request, "end.html", {"idle_ended": was_idle}))


@terminal_only
@never_cache
@require_POST
def ping(request: HttpRequest) -> HttpResponse:
    """Keep a session alive while the person is typing (kiosk.js, on activity): 204, or 410 once the
    session has ended."""
    return HttpResponse(status=204 if session.current_account(request) is not None else 410)
