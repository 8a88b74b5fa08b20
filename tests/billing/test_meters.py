"""Meters: installation with the initial reading, one meter in service per account, replacement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from okno.billing.models import Meter, Reading
from okno.billing.readings import ReadingRefused, install_meter, replace_meter, submit_reading
from okno.core.models import ChangeLog
from tests.conftest import aware


def _install(account, actor, **kw):
    fields = {
        "model": "Меркурий 231",
        "serial": "T-100",
        "zones": 2,
        "integer_digits": 6,
        "fraction_digits": 2,
        "installed_on": dt.date(2025, 3, 28),
        "initial_values": ["12.34", "5"],
        "verified_on": dt.date(2025, 1, 10),
        "location": "Щит на этаже",
    }
    fields.update(kw)
    return install_meter(account=account, actor=actor, **fields)


def test_install_creates_the_meter_and_its_initial_reading(customers, org, tariffs):
    meter = _install(customers.acc_romashka, org.admin)

    assert (meter.status, meter.zones, meter.serial, meter.verification_due) == (
        "active",
        2,
        "T-100",
        dt.date(2041, 1, 10),
    )
    initial = Reading.objects.get(meter=meter)
    # The initial reading counts for the month of installation even after the 25th.
    assert (initial.kind, initial.period, initial.taken_on, initial.t1_wh, initial.t2_wh) == (
        "initial",
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 28),
        12_340,
        5_000,
    )
    assert ChangeLog.objects.filter(
        object_type="billing.meter", object_id=str(meter.pk), action="create"
    ).exists()


def test_only_one_meter_in_service_per_account(customers, org, tariffs):
    _install(customers.acc_romashka, org.admin)

    with pytest.raises(ValidationError) as exc:
        _install(customers.acc_romashka, org.admin, serial="T-101")

    assert exc.value.message_dict == {"serial": ["The account already has a meter in service; replace it."]}
    assert Meter.objects.filter(account=customers.acc_romashka).count() == 1


def test_install_checks_the_initial_values(customers, org, tariffs):
    with pytest.raises(ReadingRefused) as exc:
        _install(customers.acc_romashka, org.admin, initial_values=["12.34"])

    assert (exc.value.code, exc.value.field) == ("zones_mismatch", "initial_values")
    assert not Meter.objects.filter(account=customers.acc_romashka).exists()


def test_replacement_closes_the_old_meter_and_opens_the_new(metered, org):
    new = replace_meter(
        meter=metered.meter,
        actor=org.head_a,
        on=dt.date(2025, 4, 10),
        final_values=["1234.5"],
        model="Нева МТ 124",
        serial="N-77",
        zones=2,
        integer_digits=6,
        fraction_digits=1,
        initial_values=["0.3", "0.1"],
    )

    old = Meter.objects.get(pk=metered.meter.pk)
    assert (old.status, old.removed_on, old.replaced_by) == ("removed", dt.date(2025, 4, 10), new)
    final = Reading.objects.get(meter=old, kind="final")
    assert (final.t1_wh, final.period, final.status) == (1_234_500, dt.date(2025, 4, 1), "accepted")
    initial = Reading.objects.get(meter=new, kind="initial")
    assert (initial.t1_wh, initial.t2_wh, initial.period) == (300, 100, dt.date(2025, 4, 1))
    assert (new.status, new.account_id, new.installed_on) == (
        "active",
        metered.account.pk,
        dt.date(2025, 4, 10),
    )

    # Readings now go to the new meter; the removed one refuses them.
    r = submit_reading(
        account=metered.account,
        values=["10", "4"],
        channel="office",
        taken_on=dt.date(2025, 4, 20),
        now=aware(2025, 5, 1),
    )
    assert r.meter == new
    with pytest.raises(ReadingRefused) as exc:
        submit_reading(
            account=metered.account,
            values=["1300"],
            channel="office",
            taken_on=dt.date(2025, 4, 20),
            meter=old,
            now=aware(2025, 5, 1),
        )
    assert exc.value.code == "meter_removed"


def test_replacement_with_a_wrong_final_reading_changes_nothing(metered, org):
    with pytest.raises(ReadingRefused) as exc:
        replace_meter(
            meter=metered.meter,
            actor=org.head_a,
            on=dt.date(2025, 4, 10),
            final_values=["900"],
            model="Нева МТ 124",
            serial="N-77",
            zones=1,
            integer_digits=6,
            fraction_digits=1,
            initial_values=["0"],
        )

    assert exc.value.code == "lower_than_previous"
    assert Meter.objects.get(pk=metered.meter.pk).status == "active"
    assert Meter.objects.filter(account=metered.account).count() == 1
    assert Reading.objects.filter(account=metered.account).count() == 1


def test_replacement_with_wrong_initial_values_rolls_back(metered, org):
    with pytest.raises(ReadingRefused) as exc:
        replace_meter(
            meter=metered.meter,
            actor=org.head_a,
            on=dt.date(2025, 4, 10),
            final_values=["1200"],
            model="Нева МТ 124",
            serial="N-77",
            zones=1,
            integer_digits=5,
            fraction_digits=1,
            initial_values=["123456"],
        )

    assert (exc.value.code, exc.value.field) == ("too_many_digits", "initial_values")
    assert Meter.objects.get(pk=metered.meter.pk).status == "active"
    assert not Reading.objects.filter(kind="final").exists()
