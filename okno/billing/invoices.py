"""Monthly invoices: the numbers from the ledger and the charge lines, a PDF from one HTML template
(WeasyPrint) with the GOST R 56042-2014 payment QR code, and the batch job for a billing run.

The numbers of an invoice for account *A* and period *P* (all in kopecks):

* ``debt_kop`` — the balance at the end of the previous period (negative: an advance);
* ``amount_kop`` — charged for *P*: the ledger's ``CHARGE`` and ``RECALCULATION`` entries of *P*;
* ``penalty_kop`` — penalties posted during *P*;
* ``total_kop`` — to pay: the balance at the end of *P*, never below zero (so debt + charged + penalty
  − paid in *P* ± adjustments);
* ``due_date`` — :func:`okno.billing.rules.due_date` (the 15th of the next month for periods from
  March 2026, the 10th before).

Everything an invoice shows is read by :func:`collect` for a whole batch in a fixed number of queries
(accounts, profiles, charge lines with meters, readings, one ledger aggregate, existing invoices), so
a batch of thousands costs the same handful of queries as one invoice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, Sum
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.billing import qr, rules
from okno.billing.models import (
    ZONE_NAMES,
    BillingProfile,
    BillingRun,
    BillingSettings,
    Charge,
    Invoice,
    LedgerEntry,
    Method,
    PayeeDetails,
    Reading,
    kwh,
    price,
    rub,
)
from okno.billing.periods import add_months, month_end, month_start, parse_period, period_label
from okno.core import events
from okno.core.jobs import job
from okno.customers.models import Account

log = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
BATCH_SIZE = 500
READINGS_LOOKBACK_MONTHS = 36

#: The printed form. Parsed once per process (:func:`_weasy`) and shared by every invoice.
INVOICE_CSS = """
@page { size: A4; margin: 12mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; line-height: 1.35; margin: 0; color: #111; }
.head { position: relative; min-height: 60mm; }
.qr { position: absolute; top: 0; right: 0; width: 52mm; text-align: center; }
.qr img { width: 42mm; height: 42mm; image-rendering: pixelated; }
.qrhint { font-size: 7pt; color: #555; }
.qrsum { font-size: 12pt; margin-top: 1mm; }
.payee-name { font-size: 10pt; }
.payee { white-space: pre-line; color: #333; }
.payee-name, .payee, .title, .sub, .customer { width: 130mm; }
.title { font-size: 14pt; margin-top: 6mm; }
.sub { color: #333; }
.customer { white-space: pre-line; margin-top: 4mm; }
.section { clear: both; font-size: 10pt; margin: 5mm 0 1mm 0; padding-bottom: 0.5mm; border-bottom: 0.6pt solid #333; }
.grid { overflow: hidden; font-size: 8pt; border-bottom: 0.4pt solid #777; padding-bottom: 1mm; }
.grid div { float: left; white-space: pre; }
.grid .c1 { width: 26mm; } .grid .c2 { width: 44mm; } .grid .c3, .grid .c4 { width: 24mm; }
.grid .c5 { width: 22mm; } .grid .c6 { width: 20mm; } .grid .c7 { width: 26mm; }
.grid .n { text-align: right; }
.totals { overflow: hidden; }
.totals .tl { float: left; clear: left; width: 100mm; white-space: pre-line; }
.totals .tv { float: left; width: 40mm; white-space: pre-line; text-align: right; }
.totals .total { font-size: 11pt; margin-top: 1mm; padding-top: 1mm; border-top: 0.6pt solid #333; }
.foot { clear: both; margin-top: 6mm; font-size: 7.5pt; color: #444; }
.none { color: #555; }
"""


# --- facts -------------------------------------------------------------------------------------


@dataclass
class InvoiceLine:
    """One printed line: a charge line with the meter's readings for its zone."""

    zone: str
    method: str
    meter: str
    previous: Decimal | None
    current: Decimal | None
    volume: Decimal | None
    price: Decimal | None
    amount: Decimal | None


@dataclass
class Facts:
    """What an invoice of one account and period is made of (read in bulk by :func:`collect`)."""

    account: Account
    period: dt.date
    payee: PayeeDetails | None
    category: str = ""
    residents: int | None = None
    debt_kop: int = 0
    charged_kop: int = 0
    penalty_kop: int = 0
    paid_kop: int = 0
    end_balance_kop: int = 0
    submission_day: int = 25
    lines: list[InvoiceLine] = field(default_factory=list)

    @property
    def total_kop(self) -> int:
        return max(self.end_balance_kop, 0)

    @property
    def other_kop(self) -> int:
        """Adjustments and credits other than payments: what makes the arithmetic of the page add up."""
        return self.end_balance_kop - (self.debt_kop + self.charged_kop + self.penalty_kop - self.paid_kop)


def invoice_number(account: Account, period: dt.date) -> str:
    return f"{account.number}-{period:%Y%m}"


def _fmt_reading(wh: int | None, digits: int) -> Decimal | None:
    if wh is None:
        return None
    value = kwh(wh)
    assert value is not None
    return value.quantize(Decimal(1).scaleb(-digits)) if digits > 0 else value.quantize(Decimal(1))


def _fmt_price(price_e4: int) -> Decimal | None:
    value = price(price_e4)
    if value is None:
        return None
    # 6.4300 → 6.43 but 6.4312 stays: kopecks always shown, tenths of kopecks only when there are any.
    return value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value


def _register(values: tuple[int | None, ...] | None, zone: int) -> int | None:
    if values is None or not 1 <= zone <= 3:
        return None
    return values[zone - 1]


def _payees() -> Any:
    """``branch_id → PayeeDetails`` through :meth:`PayeeDetails.for_branch`, one lookup per branch."""
    cache: dict[int | None, PayeeDetails | None] = {}

    def get(branch_id: int | None) -> PayeeDetails | None:
        if branch_id not in cache:
            cache[branch_id] = PayeeDetails.for_branch(branch_id)
        return cache[branch_id]

    return get


def collect(account_ids: Sequence[int], period: dt.date) -> dict[int, Facts]:
    """Facts of the invoices of ``account_ids`` for ``period`` in a fixed number of queries."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return {}
    start, end = period, month_end(period)
    payee_of = _payees()
    submission_day = BillingSettings.current().submission_last_day
    accounts = Account.objects.filter(pk__in=ids).select_related("customer", "service_point__address")
    facts: dict[int, Facts] = {
        a.pk: Facts(
            account=a, period=period, payee=payee_of(a.service_point.branch_id), submission_day=submission_day
        )
        for a in accounts
    }
    for account_id, category, residents in BillingProfile.objects.filter(account_id__in=ids).values_list(
        "account_id", "category__name", "residents"
    ):
        facts[account_id].category = category
        facts[account_id].residents = residents

    # One aggregate of the ledger: balances at both ends of the period, and what happened in it.
    in_period = Q(entry_date__gte=start, entry_date__lte=end)
    rows = (
        LedgerEntry.objects.filter(account_id__in=ids, entry_date__lte=end)
        .order_by()
        .values("account_id")
        .annotate(
            before=Sum("amount_kop", filter=Q(entry_date__lt=start)),
            balance=Sum("amount_kop"),
            charged=Sum("amount_kop", filter=Q(kind__in=[Kind.CHARGE, Kind.RECALCULATION], period=period)),
            penalty=Sum("amount_kop", filter=in_period & Q(kind=Kind.PENALTY)),
            paid=Sum("amount_kop", filter=in_period & Q(kind=Kind.PAYMENT)),
        )
    )
    for row in rows:
        f = facts[row["account_id"]]
        f.debt_kop = int(row["before"] or 0)
        f.end_balance_kop = int(row["balance"] or 0)
        f.charged_kop = int(row["charged"] or 0)
        f.penalty_kop = int(row["penalty"] or 0)
        f.paid_kop = -int(row["paid"] or 0)

    # Readings: per meter, the latest accepted reading of the period and the latest before it.
    current: dict[int, tuple[int | None, ...]] = {}
    previous: dict[int, tuple[int | None, ...]] = {}
    readings = (
        Reading.objects.filter(
            account_id__in=ids,
            status=Reading.Status.ACCEPTED,
            period__lte=period,
            period__gte=add_months(period, -READINGS_LOOKBACK_MONTHS),
        )
        .order_by("meter_id", "taken_on", "id")
        .values_list("meter_id", "period", "t1_wh", "t2_wh", "t3_wh")
    )
    for meter_id, reading_period, t1, t2, t3 in readings:
        (current if reading_period == period else previous)[meter_id] = (t1, t2, t3)

    charges = (
        Charge.objects.filter(account_id__in=ids, period=period)
        .select_related("meter")
        .order_by("account_id", "meter_id", "zone", "tier", "id")
    )
    shown_zone: set[tuple[int, int | None, int]] = set()
    for charge in charges:
        meter = charge.meter
        zone_name = str(ZONE_NAMES.get(charge.zones, {}).get(charge.zone, f"T{charge.zone}"))
        key = (charge.account_id, charge.meter_id, charge.zone)
        first = key not in shown_zone
        shown_zone.add(key)
        digits = meter.fraction_digits if meter else 0
        with_readings = first and meter is not None and charge.method in (Method.ACTUAL, Method.RECALCULATION)
        if charge.tier > 1:
            zone_name = _("%(zone)s, tier %(tier)s") % {"zone": zone_name, "tier": charge.tier}
        facts[charge.account_id].lines.append(
            InvoiceLine(
                zone=zone_name,
                method=str(charge.get_method_display()),
                meter=meter.serial if meter else "",
                previous=_fmt_reading(_register(previous.get(meter.pk), charge.zone), digits)
                if with_readings and meter
                else None,
                current=_fmt_reading(_register(current.get(meter.pk), charge.zone), digits)
                if with_readings and meter
                else None,
                volume=kwh(charge.volume_wh),
                price=_fmt_price(charge.price_e4),
                amount=rub(charge.amount_kop),
            )
        )
    return facts


# --- building ----------------------------------------------------------------------------------


def purpose(account: Account, period: dt.date) -> str:
    """The payment's purpose in the QR code (the account and period are requisites of their own)."""
    return _("Electricity for %(period)s") % {"period": f"{period:%m.%Y}"}


def _fill(invoice: Invoice, f: Facts, run: BillingRun | None) -> None:
    invoice.number = invoice_number(f.account, f.period)
    invoice.amount_kop = f.charged_kop
    invoice.debt_kop = f.debt_kop
    invoice.penalty_kop = f.penalty_kop
    invoice.total_kop = f.total_kop
    invoice.due_date = rules.due_date(f.period)
    if run is not None:
        invoice.run = run
    invoice.qr_payload = ""
    if f.payee is not None:
        try:
            invoice.qr_payload = qr.build_payload(
                f.payee, f.account, f.period, f.total_kop, purpose(f.account, f.period)
            )
        except qr.QRPayloadError as exc:
            # Payee details are admin data: a wrong BIC must not stop a batch; the invoice goes out
            # without the code and the log says why.
            log.warning("no payment QR code on invoice %s: %s", invoice.number, exc)


_FIELDS = ["number", "amount_kop", "debt_kop", "penalty_kop", "total_kop", "due_date", "qr_payload", "run"]


def pdf_name(invoice: Invoice) -> str:
    """Where an invoice's PDF is stored: by period, so that building it again replaces the file."""
    return f"invoices/{invoice.period:%Y/%m}/{invoice.number}.pdf"


def _values(invoice: Invoice) -> tuple:
    return tuple(getattr(invoice, f if f != "run" else "run_id") for f in _FIELDS) + (invoice.pdf.name,)


def build_invoices(
    account_ids: Sequence[int], period: dt.date, *, run: BillingRun | None = None, with_pdf: bool = False
) -> list[tuple[Invoice, Facts]]:
    """Create or update (by account and period) the invoices of ``account_ids`` for ``period``, in bulk:
    one ``bulk_create`` for the new ones and one ``bulk_update`` for those whose numbers changed.
    ``with_pdf`` also records the PDF's file name (:func:`pdf_name`) that :func:`generate` then writes."""
    facts = collect(account_ids, period)
    existing = {i.account_id: i for i in Invoice.objects.filter(account_id__in=list(facts), period=period)}
    new: list[Invoice] = []
    changed: list[Invoice] = []
    out: list[tuple[Invoice, Facts]] = []
    fields = [*_FIELDS, "pdf"]
    for account_id, f in facts.items():
        invoice = existing.get(account_id)
        before = _values(invoice) if invoice is not None else None
        if invoice is None:
            invoice = Invoice(account=f.account, period=period)
            new.append(invoice)
        else:
            invoice.account = f.account
        _fill(invoice, f, run)
        if with_pdf:
            if invoice.pdf.name and invoice.pdf.name != pdf_name(invoice):
                invoice._old_pdf = invoice.pdf.name  # type: ignore[attr-defined]  # removed by store_pdf
            invoice.pdf.name = pdf_name(invoice)
        if before is not None and _values(invoice) != before:
            changed.append(invoice)
        out.append((invoice, f))
    with transaction.atomic():
        if new:
            Invoice.objects.bulk_create(new, batch_size=BATCH_SIZE)
            if any(i.pk is None for i in new):  # backends that do not return ids (none of ours)
                ids = dict(
                    Invoice.objects.filter(
                        account_id__in=[i.account_id for i in new], period=period
                    ).values_list("account_id", "pk")
                )
                for i in new:
                    i.pk = ids[i.account_id]
        if changed:
            Invoice.objects.bulk_update(changed, fields, batch_size=BATCH_SIZE)
    return out


def build_invoice(account: Account, period: dt.date) -> Invoice:
    """The invoice of ``account`` for ``period`` (created, or updated with today's numbers)."""
    [(invoice, f)] = build_invoices([account.pk], period)
    invoice._facts = f  # type: ignore[attr-defined]  # reused by render_pdf
    return invoice


# --- rendering ---------------------------------------------------------------------------------

_weasy_cache: dict[str, Any] = {}


def _data_url_fetcher() -> Any:
    """A URL fetcher that serves ``data:`` URIs (the QR image) and refuses everything else: an invoice
    loads nothing from the network or the disk, and WeasyPrint's default fetcher (a urllib opener
    built for every document) costs ~2 ms per invoice."""
    import base64
    from urllib.parse import unquote_to_bytes

    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class DataURLFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if not url.startswith("data:"):
                raise ValueError(f"invoices load no external resources ({url[:40]})")
            meta, _comma, data = url[5:].partition(",")
            body = base64.b64decode(data) if meta.endswith(";base64") else unquote_to_bytes(data)
            return URLFetcherResponse(url, body, {"Content-Type": meta.split(";")[0] or "text/plain"})

    return DataURLFetcher(allowed_protocols=("data",))


def _weasy() -> tuple[Any, Any, Any]:
    """WeasyPrint's font configuration, the parsed stylesheet and the URL fetcher, made once per process."""
    if not _weasy_cache:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        # WeasyPrint logs each of its seven steps at INFO: six lines per invoice in a batch of thousands.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        fonts = FontConfiguration()
        _weasy_cache["fonts"] = fonts
        _weasy_cache["css"] = CSS(string=INVOICE_CSS, font_config=fonts)
        _weasy_cache["fetcher"] = _data_url_fetcher()
    return _weasy_cache["fonts"], _weasy_cache["css"], _weasy_cache["fetcher"]


def context(invoice: Invoice, f: Facts) -> dict[str, Any]:
    account = f.account
    return {
        "invoice": invoice,
        "account": account,
        "customer": account.customer,
        "address": account.service_point.address,
        "payee": f.payee,
        "facts": f,
        "period": f.period,
        "lines": f.lines,
        "debt": rub(f.debt_kop),
        "advance": rub(-f.debt_kop) if f.debt_kop < 0 else None,
        "charged": rub(f.charged_kop),
        "penalty": rub(f.penalty_kop),
        "paid": rub(f.paid_kop),
        "other": rub(f.other_kop) if f.other_kop else None,
        "total": rub(invoice.total_kop),
        "qr_image": qr.qr_png_data_uri(invoice.qr_payload) if invoice.qr_payload else "",
        "meters": sorted({line.meter for line in f.lines if line.meter}),
        "issued_on": timezone.localdate(),
    }


def render_html(invoice: Invoice, facts: Facts | None = None) -> str:
    f = facts or _facts_of(invoice)
    return get_template("billing/invoice.html").render(context(invoice, f))


def _facts_of(invoice: Invoice) -> Facts:
    cached = getattr(invoice, "_facts", None)
    if (
        isinstance(cached, Facts)
        and cached.account.pk == invoice.account_id
        and cached.period == invoice.period
    ):
        return cached
    return collect([invoice.account_id], invoice.period)[invoice.account_id]


def render_pdf(invoice: Invoice, facts: Facts | None = None) -> bytes:
    """The invoice as a PDF (WeasyPrint, shared font configuration and stylesheet)."""
    from weasyprint import HTML

    fonts, css, fetcher = _weasy()
    html = render_html(invoice, facts)
    return HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=fonts)


def store_pdf(invoice: Invoice, pdf: bytes) -> bool:
    """Write the PDF to the default storage (``MEDIA_ROOT``) at :func:`pdf_name`, replacing an older
    file, and point ``invoice.pdf`` at it. Returns whether the row's ``pdf`` must still be saved (the
    name differs from the one recorded)."""
    from django.core.files.storage import default_storage

    name = pdf_name(invoice)
    for old in (getattr(invoice, "_old_pdf", ""), invoice.pdf.name):
        if old and old != name:
            default_storage.delete(old)
    default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(pdf))
    recorded = invoice.pdf.name
    invoice.pdf.name = saved
    return saved != recorded


class PeriodNotBillable(ValueError):
    """An invoice asked for a period that has not begun yet (its message says so)."""


def invoice_period(account: Account, text: str) -> dt.date:
    """The period ``text`` (``YYYY-MM``) of an invoice of ``account``: ValueError if malformed,
    :class:`PeriodNotBillable` if after the current month in the branch's time zone (such a period has
    no bill yet; building one would store an empty invoice — and ``9999-12`` has no due date)."""
    period = parse_period(text)
    check_period(account, period)
    return period


def check_period(account: Account, period: dt.date) -> None:
    """:class:`PeriodNotBillable` if ``period`` is after the current month of the account's branch."""
    today = timezone.localdate(timezone=account.service_point.branch.tz)
    if period > month_start(today):
        raise PeriodNotBillable(
            _("No invoice for %(period)s: the period has not begun yet.") % {"period": period_label(period)}
        )


def invoice_pdf(account: Account, period: dt.date) -> tuple[Invoice, bytes]:
    """The stored PDF of ``account`` for ``period``, built and stored first if missing. A period
    after the current month is refused (:class:`PeriodNotBillable`)."""
    check_period(account, period)
    invoice = Invoice.objects.filter(account=account, period=period).first()
    if invoice is not None and invoice.pdf:
        try:
            with invoice.pdf.open("rb") as fh:
                return invoice, fh.read()
        except FileNotFoundError:
            pass
    invoice = build_invoice(account, period)
    pdf = render_pdf(invoice)
    if store_pdf(invoice, pdf):
        Invoice.objects.filter(pk=invoice.pk).update(pdf=invoice.pdf.name)
    return invoice, pdf


# --- batch -------------------------------------------------------------------------------------


def generate(
    account_ids: Iterable[int], period: dt.date, *, run: BillingRun | None = None, store: bool = True
) -> dict[str, Any]:
    """Build the invoices of ``account_ids`` for ``period`` and their PDFs, in batches of
    :data:`BATCH_SIZE`; an invoice that fails is reported and the others go on."""
    ids = list(account_ids)
    counts: dict[str, Any] = {"accounts": len(ids), "invoices": 0, "pdfs": 0, "failed": 0, "errors": []}
    started = time.monotonic()
    for offset in range(0, len(ids), BATCH_SIZE):
        # The PDF names are recorded with the numbers, so a stored file needs no second write of its row.
        built = build_invoices(ids[offset : offset + BATCH_SIZE], period, run=run, with_pdf=store)
        counts["invoices"] += len(built)
        renamed: list[Invoice] = []
        for invoice, f in built:
            try:
                pdf = render_pdf(invoice, f)
                if store and store_pdf(invoice, pdf):
                    renamed.append(invoice)
                counts["pdfs"] += 1
            except Exception as exc:  # one broken invoice must not stop the batch
                log.exception("invoice %s failed", invoice.number)
                counts["failed"] += 1
                if len(counts["errors"]) < 50:
                    counts["errors"].append({"account": f.account.number, "error": str(exc)[:200]})
                if store:
                    invoice.pdf.name = ""
                    renamed.append(invoice)
        if renamed:
            Invoice.objects.bulk_update(renamed, ["pdf"], batch_size=BATCH_SIZE)
    counts["seconds"] = round(time.monotonic() - started, 3)
    return counts


def accounts_of_run(run: BillingRun) -> list[int]:
    """Accounts charged by ``run``: its ledger charge entries (the charge lines when it posted none).
    One scan per batch job — the run's foreign keys carry no index, and the job then renders a PDF per
    account, which costs far more."""
    ids = (
        LedgerEntry.objects.filter(run=run, kind=Kind.CHARGE).order_by().values_list("account_id", flat=True)
    )
    found = sorted(set(ids))
    if not found:
        found = sorted(set(Charge.objects.filter(run=run).order_by().values_list("account_id", flat=True)))
    return found


@job("billing.invoices")
def invoices_job(run_id: int | None = None, period: str | None = None) -> dict[str, Any]:
    """Invoices and PDFs for a billing run (``run_id``) or for every account charged in ``period``."""
    run = None
    if run_id is not None:
        run = BillingRun.objects.get(pk=run_id)
        target = run.period
        ids = accounts_of_run(run)
    elif period is not None:
        target = parse_period(period)
        ids = sorted(
            set(
                LedgerEntry.objects.filter(kind=Kind.CHARGE, period=target)
                .values_list("account_id", flat=True)
                .distinct()
            )
        )
    else:
        raise ValueError("billing.invoices needs run_id or period")
    counts = generate(ids, target, run=run)
    counts["period"] = f"{target:%Y-%m}"
    return counts


def _on_run_finished(run_id: int, **payload: Any) -> None:
    from okno.core.jobs import enqueue

    enqueue("billing.invoices", run_id=run_id)


def connect() -> None:
    """Subscribe the invoice batch to ``billing.run_finished`` (called from the app's ``ready()``)."""
    events.subscribe("billing.run_finished", _on_run_finished)
