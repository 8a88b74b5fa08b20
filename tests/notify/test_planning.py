"""Fan-out planning: matching by account and building, consent, one notice per person, quiet hours."""

from __future__ import annotations

import datetime as dt

import pytest

from okno.customers import actions as customer_actions
from okno.customers.models import Address, ServicePoint
from okno.notify import actions
from okno.notify.choices import NoticeStatus, SkipReason
from okno.notify.models import Notice, NotifySettings
from okno.notify.planning import notify_customer, notify_direct, plan
from okno.notify.quiet import send_time, zone
from tests.conftest import aware
from tests.notify.notify_helpers import make_customer, subscribe_account

pytestmark = pytest.mark.django_db
NOON = aware(2026, 11, 24, 12, 0)  # 12:00 Moscow, 14:00 Yekaterinburg: nobody's quiet hours


def ctx(org, **extra):
    base = {
        "outage_id": 1,
        "number": "А-1",
        "kind": "unplanned",
        "node": "ТП-11",
        "settlements": ["Северск"],
        "reason": "",
        "start": aware(2026, 11, 24, 10, 0),
        "end": None,
        "etr": aware(2026, 11, 24, 14, 0),
        "restored_at": None,
        "branch_id": org.a.pk,
    }
    base.update(extra)
    return base


def points(*customers):
    return [c.account.service_point_id for c in customers]


def test_subscriber_with_consent_gets_one_notice_on_the_first_channel_of_the_order(org):
    c = make_customer(org, phone="+79120000001", email="one@example.ru")
    subscribe_account(org, c, phone="+7 912 000-00-01", email="One@Example.ru")
    counts = plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)
    assert counts == {"planned": 1, "skipped_consent": 0, "deferred_quiet": 0, "duplicates": 0}
    notice = Notice.objects.get()
    # push, messenger, sms, email: no push or messenger contact, so SMS.
    assert (notice.channel, notice.recipient, notice.status) == ("sms", "+79120000001", NoticeStatus.QUEUED)
    assert notice.dedup_key == f"c:{c.pk}"
    assert notice.customer_id == c.pk and notice.branch_id == org.a.pk


def test_preferred_channel_wins(org):
    c = make_customer(org)
    subscribe_account(org, c, phone="+79120000002", email="two@example.ru", preferred_channel="email")
    plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)
    assert Notice.objects.get().channel == "email"


def test_without_consent_the_notice_is_skipped_with_the_reason(org):
    c = make_customer(org, consent=None)
    subscribe_account(org, c, phone="+79120000003")
    counts = plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)
    assert counts["planned"] == 0 and counts["skipped_consent"] == 1
    notice = Notice.objects.get()
    assert (notice.status, notice.skip_reason) == (NoticeStatus.SKIPPED, SkipReason.NO_CONSENT)


def test_withdrawn_consent_counts_as_none(org):
    c = make_customer(org, consent=None)
    consent = customer_actions.give_consent(c, channel="any", purpose="service_notices", actor=org.admin)
    customer_actions.withdraw_consent(consent, actor=org.admin)
    subscribe_account(org, c, phone="+79120000004")
    assert plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)["skipped_consent"] == 1


def test_consent_for_another_purpose_does_not_count(org):
    c = make_customer(org, consent=None)
    customer_actions.give_consent(c, channel="any", purpose="marketing", actor=org.admin)
    subscribe_account(org, c, phone="+79120000005")
    assert plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)["skipped_consent"] == 1


def test_consent_per_channel_picks_the_consented_channel(org):
    # SMS comes before e-mail in the order, but only e-mail is consented to.
    c = make_customer(org, consent="email")
    subscribe_account(org, c, phone="+79120000006", email="six@example.ru")
    counts = plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)
    assert counts["planned"] == 1
    assert Notice.objects.get().channel == "email"


def test_phone_consent_allows_sms(org):
    c = make_customer(org, consent="phone")
    subscribe_account(org, c, phone="+79120000007", email="seven@example.ru")
    plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)
    assert Notice.objects.get().channel == "sms"


