"""What subscribers and reporters hear of an outage: one notice per step, reporters told the ETR,
quiet hours for the restoration SMS, momentary outages, and the minute tick's notices and conflicts."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from okno.appeals.actions import register_appeal
from okno.customers.models import Consent
from okno.notify import actions as notify_actions
from okno.notify.models import Notice, NoticeEvent
from okno.outages import actions
from okno.outages.choices import OutageEventType, OutageStatus
from okno.outages.tasks import day_notice_time, tick

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(org, account, **contacts):
    Consent.objects.create(customer=account.customer, channel="any", purpose="service_notices")
    return notify_actions.subscribe(actor=org.admin, customer=account.customer, account=account, **contacts)


def keys_for(outage) -> list[str]:
    return sorted(
        NoticeEvent.objects.filter(key__startswith=f"outage:{outage.pk}:").values_list("key", flat=True)
    )


def test_each_restoration_step_tells_only_its_own_customers_with_its_own_time(grid, org):
    north = grid.accounts["ТП-11"][0]  # Северск
    south = grid.accounts["ТП-21"][0]  # Берёзовка
    subscribe(org, north, email="north@example.ru")
    subscribe(org, south, email="south@example.ru")
    start = timezone.now() - dt.timedelta(hours=2)
    outage = actions.register_unplanned(
        node=grid.tp11, extra_nodes=[grid.tp21], actor=org.dispatcher_a, started_at=start
    )
    first = timezone.now() - dt.timedelta(minutes=30)
    actions.restore_nodes(outage, node_ids=[grid.tp11.pk], actor=org.dispatcher_a, at=first)
    step = NoticeEvent.objects.get(key=f"outage:{outage.pk}:restored:{grid.tp11.pk}")
    assert step.context["settlements"] == ["Северск"]
    assert dt.datetime.fromisoformat(step.context["restored_at"]) == first
    assert list(Notice.objects.filter(event=step).values_list("recipient", flat=True)) == ["north@example.ru"]
    actions.restore(outage, actor=org.dispatcher_a)
    last = NoticeEvent.objects.get(key=f"outage:{outage.pk}:restored:{grid.tp21.pk}")
    assert last.context["settlements"] == ["Берёзовка"]
    assert list(Notice.objects.filter(event=last).values_list("recipient", flat=True)) == ["south@example.ru"]
    # Nobody heard "restored" twice.
    restored = Notice.objects.filter(event__key__contains=":restored").values_list("recipient", flat=True)
    assert sorted(restored) == ["north@example.ru", "south@example.ru"]


def test_a_momentary_outage_still_says_power_is_back(grid, org):
    subscribe(org, grid.accounts["ТП-21"][0], email="m@example.ru")
    outage = actions.register_unplanned(
        node=grid.tp21, actor=org.dispatcher_a, started_at=timezone.now() - dt.timedelta(minutes=3)
    )
    outage = actions.restore(outage, actor=org.dispatcher_a)
    assert outage.is_momentary is True
    assert keys_for(outage) == [f"outage:{outage.pk}:off", f"outage:{outage.pk}:restored:{grid.tp21.pk}"]


def test_a_reporter_is_told_the_etr_at_once_and_once_only(grid, org, customers):
    acc = customers.acc_ivanov  # under ТП-11; Иванов has a phone and no notice subscription
    subscribe(org, acc, email="ivanov@example.ru")
    outage = actions.register_unplanned(
        node=grid.f1, actor=org.dispatcher_a, etr=timezone.now() + dt.timedelta(hours=2)
    )
    register_appeal(
        channel="contact_center",
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        account=acc,
    )
    # The subscription's notice and the report's would be two: one per person per event.
    assert Notice.objects.filter(event__key=f"outage:{outage.pk}:off", customer=acc.customer).count() == 1
    # An anonymous reporter from the web with a phone gets the SMS with the ETR.
    anon = register_appeal(
        channel="web",
        kind="report",
        topic="outage",
        text="Нет света на Ленина 3",
        actor=org.cc_operator,
        account=grid.accounts["ТП-12"][0],
        contact_phone="+7 912 555-44-33",
    )
    anon.refresh_from_db()
    assert anon.incident_id == outage.incident_id
    sms = Notice.objects.get(event__key=f"outage:{outage.pk}:off", recipient="+79125554433")
    assert sms.channel == "sms"


def test_the_restoration_sms_to_a_reporter_waits_for_the_morning(grid, org, settings):
    outage = actions.register_unplanned(
        node=grid.tp21, actor=org.dispatcher_a, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    appeal = register_appeal(
        channel="sms",
        kind="report",
        topic="outage",
        text="нет света",
        actor=org.cc_operator,
        account=grid.accounts["ТП-21"][1],
        contact_phone="+79127770011",
    )
    appeal.refresh_from_db()
    assert appeal.incident_id == outage.incident_id
    from okno.notify import planning

    night = dt.datetime(2026, 11, 23, 23, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"))
    real = planning.notify_customer

    def at_night(*args, **kwargs):
        kwargs["now"] = night
        return real(*args, **kwargs)

    planning.notify_customer = at_night
    try:
        actions.restore(outage, actor=org.dispatcher_a)
    finally:
        planning.notify_customer = real
    sms = Notice.objects.get(event__key__contains=":restored", recipient="+79127770011")
    # 23:30 in Moscow is quiet: the SMS goes at 08:00 the next morning, and belongs to the customer.
    assert sms.status == "scheduled"
    assert sms.due_at == dt.datetime(2026, 11, 24, 8, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"))
    assert sms.customer_id == grid.accounts["ТП-21"][1].customer_id


def test_a_conflict_on_one_planned_outage_does_not_stop_the_others(grid, org):
    now = timezone.now()
    blocked = actions.schedule_planned(
        node=grid.tp11,
        planned_start=now + dt.timedelta(minutes=10),
        planned_end=now + dt.timedelta(hours=2),
        reason="Ремонт",
        actor=org.dispatcher_a,
    )
    fine = actions.schedule_planned(
        node=grid.tp21,
        planned_start=now + dt.timedelta(minutes=10),
        planned_end=now + dt.timedelta(hours=2),
        reason="Ремонт",
        actor=org.dispatcher_a,
    )
    actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a)  # ТП-11 is off in an accident
    result = tick(now=(now + dt.timedelta(minutes=20)).isoformat())
    assert result["started"] == 1
    assert result["blocked"] == 1
    fine.refresh_from_db()
    blocked.refresh_from_db()
    assert fine.status == OutageStatus.ACTIVE
    assert blocked.status == OutageStatus.SCHEDULED
    assert blocked.events.filter(type=OutageEventType.NOTE, payload__blocked=True).count() == 1
    tick(now=(now + dt.timedelta(minutes=21)).isoformat())
    assert blocked.events.filter(type=OutageEventType.NOTE, payload__blocked=True).count() == 1


def test_the_day_notice_of_early_works_goes_the_evening_before(grid, org):
    tz = org.a.tz
    day = (timezone.localtime(timezone.now(), tz) + dt.timedelta(days=3)).date()
    early = actions.schedule_planned(
        node=grid.tp11,
        planned_start=dt.datetime.combine(day, dt.time(6, 0), tzinfo=tz),
        planned_end=dt.datetime.combine(day, dt.time(9, 0), tzinfo=tz),
        reason="Ремонт",
        actor=org.dispatcher_a,
    )
    late = actions.schedule_planned(
        node=grid.tp21,
        planned_start=dt.datetime.combine(day, dt.time(10, 0), tzinfo=tz),
        planned_end=dt.datetime.combine(day, dt.time(12, 0), tzinfo=tz),
        reason="Ремонт",
        actor=org.dispatcher_a,
    )
    assert day_notice_time(early) == dt.datetime.combine(day - dt.timedelta(days=1), dt.time(18), tzinfo=tz)
    assert day_notice_time(late) == dt.datetime.combine(day, dt.time(7), tzinfo=tz)
    eve = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(18, 1), tzinfo=tz)
    assert tick(now=eve.isoformat())["day_notices"] == 1
    assert NoticeEvent.objects.filter(key=f"outage:{early.pk}:today").exists()
    assert not NoticeEvent.objects.filter(key=f"outage:{late.pk}:today").exists()
    morning = dt.datetime.combine(day, dt.time(7, 1), tzinfo=tz)
    assert tick(now=morning.isoformat())["day_notices"] == 1


def cc_report(org, account):
    return register_appeal(
        channel="contact_center",
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        account=account,
    )


def phone_of(account) -> str:
    return account.customer.contacts.get(kind="phone").value


def test_a_contact_centre_reporter_told_the_etr_by_sms_hears_by_sms_that_power_is_back(grid, org):
    acc = grid.accounts["ТП-21"][0]  # no subscription; the customer has a phone and an e-mail
    outage = actions.register_unplanned(
        node=grid.tp21,
        actor=org.dispatcher_a,
        started_at=timezone.now() - dt.timedelta(hours=1),
        etr=timezone.now() + dt.timedelta(hours=1),
    )
    appeal = cc_report(org, acc)
    etr_sms = Notice.objects.get(event__key=f"outage:{outage.pk}:off", customer=acc.customer)
    assert (etr_sms.channel, etr_sms.recipient) == ("sms", phone_of(acc))
    actions.restore(outage, actor=org.dispatcher_a)
    appeal.refresh_from_db()
    # Answered by phone (the contact centre's channel) and closed, and told by SMS as well.
    assert appeal.status == "closed"
    assert appeal.answers.get().channel == "phone"
    back = Notice.objects.get(event__key=f"outage:{outage.pk}:restored:{grid.tp21.pk}", customer=acc.customer)
    assert (back.channel, back.recipient) == ("sms", phone_of(acc))
    assert back.status != "skipped"


def test_a_reporter_told_by_their_subscription_hears_of_the_restoration_once_the_same_way(grid, org):
    acc = grid.accounts["ТП-21"][1]
    subscribe(org, acc, email="sub@example.ru")
    outage = actions.register_unplanned(
        node=grid.tp21, actor=org.dispatcher_a, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    cc_report(org, acc)
    off = Notice.objects.get(event__key=f"outage:{outage.pk}:off", customer=acc.customer)
    assert (off.channel, off.recipient) == ("email", "sub@example.ru")
    actions.restore(outage, actor=org.dispatcher_a)
    back = Notice.objects.filter(event__key__contains=":restored", customer=acc.customer)
    assert list(back.values_list("channel", "recipient")) == [("email", "sub@example.ru")]


def test_a_subscriber_skipped_for_consent_who_reports_is_told_the_etr(grid, org):
    acc = grid.accounts["ТП-21"][2]
    # Subscribed by e-mail, but no service-notices consent: the fan-out records a skipped notice.
    notify_actions.subscribe(actor=org.admin, customer=acc.customer, account=acc, email="s@example.ru")
    outage = actions.register_unplanned(
        node=grid.tp21, actor=org.dispatcher_a, etr=timezone.now() + dt.timedelta(hours=2)
    )
    skipped = Notice.objects.get(event__key=f"outage:{outage.pk}:off", customer=acc.customer)
    assert (skipped.status, skipped.skip_reason) == ("skipped", "no_consent")
    cc_report(org, acc)
    # The same row (one per person per event) now carries the SMS to the reporter.
    told = Notice.objects.get(event__key=f"outage:{outage.pk}:off", customer=acc.customer)
    assert told.pk == skipped.pk
    assert (told.channel, told.recipient, told.skip_reason) == ("sms", phone_of(acc), "")
    assert told.subscription_id is None
    assert told.status in ("queued", "sending", "sent", "delivered")


def test_works_held_back_by_an_accident_start_when_the_tick_starts_them(grid, org):
    now = timezone.now()
    works = actions.schedule_planned(
        node=grid.tp11,
        planned_start=now + dt.timedelta(minutes=10),
        planned_end=now + dt.timedelta(hours=3),
        reason="Ремонт",
        actor=org.dispatcher_a,
    )
    accident = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a)
    assert tick(now=(now + dt.timedelta(minutes=20)).isoformat())["blocked"] == 1
    actions.restore(accident, actor=org.dispatcher_a)
    moment = now + dt.timedelta(minutes=45)
    assert tick(now=moment.isoformat())["started"] == 1
    works.refresh_from_db()
    assert works.status == OutageStatus.ACTIVE
    # Not backdated to 10 minutes from now, over the time the accident had the node off.
    assert works.started_at == moment
    assert works.nodes.get().off_at == moment
    assert works.events.get(type=OutageEventType.STARTED).time == moment
