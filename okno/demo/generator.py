"""``okno seed``: the whole demo load, in one transaction, acting as the system actor ``system:seed``."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.utils import timezone

from okno.appeals.models import (
    Answer,
    Appeal,
    AppealCounter,
    AppealEvent,
    AppealStat,
    Attachment,
    Incident,
    RoutingRule,
)
from okno.appeals.stats import rebuild_stats
from okno.core.context import acting_as
from okno.core.models import ChangeLog
from okno.customers.models import (
    Account,
    Address,
    Consent,
    ContactEvent,
    ContactPoint,
    Customer,
    ServicePoint,
)
from okno.demo.appeals import build_appeals
from okno.demo.billing import BILLING_MODELS, BillingSeed, build_billing
from okno.demo.contact_center import build_contact_center, contact_center_models
from okno.demo.content import seed_content
from okno.demo.grid import GridSeed, build_grid, grid_models
from okno.demo.org import DEMO_PASSWORD, build_org
from okno.demo.people import build_people
from okno.demo.portal import PortalSeed, build_portal, portal_models
from okno.demo.writer import bulk_load, pipeline, reset_sequences
from okno.org.models import (
    Branch,
    Company,
    Department,
    GridDistrict,
    Office,
    ServiceCentre,
    User,
    system_actor,
)

# Business tables in the order they can be emptied (children first).
BULK_MODELS = [
    AppealStat,
    AppealEvent,
    Answer,
    Attachment,
    Appeal,
    Incident,
    AppealCounter,
    ContactEvent,
    Consent,
    ContactPoint,
    Account,
    ServicePoint,
    Customer,
    Address,
]
ORG_MODELS = [RoutingRule, Office, ServiceCentre, GridDistrict, Branch, Company]


class DataExists(Exception):
    """Business data is present and ``--reset`` was not given."""


@dataclass
class SeedResult:
    accounts: int
    customers: int
    appeals: int
    first_numbers: list[str]
    counters: dict[int, int]
    logins: list[tuple[str, str, str]]
    password: str = DEMO_PASSWORD
    seconds: float = 0.0
    stat_rows: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    billing: BillingSeed | None = None
    grid: GridSeed | None = None
    portal: PortalSeed | None = None


def has_business_data() -> bool:
    return Branch.objects.exists() or Customer.objects.exists() or Appeal.objects.exists()


def wipe() -> None:
    """Delete the business data (customers, appeals, billing, organisation, staff); reference data stays."""
    business: list[type[models.Model]] = [
        *contact_center_models(),
        *portal_models(),
        *grid_models(),
        *BILLING_MODELS,
        *BULK_MODELS,
    ]
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in business)
        with connection.cursor() as cursor:
            # Pending foreign-key checks (rows written earlier in this transaction) would block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables} CASCADE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        for model in business:
            model._default_manager.all()._raw_delete(connection.alias)
    User.objects.filter(is_system=False).delete()
    Department.objects.update(parent=None, head=None)
    Department.objects.all().delete()
    for model in ORG_MODELS:
        model._default_manager.all().delete()


def seed(
    *,
    accounts: int,
    appeals: int,
    seed: int,
    reset: bool = False,
    progress: Callable[[str], None] | None = None,
    anchor: dt.datetime | None = None,
    billing_months: int = 0,
    grid: bool = True,
) -> SeedResult:
    """Build the demo company. ``anchor`` (default: today's midnight UTC) ends the year of appeals;
    ``billing_months`` complete months before it are metered, billed and paid (:mod:`okno.demo.billing`);
    ``grid`` adds the topology, a year of outages, the live ones and subscriptions (:mod:`okno.demo.grid`)."""
    say = progress or (lambda message: None)
    started = time.monotonic()
    rng = random.Random(seed)
    if anchor is None:
        anchor = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    actor = system_actor("seed")
    with transaction.atomic(), acting_as(actor):
        if has_business_data():
            if not reset:
                raise DataExists("business data exists")
            wipe()
            say("existing business data deleted")
        org = build_org(rng)
        seed_content()
        say(
            f"organisation: {len(org.branches)} branches, {User.objects.filter(is_system=False).count()} staff"
        )
        with bulk_load(BULK_MODELS, say):
            with pipeline():
                people = build_people(rng, org, accounts, anchor, say)
            t_people = time.monotonic() - started
            with pipeline():
                result = build_appeals(rng, org, people, appeals, anchor, actor.pk, say)
            say("appeals written, rebuilding indexes")
        for year, last in result.counters.items():
            AppealCounter.objects.update_or_create(year=year, defaults={"last": last})
        reset_sequences([*BULK_MODELS, ChangeLog])
        t_appeals = time.monotonic() - started - t_people
        stat_rows = rebuild_stats()
        say(f"statistics rebuilt: {stat_rows} rows")
        t_stats = time.monotonic() - started - t_people - t_appeals
        billing = None
        if billing_months > 0:
            billing = build_billing(
                seed=seed,
                months=billing_months,
                today=anchor.date(),
                actor=actor,
                cashier=User.objects.filter(pk=org.demo_operator_id).first(),
                say=say,
            )
        grid_seed = None
        if grid:
            grid_seed = build_grid(seed=seed, anchor=anchor, actor=actor, say=say)
            org.logins.extend(grid_seed.logins)
        build_contact_center(say)
        out = SeedResult(
            accounts=accounts,
            customers=people.customers,
            appeals=result.count,
            first_numbers=result.first_numbers,
            counters=result.counters,
            logins=org.logins,
            stat_rows=stat_rows,
            billing=billing,
            grid=grid_seed,
            portal=build_portal() if billing is not None else None,
        )
        ChangeLog.objects.create(
            action=ChangeLog.Action.CREATE,
            object_type="demo.seed",
            object_id=str(seed),
            object_repr=f"okno seed --accounts {accounts} --appeals {appeals} --seed {seed}",
            after={
                "accounts": accounts,
                "customers": people.customers,
                "appeals": result.count,
                "reset": reset,
                "billing_months": billing_months,
                "grid": grid,
                "counters": {str(k): v for k, v in result.counters.items()},
            },
            actor=actor,
            actor_name=actor.username,
        )
    out.seconds = time.monotonic() - started
    out.timings = {
        "people": t_people,
        "appeals": t_appeals,
        "stats": t_stats,
        "billing": billing.seconds if billing is not None else 0.0,
        "grid": grid_seed.seconds if grid_seed is not None else 0.0,
    }
    return out
