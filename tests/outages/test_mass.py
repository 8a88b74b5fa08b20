"""Mass-outage mode: local authorities told, an announcement for callers, and its end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from okno.notify.models import Notice
from okno.outages import actions, mass
from okno.outages.models import Announcement, LocalAuthority, OutageSettings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def authorities(org):
    town = LocalAuthority.objects.create(
        branch=org.a, name="Администрация г. Северска", settlement="Северск", email="glava@seversk.example"
    )
    district = LocalAuthority.objects.create(
        branch=org.a, name="Администрация Северного района", district="Северный район", phone="+79120000001"
    )
    LocalAuthority.objects.create(
        branch=org.a,
        name="Администрация с. Берёзовка",
        settlement="Берёзовка",
        email="glava@berezovka.example",
    )
    return town, district


def test_a_large_outage_enters_mass_mode(grid, org, authorities):
    OutageSettings.objects.create(mass_threshold=5)
    etr = timezone.now() + dt.timedelta(hours=6)
    outage = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a, etr=etr, cause="weather")
    outage.refresh_from_db()
    assert outage.mass_mode_at is not None
    ann = Announcement.objects.get(outage=outage)
    assert ann.settlements == ["Северск"]
    assert timezone.localtime(etr, org.a.tz).strftime("%d.%m.%Y %H:%M") in ann.text
    assert "Северск" in ann.text_en
    assert [a.pk for a in mass.active_announcements(settlement="Северск")] == [ann.pk]
    assert mass.active_announcements(settlement="Берёзовка") == []
    # The town's head by e-mail and the district's by SMS; Берёзовка is not affected by Ф-1.
    sent = sorted(
        Notice.objects.filter(event__key=f"outage:{outage.pk}:mass").values_list("channel", "recipient")
    )
    assert sent == [("email", "glava@seversk.example"), ("sms", "+79120000001")]

    later = timezone.now() + dt.timedelta(hours=8)
    actions.change_etr(outage, etr=later, actor=org.dispatcher_a)
    ann.refresh_from_db()
    assert timezone.localtime(later, org.a.tz).strftime("%d.%m.%Y %H:%M") in ann.text

    actions.restore(outage, actor=org.dispatcher_a)
    ann.refresh_from_db()
    assert ann.active_until is not None
    assert mass.active_announcements(settlement="Северск") == []
    assert Notice.objects.filter(event__key=f"outage:{outage.pk}:mass-end").count() == 2


def test_a_small_outage_does_not(grid, org, authorities):
    OutageSettings.objects.create(mass_threshold=5)
    outage = actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a)  # 4 customers
    outage.refresh_from_db()
    assert outage.mass_mode_at is None
    assert not Announcement.objects.exists()