def test_replan_creates_nothing_new(org):
    c1 = make_customer(org)
    c2 = make_customer(org, flat="2")
    subscribe_account(org, c1, phone="+79120000011")
    subscribe_account(org, c2, email="c2@example.ru")
    assert plan("o:1:start", "outage_unplanned", points(c1), ctx(org), now=NOON)["planned"] == 1
    again = plan("o:1:start", "outage_unplanned", points(c1, c2), ctx(org), now=NOON)
    assert again == {"planned": 1, "skipped_consent": 0, "deferred_quiet": 0, "duplicates": 1}
    assert Notice.objects.count() == 2
    # Another event is another notice for the same people.
    assert plan("o:1:restored", "outage_restored", points(c1, c2), ctx(org), now=NOON)["planned"] == 2


def test_one_notice_per_customer_across_subscriptions_and_channels(org):
    c = make_customer(org, street="ул. Лесная", house="7", flat="3")
    subscribe_account(org, c, email="many@example.ru")
    address = c.account.service_point.address
    actions.subscribe(actor=org.admin, customer=c, address=address, phone="+79120000012", push=None)
    counts = plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)
    assert counts["planned"] == 1 and counts["duplicates"] == 1
    assert Notice.objects.get().channel == "sms"  # the better channel of the two subscriptions


def test_building_subscription_matches_any_flat_of_the_house(org):
    neighbour = make_customer(org, street="ул. Речная", house="2", flat="9")
    address = Address(settlement="Северск", street="ул. Речная", house="2", region="Тестовая область")
    sub = actions.subscribe(actor=None, source="public", address=address, email="anon@example.ru")
    # Double opt-in: not confirmed yet, so nothing is planned for it.
    assert sub.confirmed_at is None
    assert plan("o:1:start", "outage_unplanned", points(neighbour), ctx(org), now=NOON)["planned"] == 0
    assert actions.confirm(sub)
    counts = plan("o:1:restored", "outage_restored", points(neighbour), ctx(org), now=NOON)
    assert counts["planned"] == 1
    notice = Notice.objects.get(event__key="o:1:restored")
    assert (notice.dedup_key, notice.customer_id, notice.branch_id) == (
        "email:anon@example.ru",
        None,
        org.a.pk,
    )


def test_building_subscription_ignores_other_houses(org):
    other = make_customer(org, street="ул. Речная", house="4")
    make_customer(org, street="ул. Речная", house="2")
    address = Address(settlement="Северск", street="ул. Речная", house="2")
    sub = actions.subscribe(actor=None, source="public", address=address, email="anon2@example.ru")
    actions.confirm(sub)
    assert plan("o:1:start", "outage_unplanned", points(other), ctx(org), now=NOON)["planned"] == 0


def test_anonymous_on_the_same_contact_as_a_customer_is_told_once(org):
    c = make_customer(org, street="ул. Полевая", house="1")
    subscribe_account(org, c, email="same@example.ru")
    sub = actions.subscribe(
        actor=None, source="public", address=c.account.service_point.address, email="SAME@example.ru"
    )
    actions.confirm(sub)
    counts = plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)
    assert counts["planned"] == 1 and counts["duplicates"] == 1
    assert (
        Notice.objects.get(event__key="o:1:start").customer_id == c.pk
    )  # the customer's own subscription wins the contact


def test_unsubscribed_and_inactive_subscriptions_are_not_planned(org):
    c = make_customer(org)
    sub = subscribe_account(org, c, phone="+79120000013")
    actions.unsubscribe(sub)
    assert plan("o:1:start", "outage_unplanned", points(c), ctx(org), now=NOON)["planned"] == 0


def test_queryset_of_points_works_like_a_list(org):
    cs = [make_customer(org, flat=str(i)) for i in range(3)]
    for i, c in enumerate(cs):
        subscribe_account(org, c, phone=f"+7912000002{i}")
    qs = ServicePoint.objects.filter(pk__in=points(*cs)).values_list("pk", flat=True)
    assert plan("o:1:start", "outage_unplanned", qs, ctx(org), now=NOON)["planned"] == 3


