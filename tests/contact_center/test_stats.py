"""Contact-centre statistics, checked against a worked example computed by hand.

The hour 09:00–10:00 (Moscow) of queue ``general`` (norm 20 s), short abandons under 5 s:

===  =========  ==========================================  ====  ====  ====
call entered    what happened                               wait  talk  wrap
===  =========  ==========================================  ====  ====  ====
1    09:00:00   alice answers 09:00:10, hangs up 09:04:10   10    240   30
2    09:10:00   bob answers 09:10:30, hangs up 09:13:30     30    180   30
3    09:20:00   caller hangs up 09:20:03 (short abandon)    3
4    09:25:00   caller hangs up 09:26:00 (abandon)          60
5    09:30:00   caller asks for a callback 09:30:45         45
6    09:35:00   alice answers 09:35:20, hangs up 09:38:20   20    180   60
7    09:50:00   call 5's callback: alice calls out, 2 min   1200  120   30
===  =========  ==========================================  ====  ====  ====

offered 6 (the callback stays offered); answered 4 (call 5 counts as answered when its callback is
connected, 1,200 s after its entry), within 20 s 2 (calls 1 and 6: 20 s counts); SL = 2 / (6 − 1 short)
= 40 %; ASA = (10 + 30 + 20 + 1200) / 4 = 315 s; abandonment 1/6; AHT = (720 talk + 150 wrap) / 4
= 217.5 s. FCR: Romashka's billing appeal is repeated on the web two days later (any channel counts);
Иванов's is not (his web appeal on the same topic comes after 7 days, his call two days later is about
billing): 1 of 2.
Staffed: alice logged on at 08:30, paused 09:40–09:50 → 50 min; bob 09:10–09:40 → 30 min; 4,800 s.
Handling: alice 270 + 240 + 150 = 660 s, bob 210 s; occupancy 870 / 4,800 = 18.125 %.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from okno.appeals.models import Appeal
from okno.contact_center import stats
from okno.contact_center.models import Agent, Call, Callback, CallEvent, Queue, Skill

pytestmark = pytest.mark.django_db

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def at(hh, mm, ss=0, day=2):
    return dt.datetime(2026, 3, day, hh, mm, ss, tzinfo=MSK)


START, END = at(9, 0), at(10, 0)


@pytest.fixture
def hour(org, customers, register):
    general = Queue.objects.create(code="general", name="General", target_answer_s=20)
    billing = Queue.objects.create(code="billing", name="Billing", target_answer_s=30)
    alice = Agent.objects.create(user=org.cc_operator, extension="101")
    bob = Agent.objects.create(user=org.operator_a, extension="102")
    Skill.objects.create(agent=alice, queue=general)
    Skill.objects.create(agent=bob, queue=general)
    Skill.objects.create(agent=bob, queue=billing, penalty=1)

    def state(agent, event, when, queue="general"):
        CallEvent.objects.create(at=when, queue=queue, agent=agent, event=event, data=[])

    state("PJSIP/101", "ADDMEMBER", at(8, 30))
    state("PJSIP/101", "PAUSE", at(9, 40))
    state("PJSIP/101", "UNPAUSE", at(9, 50))
    for queue in ("general", "billing"):  # one event per queue, one timeline per agent
        state("PJSIP/102", "ADDMEMBER", at(9, 10), queue)
        state("PJSIP/102", "REMOVEMEMBER", at(9, 40), queue)

    def call(entered, *, agent=None, answered=None, ended=None, wrapped=None, outcome="answered", **kw):
        return Call.objects.create(
            queue=kw.pop("queue", general),
            caller="+79990000000",
            started_at=entered - dt.timedelta(seconds=30),
            enqueued_at=entered,
            agent=agent,
            answered_at=answered,
            ended_at=ended,
            wrapup_ended_at=wrapped,
            outcome=outcome,
            **kw,
        )

    a1 = register(received_at=at(9, 3))
    a2 = register(account=customers.acc_romashka, topic="billing", received_at=at(9, 37))
    c1 = call(
        at(9, 0), agent=alice, answered=at(9, 0, 10), ended=at(9, 4, 10), wrapped=at(9, 4, 40), appeal=a1
    )
    call(at(9, 10), agent=bob, answered=at(9, 10, 30), ended=at(9, 13, 30), wrapped=at(9, 14))
    call(at(9, 20), ended=at(9, 20, 3), outcome="abandoned")
    call(at(9, 25), ended=at(9, 26), outcome="abandoned")
    c5 = call(at(9, 30), ended=at(9, 30, 45), outcome="callback")
    callback = Callback.objects.create(
        call=c5, number=c5.caller, queue=general, requested_at=at(9, 30, 45), status="done", attempts=1
    )
    call(
        at(9, 35), agent=alice, answered=at(9, 35, 20), ended=at(9, 38, 20), wrapped=at(9, 39, 20), appeal=a2
    )
    Call.objects.create(
        direction="outbound",
        queue=general,
        agent=alice,
        called="+79990000000",
        started_at=at(9, 50),
        answered_at=at(9, 50),
        ended_at=at(9, 52),
        wrapup_ended_at=at(9, 52, 30),
        outcome="answered",
        ivr_state={"callback": callback.pk, "callback_of": str(c5.uid)},
    )
    call(at(10, 5), agent=bob)  # after the hour
    # Romashka writes on the web about billing two days later: call 6 did not resolve it (any channel
    # counts). Иванов writes on the web about the same outage after 7 days and calls about billing
    # (another topic): no repeat.
    register(account=customers.acc_romashka, topic="billing", channel="web", received_at=at(12, 0, day=4))
    register(channel="web", received_at=at(12, 0, day=10))
    register(topic="billing", received_at=at(12, 0, day=3))
    for appeal in Appeal.objects.all():  # the appeals were registered when they were received
        Appeal.objects.filter(pk=appeal.pk).update(registered_at=appeal.received_at)
    return type("Hour", (), {"general": general, "alice": alice, "bob": bob, "c1": c1})


def test_worked_example_by_queue(hour):
    report = stats.report(START, END, by="queue", tz=MSK, now=at(12, 0, day=20))
    general = {r.key: r for r in report.rows}["general"]
    for row in (general, report.total):
        assert (row.offered, row.answered, row.answered_within) == (6, 4, 2)
        assert (row.short_abandons, row.abandoned, row.callbacks) == (1, 1, 1)
        assert row.service_level == pytest.approx(0.4)
        assert row.asa_s == pytest.approx(315.0)
        assert row.abandon_rate == pytest.approx(1 / 6)
        assert row.handled == 4 and row.aht_s == pytest.approx(217.5)
        assert (row.fcr_appeals, row.fcr_resolved) == (2, 1)
        assert row.max_wait_s == pytest.approx(1200.0)
    assert report.total.staffed_s == pytest.approx(4800)
    assert report.total.handling_s == pytest.approx(870)
    assert report.total.occupancy == pytest.approx(0.18125)
    # general's members are alice and bob: the same; billing's member bob: 210 s over 1,800 s
    assert general.occupancy == pytest.approx(0.18125)
    billing = {r.key: r for r in report.rows}["billing"]
    assert billing.offered == 0 and billing.occupancy == pytest.approx(210 / 1800)
    assert report.service_level_variant == (
        "answered within each queue's norm / (offered − abandoned within 5 s); "
        "a callback counts as answered when connected"
    )
    assert not report.fcr_provisional


def test_one_target_for_the_report_changes_the_service_level(hour):
    report = stats.report(START, END, target_s=30, short_abandon_s=2, tz=MSK, now=at(12, 0, day=20))
    # within 30 s: calls 1, 2 and 6; the 3 s hang-up is now a real abandon
    assert report.total.answered_within == 3 and report.total.abandoned == 2
    assert report.total.service_level == pytest.approx(3 / 6)
    assert "answered within 30 s / (offered − abandoned within 2 s" in report.service_level_variant


def test_worked_example_by_interval_in_the_branch_zone(hour):
    report = stats.report(START, END, by="interval", tz=MSK, now=at(12, 0, day=20))
    first, second = report.rows
    assert (first.label, second.label) == ("2026-03-02 09:00", "2026-03-02 09:30")
    assert (first.offered, first.answered, first.answered_within, first.short_abandons) == (4, 2, 1, 1)
    assert first.service_level == pytest.approx(1 / 3)
    assert first.staffed_s == pytest.approx(3000) and first.handling_s == pytest.approx(480)
    assert first.occupancy == pytest.approx(0.16)
    assert (second.offered, second.callbacks, second.answered, second.answered_within) == (2, 1, 2, 1)
    assert second.service_level == pytest.approx(0.5)
    assert second.staffed_s == pytest.approx(1800) and second.handling_s == pytest.approx(390)
    # the same hour in Yekaterinburg (UTC+5) is 11:00–12:00
    ekb = stats.report(START, END, by="interval", tz=zoneinfo.ZoneInfo("Asia/Yekaterinburg"))
    assert [r.label for r in ekb.rows] == ["2026-03-02 11:00", "2026-03-02 11:30"]


def test_worked_example_by_agent(hour):
    report = stats.report(START, END, by="agent", tz=MSK, now=at(12, 0, day=20))
    rows = {r.label: r for r in report.rows}
    alice, bob = rows["PJSIP/101"], rows["PJSIP/102"]
    assert (alice.answered, alice.handled) == (2, 3)
    assert alice.aht_s == pytest.approx((240 + 30 + 180 + 60 + 120 + 30) / 3)
    assert alice.staffed_s == pytest.approx(3000) and alice.occupancy == pytest.approx(660 / 3000)
    assert bob.staffed_s == pytest.approx(1800) and bob.occupancy == pytest.approx(210 / 1800)
    assert (alice.fcr_appeals, alice.fcr_resolved) == (2, 1)


def test_a_call_still_in_wrap_up_keeps_the_agent_busy_until_now(hour):
    Call.objects.filter(pk=hour.c1.pk).update(wrapup_ended_at=None)
    report = stats.report(START, END, by="agent", tz=MSK, now=at(9, 10))
    alice = {r.label: r for r in report.rows}["PJSIP/101"]
    # the period is cut at "now": staffed 10 min, busy from 09:00:10 to 09:10
    assert alice.staffed_s == pytest.approx(600) and alice.handling_s == pytest.approx(590)
    assert alice.handled == 2  # call 1 is not wrapped up: not in AHT yet (calls 6 and 7 are)
    assert report.fcr_provisional


def test_queue_filter_and_bad_input(hour):
    report = stats.report(START, END, queue="billing", tz=MSK)
    assert report.total.offered == 0 and [r.key for r in report.rows] == ["billing"]
    with pytest.raises(ValueError, match="unknown queue"):
        stats.report(START, END, queue="nope")
    with pytest.raises(ValueError, match="empty"):
        stats.report(END, START)
    with pytest.raises(ValueError, match="by must be"):
        stats.report(START, END, by="day")


def test_command_prints_the_report_as_json(hour):
    out = StringIO()
    call_command(
        "cc_stats",
        "report",
        "--from",
        "2026-03-02T09:00+03:00",
        "--to",
        "2026-03-02T10:00+03:00",
        "--by",
        "queue",
        "--json",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    total = data["total"]
    assert total["offered"] == 6 and total["service_level"] == 0.4 and total["aht_s"] == 217.5
    assert data["service_level_variant"].startswith("answered within each queue's norm")
    assert "fcr" in data["definitions"]


def test_command_plain_table_and_dates_in_the_company_zone(hour):
    out = StringIO()
    call_command("cc_stats", "report", "--from", "2026-03-02 09:00", "--to", "2026-03-02 10:00", stdout=out)
    text = out.getvalue()
    assert "General" in text and "40.0 %" in text and "217.5" in text


def test_stats_page_for_supervisors_only(client, org, hour):
    url = reverse("cc:stats")
    query = {"start": "2026-03-02 09:00", "end": "2026-03-02 10:00", "by": "queue"}
    client.force_login(org.operator_a)
    assert client.get(url, query).status_code == 403
    client.force_login(org.quality)
    response = client.get(url, query)
    assert response.status_code == 200
    body = response.content.decode()
    assert "40.0 %" in body and "217.5" in body and "each queue&#x27;s norm" in body
    csv = client.get(url, {**query, "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("key,label,offered") and any(
        line.startswith("general,General,6,4,2") for line in lines
    )
    log = client.get(reverse("cc:stats_queue_log"), query)
    text = b"".join(log.streaming_content).decode()
    # bob's two ADDMEMBER lines (one per queue) at 09:10 MSK = 06:10 UTC; no call events stored here
    assert log.status_code == 200 and "1772431800|NONE|general|PJSIP/102|ADDMEMBER|\n" in text
    assert "|ENTERQUEUE|" not in text
    client.force_login(org.operator_a)
    assert client.get(reverse("cc:stats_queue_log"), query).status_code == 403
