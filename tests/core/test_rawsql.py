"""``okno.core.rawsql``: hand-written SELECTs build the same instances as the ORM, with the same Python
types on SQLite and PostgreSQL (dates, datetimes, decimals, booleans, UUIDs, JSON)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import models
from django.utils import timezone

from okno.core import rawsql
from tests.billing.conftest import metered, tariffs  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def _same(built: models.Model, orm: models.Model) -> None:
    assert type(built) is type(orm)
    assert built._state.adding is False and built._state.db == orm._state.db
    for f in orm._meta.concrete_fields:
        mine, theirs = getattr(built, f.attname), getattr(orm, f.attname)
        assert mine == theirs, f.attname
        assert type(mine) is type(theirs), (f.attname, type(mine), type(theirs))


def _fetch_one(model: type[models.Model], pk: int) -> models.Model:
    part = rawsql.Part(model, "x")
    rows = rawsql.fetch(
        f"SELECT {part.columns()} FROM {rawsql.table(model)} x WHERE x.id = %s",  # noqa: S608
        [pk],
        (part,),
    )
    assert len(rows) == 1
    return rows[0][0]


def test_instances_have_the_orms_types(metered):  # noqa: F811  (the fixture imported above)
    from okno.billing.models import Reading
    from okno.customers.models import Address, CabinetUser, ServicePoint

    account = metered.account
    point = account.service_point
    point.max_capacity_kw = Decimal("15.50")
    point.save(update_fields=["max_capacity_kw"])
    address = point.address
    address.fias_guid = uuid.UUID("0c5b2444-70a0-4932-980c-b4dc0d3f02b5")
    address.save(update_fields=["fias_guid"])
    reading = Reading.objects.create(
        meter=metered.meter,
        account=account,
        period=dt.date(2025, 2, 1),
        taken_on=dt.date(2025, 2, 20),
        t1_wh=1_100_000,
        channel=Reading.Channel.CABINET,
        flags=["jump", {"factor": 2.5}],
        submitted_at=timezone.now().replace(microsecond=123456),
    )
    user = CabinetUser(email="x@example.ru", last_login_at=timezone.now(), is_active=False)
    user.set_password("Svet-2026-okno")
    user.save()
    for model, pk in (
        (ServicePoint, point.pk),  # a decimal
        (Address, address.pk),  # a UUID
        (Reading, reading.pk),  # dates, an aware datetime, JSON
        (type(metered.meter), metered.meter.pk),  # a boolean
        (CabinetUser, user.pk),  # a false boolean, a nullable datetime
    ):
        _same(_fetch_one(model, pk), model.objects.get(pk=pk))
    built = _fetch_one(Reading, reading.pk)
    assert built.flags == ["jump", {"factor": 2.5}]
    assert timezone.is_aware(built.submitted_at)
    assert _fetch_one(Address, address.pk).fias_guid == uuid.UUID("0c5b2444-70a0-4932-980c-b4dc0d3f02b5")


def test_attach_sets_the_relation_without_a_query(customers, django_assert_num_queries):
    from okno.customers.models import Account, Customer

    account = _fetch_one(Account, customers.acc_ivanov.pk)
    customer = _fetch_one(Customer, customers.ivanov.pk)
    rawsql.attach(account, "customer", customer)
    with django_assert_num_queries(0):
        assert account.customer is customer