# Quiet hours, worked by hand. 19:30 UTC on 24.11.2026 is 22:30 in Moscow (UTC+3, quiet: wait for
# 08:00 MSK on the 25th = 05:00 UTC) and 00:30 on the 25th in Yekaterinburg (UTC+5, quiet: wait for
# 08:00 YEKT on the 25th = 03:00 UTC). 04:30 UTC is 07:30 in Moscow (quiet until 08:00 the same day =
# 05:00 UTC) and 09:30 in Yekaterinburg (daytime: at once).
@pytest.mark.parametrize(
    ("now_utc", "moscow_due_utc", "yekaterinburg_due_utc"),
    [
        (
            dt.datetime(2026, 11, 24, 19, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC),
        ),
        (
            dt.datetime(2026, 11, 24, 4, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.UTC),
            None,
        ),
        (
            dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC),
            None,
            dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC),
        ),
    ],
)
def test_quiet_hours_in_moscow_and_yekaterinburg(org, now_utc, moscow_due_utc, yekaterinburg_due_utc):
    msk = make_customer(org, branch="a")
    yek = make_customer(org, branch="b")
    subscribe_account(org, msk, phone="+79120000031")
    subscribe_account(org, yek, phone="+79120000032")
    counts = plan(
        "o:2:planned", "outage_planned_ahead", points(msk, yek), ctx(org, kind="planned"), now=now_utc
    )
    assert counts["planned"] == 2
    assert counts["deferred_quiet"] == (moscow_due_utc is not None) + (yekaterinburg_due_utc is not None)
    for customer, due in ((msk, moscow_due_utc), (yek, yekaterinburg_due_utc)):
        notice = Notice.objects.get(customer=customer)
        if due is None:
            assert (notice.status, notice.due_at) == (NoticeStatus.QUEUED, now_utc)
        else:
            assert (notice.status, notice.due_at) == (NoticeStatus.SCHEDULED, due)


def test_emergency_sms_and_night_email_go_at_once(org):
    night = dt.datetime(2026, 11, 24, 21, 0, tzinfo=dt.UTC)  # 00:00 Moscow
    sms = make_customer(org)
    mail = make_customer(org, flat="2")
    subscribe_account(org, sms, phone="+79120000041")
    subscribe_account(org, mail, email="night@example.ru")
    counts = plan("o:3:start", "outage_unplanned", points(sms, mail), ctx(org), emergency=True, now=night)
    assert counts["deferred_quiet"] == 0
    counts = plan("o:3:restored", "outage_restored", points(sms, mail), ctx(org), now=night)
    assert counts["deferred_quiet"] == 1  # the SMS; e-mail never waits
    assert Notice.objects.get(event__key="o:3:restored", channel="email").status == NoticeStatus.QUEUED


def test_quiet_hours_follow_the_settings_row(org):
    NotifySettings.objects.create(quiet_start=dt.time(23, 0), quiet_end=dt.time(7, 0))
    c = make_customer(org)
    subscribe_account(org, c, phone="+79120000051")
    at_2230_msk = dt.datetime(2026, 11, 24, 19, 30, tzinfo=dt.UTC)
    assert plan("o:4:etr", "outage_etr_changed", points(c), ctx(org), now=at_2230_msk)["deferred_quiet"] == 0


def test_send_time_window_that_does_not_wrap_midnight():
    tz = zone("Europe/Moscow")
    at_0130 = dt.datetime(2026, 3, 1, 1, 30, tzinfo=tz)
    assert send_time(at_0130, tz, channel="sms", emergency=False, start=dt.time(1, 0), end=dt.time(6, 0)) == (
        dt.datetime(2026, 3, 1, 6, 0, tzinfo=tz)
    )
    at_0630 = dt.datetime(2026, 3, 1, 6, 30, tzinfo=tz)
    assert (
        send_time(at_0630, tz, channel="sms", emergency=False, start=dt.time(1, 0), end=dt.time(6, 0)) is None
    )


