"""Read-side selectors of the public site's pages that read other apps' data (offices, customers, tariffs,
outages). Content of the site's own (passports, FAQ, documents) is read through :mod:`okno.content.queries`.
Nothing here returns personal data: customers are only counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.content.models import RegionOutline
from okno.customers.choices import CustomerKind
from okno.customers.models import Customer
from okno.org.models import Branch, Office
from okno.outages.choices import OFF_STATUSES, OutageKind
from okno.outages.models import Outage

STRUCTURE_CACHE_KEY = "okno:site:structure:v1"
STRUCTURE_TTL = 600  # seconds: the structure of customers changes slowly; one GROUP BY per ten minutes


# --- the outage banner ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OutageBanner:
    outages: int
    customers_off: int


def outage_banner() -> OutageBanner:
    """Unplanned outages off now and the customers they keep off, in one aggregate.

    The same outages :func:`okno.outages.public.queries.unplanned_now` lists (unplanned, active or
    partially restored; never a proposed one), counted without computing their addresses, so the home page
    stays one cheap query even in a storm. Customers off: the outages' ``customers_affected``, as the
    dispatcher's board sums them.
    """
    row = Outage.objects.filter(kind=OutageKind.UNPLANNED, status__in=OFF_STATUSES).aggregate(
        n=Count("id"), customers=Sum("customers_affected")
    )
    return OutageBanner(outages=row["n"] or 0, customers_off=row["customers"] or 0)


# --- offices and the territory -------------------------------------------------------------------


@dataclass
class OfficeCard:
    office: Office
    number: int  # the marker's label on the map
    branch: Branch | None
    services: list[str]
    lat: float | None
    lon: float | None

    @property
    def anchor(self) -> str:
        return f"office-{self.office.pk}"

    @property
    def on_map(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def phone_href(self) -> str:
        return "".join(ch for ch in self.office.phone if ch.isdigit() or ch == "+")


@dataclass
class Territory:
    offices: list[OfficeCard]
    outlines: list[RegionOutline]
    branches: list[Branch]
    services: list[str]
    branch: Branch | None = None
    service: str = ""
    total: int = 0
    extra: dict = field(default_factory=dict)


def territory(*, branch_id: int | None = None, service: str = "") -> Territory:
    """Offices (optionally of one branch and offering one service) and the outlines to draw under them.

    Offices of the company's head office (a service centre of category 1, without a branch) are shown
    when no branch is chosen.
    """
    branches = list(Branch.objects.order_by("name"))
    branch = next((b for b in branches if b.pk == branch_id), None) if branch_id else None
    qs = Office.objects.select_related("service_centre__branch").order_by(
        "service_centre__category", "service_centre__branch__name", "name", "pk"
    )
    all_offices = list(qs)
    services = sorted({s for o in all_offices for s in o.service_list()}, key=str.lower)
    if service not in services:
        service = ""  # a service no office offers (an old link): show every office rather than none
    chosen = [
        o
        for o in all_offices
        if (branch is None or o.service_centre.branch_id == branch.pk)
        and (not service or service in o.service_list())
    ]
    cards = [
        OfficeCard(
            office=o,
            number=i,
            branch=o.service_centre.branch,
            services=o.service_list(),
            lat=float(o.latitude) if o.latitude is not None else None,
            lon=float(o.longitude) if o.longitude is not None else None,
        )
        for i, o in enumerate(chosen, start=1)
    ]
    outlines = RegionOutline.objects.select_related("branch").order_by("branch__name")
    if branch is not None:
        outlines = outlines.filter(branch=branch)
    return Territory(
        offices=cards,
        outlines=list(outlines),
        branches=branches,
        services=services,
        branch=branch,
        service=service,
        total=len(all_offices),
    )


# --- the structure of customers --------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    key: str
    label: str
    count: int
    percent: Decimal


@dataclass(frozen=True)
class Structure:
    total: int
    by_kind: list[Share]
    by_branch: list[Share]


def _shares(rows: list[tuple[str, str, int]], total: int) -> list[Share]:
    return [
        Share(
            key=k,
            label=label,
            count=n,
            percent=(Decimal(n * 100) / total).quantize(Decimal("0.1")) if total else Decimal("0.0"),
        )
        for k, label, n in rows
    ]


def _structure_counts() -> dict:
    kinds = dict(Customer.objects.order_by().values_list("kind").annotate(n=Count("id")))
    branches = dict(Customer.objects.order_by().values_list("branch_id").annotate(n=Count("id")))
    return {"kinds": kinds, "branches": branches}


def structure() -> Structure:
    """Customers counted by kind and by branch (two GROUP BYs, cached for :data:`STRUCTURE_TTL`)."""
    counts = cache.get(STRUCTURE_CACHE_KEY)
    if counts is None:
        counts = _structure_counts()
        cache.set(STRUCTURE_CACHE_KEY, counts, STRUCTURE_TTL)
    kinds: dict[str, int] = counts["kinds"]
    per_branch: dict[int | None, int] = counts["branches"]
    total = sum(kinds.values())
    kind_rows = [(k.value, str(k.label), kinds.get(k.value, 0)) for k in CustomerKind]
    names = dict(Branch.objects.values_list("pk", "name"))
    branch_rows = [
        (str(pk), names[pk], per_branch.get(pk, 0)) for pk in sorted(names, key=lambda pk: names[pk])
    ]
    if per_branch.get(None):
        branch_rows.append(("none", _("No branch assigned"), per_branch[None]))
    return Structure(total=total, by_kind=_shares(kind_rows, total), by_branch=_shares(branch_rows, total))


def clear_cache() -> None:
    cache.delete(STRUCTURE_CACHE_KEY)


# --- tariffs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    zone_label: str
    tier: int
    rub: Decimal  # roubles per kWh, exact
    places: int  # decimals to show: 2, or 4 when the price has fractions of a kopeck


@dataclass(frozen=True)
class ZoneRates:
    zone_label: str
    rates: list[RateRow]  # by tier


@dataclass(frozen=True)
class TariffRow:
    category: str
    zones: int
    valid_from: dt.date
    valid_to: dt.date | None
    decision: str
    rates: list[RateRow]
    current: bool
    tiered: bool
    tier1_kwh: int | None = None
    tier2_kwh: int | None = None

    @property
    def by_zone(self) -> list[ZoneRates]:
        """The rates per zone, tiers side by side (``day: 7,82 / 12,51 / 17,98``)."""
        out: dict[str, list[RateRow]] = {}
        for r in self.rates:
            out.setdefault(r.zone_label, []).append(r)
        return [ZoneRates(zone_label=k, rates=v) for k, v in out.items()]


@dataclass(frozen=True)
class RegionTariffs:
    region: str
    rows: list[TariffRow]


def rub_per_kwh(price_e4: int) -> tuple[Decimal, int]:
    """1/10 000 ₽ → roubles, with the decimals worth showing (6.4300 → 6.43, 2; 5.1234 → 5.1234, 4)."""
    value = Decimal(price_e4) / Decimal(10000)
    if price_e4 % 100 == 0:
        return value.quantize(Decimal("0.01")), 2
    return value.quantize(Decimal("0.0001")), 4


def tariffs(*, region: str = "", include_past: bool = False) -> tuple[list[RegionTariffs], list[str]]:
    """Household tariffs by region, category and zones; current and announced ones (all with ``include_past``).

    Returns the regions' tables and the list of every region (for the filter). Empty when billing is not
    installed here (a grid company without the supplier's billing).
    """
    if not apps.is_installed("okno.billing"):
        return [], []
    from okno.billing.models import ZONE_NAMES, Tariff

    today = timezone.localdate()
    regions = sorted(set(Tariff.objects.values_list("region", flat=True)))
    qs = (
        Tariff.objects.select_related("category")
        .prefetch_related("rates")
        .order_by("region", "category__name", "zones", "-valid_from")
    )
    if region:
        qs = qs.filter(region=region)
    if not include_past:
        qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    out: dict[str, list[TariffRow]] = {}
    for t in qs:
        rates = []
        for r in sorted(t.rates.all(), key=lambda r: (r.zone, r.tier)):
            rub, places = rub_per_kwh(r.price_e4)
            label = ZONE_NAMES.get(t.zones, {}).get(r.zone, f"T{r.zone}")
            rates.append(RateRow(zone_label=str(label), tier=r.tier, rub=rub, places=places))
        out.setdefault(t.region, []).append(
            TariffRow(
                category=t.category.name,
                zones=t.zones,
                valid_from=t.valid_from,
                valid_to=t.valid_to,
                decision=t.decision,
                rates=rates,
                current=t.valid_from <= today and (t.valid_to is None or t.valid_to >= today),
                tiered=any(r.tier > 1 for r in rates),
                tier1_kwh=t.tier1_limit_wh // 1000 if t.tier1_limit_wh else None,
                tier2_kwh=t.tier2_limit_wh // 1000 if t.tier2_limit_wh else None,
            )
        )
    return [RegionTariffs(region=k, rows=v) for k, v in out.items()], regions