def test_notify_direct_needs_no_subscription_and_dedups(org):
    c = make_customer(org)
    subscribe_account(org, c, phone="+79120000061")
    plan("o:5:mass", "outage_unplanned", points(c), ctx(org), now=NOON)
    counts = notify_direct(
        "o:5:mass",
        "mass_outage_authority",
        [
            ("email", "Head@Admin.ru", "ru"),
            ("sms", "8 912 000-00-61", "ru"),
            ("email", "head@admin.ru", "en"),
        ],
        ctx(org),
    )
    # The SMS number is the subscriber's, already told of this event; the e-mail twice is one notice.
    assert counts["planned"] == 1 and counts["duplicates"] == 2
    notice = Notice.objects.get(dedup_key="email:head@admin.ru")
    assert (notice.customer_id, notice.status, notice.subscription_id) == (None, NoticeStatus.QUEUED, None)


def test_a_reporter_skipped_for_consent_is_still_told_by_notify_customer(org):
    c = make_customer(org, consent=None)
    subscribe_account(org, c, email="skip@example.ru")
    assert plan("o:7:off", "outage_unplanned", points(c), ctx(org), now=NOON)["skipped_consent"] == 1
    skipped = Notice.objects.get()
    counts = notify_customer(
        "o:7:off",
        "outage_unplanned",
        channel="sms",
        contact="8 912 000-00-71",
        context=ctx(org),
        customer_id=c.pk,
        now=NOON,
    )
    assert counts["planned"] == 1 and counts["duplicates"] == 0
    # One row per person per event (the unique (event, key)): the skipped row now carries the SMS.
    told = Notice.objects.get()
    assert told.pk == skipped.pk and told.dedup_key == f"c:{c.pk}"
    assert (told.channel, told.recipient, told.status, told.skip_reason) == (
        "sms",
        "+79120000071",
        NoticeStatus.QUEUED,
        "",
    )
    assert told.subscription_id is None and told.customer_id == c.pk
    # Told once: the next report of the same person adds nothing, and a re-plan neither.
    again = notify_customer(
        "o:7:off",
        "outage_unplanned",
        channel="sms",
        contact="+79120000071",
        context=ctx(org),
        customer_id=c.pk,
        now=NOON,
    )
    assert again["duplicates"] == 1 and again["planned"] == 0
    assert plan("o:7:off", "outage_unplanned", points(c), ctx(org), now=NOON)["duplicates"] == 1
    assert Notice.objects.count() == 1


def test_a_skipped_notice_on_the_same_contact_does_not_block_another_reporter(org):
    c = make_customer(org, consent=None)
    subscribe_account(org, c, phone="+79120000072")
    plan("o:8:off", "outage_unplanned", points(c), ctx(org), now=NOON)
    # An anonymous reporter on the phone the subscriber gave (never written to: skipped).
    counts = notify_customer(
        "o:8:off", "outage_unplanned", channel="sms", contact="+79120000072", context=ctx(org), now=NOON
    )
    assert counts["planned"] == 1
    rows = sorted(Notice.objects.values_list("dedup_key", "status"))
    assert rows == [(f"c:{c.pk}", NoticeStatus.SKIPPED), ("sms:+79120000072", NoticeStatus.QUEUED)]


def test_a_notice_already_planned_for_the_person_is_not_doubled_by_notify_customer(org):
    c = make_customer(org)
    subscribe_account(org, c, email="told@example.ru")
    plan("o:9:off", "outage_unplanned", points(c), ctx(org), now=NOON)
    counts = notify_customer(
        "o:9:off",
        "outage_unplanned",
        channel="sms",
        contact="+79120000073",
        context=ctx(org),
        customer_id=c.pk,
        now=NOON,
    )
    assert counts["duplicates"] == 1
    assert list(Notice.objects.values_list("channel", "status")) == [("email", NoticeStatus.QUEUED)]
