"""The delivery loop: sending, backoff, at most once, receipts, texts and contact history."""

from __future__ import annotations

import datetime as dt

import pytest

from okno.customers.models import Address, ContactEvent
from okno.notify import actions
from okno.notify.choices import AttemptResult, NoticeStatus, SkipReason
from okno.notify.delivery import backoff, claim, deliver_due, record_receipt
from okno.notify.models import Notice, NoticeAttempt, NoticeReceipt, NotifySettings
from okno.notify.planning import notify_direct, plan
from tests.conftest import aware
from tests.notify.notify_helpers import fakes, make_customer, subscribe_account
from tests.notify.test_planning import ctx, points

pytestmark = pytest.mark.django_db
T0 = aware(2026, 11, 24, 12, 0)


def planned_sms(org, script=None, **extra):
    c = make_customer(org, **extra)
    subscribe_account(org, c, phone="+79120000101")
    plan("o:9:start", "outage_unplanned", points(c), ctx(org), now=T0)
    return c, Notice.objects.get(customer=c)


def test_backoff_doubles_from_one_minute():
    assert [backoff(n).total_seconds() / 60 for n in range(1, 7)] == [1, 2, 4, 8, 16, 32]


def test_sent_notice_is_recorded_with_the_attempt_and_the_contact_history(org):
    c, notice = planned_sms(org)
    tr = fakes()
    counts = deliver_due(transports=tr, now=T0)
    assert counts["sent"] == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.provider_id) == (NoticeStatus.SENT, 1, f"p-{notice.pk}")
    assert notice.sent_at is not None and notice.body == tr["sms"].sent[0].body
    attempt = NoticeAttempt.objects.get(notice=notice)
    assert (attempt.result, attempt.provider_id) == (AttemptResult.SENT, f"p-{notice.pk}")
    history = ContactEvent.objects.get(customer=c, kind="notification")
    assert (history.channel, history.ref_type, history.ref_id) == ("sms", "notify.notice", notice.pk)
    assert "Unplanned outage" not in history.summary or history.summary.startswith("SMS")
    # Nothing is due any more: a second run sends nothing.
    assert deliver_due(transports=tr, now=T0)["sent"] == 0
    assert len(tr["sms"].sent) == 1


def test_sms_text_is_short_russian_with_the_branch_time(org):
    _c, _notice = planned_sms(org)
    tr = fakes()
    deliver_due(transports=tr, now=T0)
    body = tr["sms"].sent[0].body
    # ETR 14:00 Moscow time in the context.
    assert body == "Авария: нет э/э Северск. Ориентировочное время восстановления — 24.11.2026 14:00."
    assert len(body) <= 140


def test_yekaterinburg_subscriber_reads_local_time_in_english(org):
    c = make_customer(org, branch="b")
    subscribe_account(org, c, email="yek@example.ru", language="en")
    plan("o:9:start", "outage_unplanned", points(c), ctx(org), now=T0)
    tr = fakes()
    deliver_due(transports=tr, now=T0)
    msg = tr["email"].sent[0]
    assert msg.subject == "Unplanned power outage"
    # 14:00 Moscow = 16:00 Yekaterinburg; start 10:00 MSK = 12:00 YEKT.
    assert "Expected restoration by 24.11.2026 16:00" in msg.body
    assert "Since 24.11.2026 12:00" in msg.body


def test_email_carries_the_unsubscribe_link_in_text_html_and_headers(org):
    c = make_customer(org)
    sub = subscribe_account(org, c, email="link@example.ru")
    plan("o:9:start", "outage_unplanned", points(c), ctx(org), now=T0)
    tr = fakes()
    deliver_due(transports=tr, now=T0)
    msg = tr["email"].sent[0]
    url = f"http://127.0.0.1:8000/notify/unsubscribe/{sub.token}/"
    assert url in msg.body and f'href="{url}"' in msg.html
    assert msg.headers["List-Unsubscribe"] == f"<{url}>"
    assert msg.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.headers["X-Okno-Notice"] == str(msg.notice_id)


def test_retryable_failures_back_off_and_the_notice_goes_out_once(org):
    _c, notice = planned_sms(org)
    tr = fakes(sms=["retry", "soft", "ok"])
    assert deliver_due(transports=tr, now=T0)["retry"] == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == (
        NoticeStatus.QUEUED,
        1,
        "connection refused",
    )
    first_retry = notice.due_at
    assert first_retry - T0 >= dt.timedelta(minutes=1)  # 1 minute after the failed try
    # Not due yet half a minute later.
    assert deliver_due(transports=tr, now=T0 + dt.timedelta(seconds=30))["retry"] == 0
    assert tr["sms"].calls == 1
    deliver_due(transports=tr, now=first_retry)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (NoticeStatus.QUEUED, 2)
    assert notice.due_at - first_retry >= dt.timedelta(minutes=2)
    deliver_due(transports=tr, now=notice.due_at)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (NoticeStatus.SENT, 3)
    assert [a.result for a in notice.attempts_log.all()] == ["retry", "retry", "sent"]
    assert len(tr["sms"].sent) == 1 and tr["sms"].calls == 3


def test_gives_up_after_max_attempts(org):
    NotifySettings.objects.create(max_attempts=3)
    _c, notice = planned_sms(org)
    tr = fakes(sms=["retry"] * 10)
    moment = T0
    for _ in range(5):
        deliver_due(transports=tr, now=moment)
        moment += dt.timedelta(hours=1)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (NoticeStatus.FAILED, 3)
    assert tr["sms"].calls == 3


def test_permanent_failure_is_not_retried(org):
    _c, notice = planned_sms(org)
    tr = fakes(sms=["hard"])
    assert deliver_due(transports=tr, now=T0)["failed"] == 1
    notice.refresh_from_db()
    assert (notice.status, notice.last_error) == (NoticeStatus.FAILED, "550 no such user")
    deliver_due(transports=tr, now=T0 + dt.timedelta(days=1))
    assert tr["sms"].calls == 1
    assert not ContactEvent.objects.filter(kind="notification").exists()


def test_unknown_error_mid_send_is_never_retried(org):
    # The socket died after the message may have left: at most once means no second try.
    _c, notice = planned_sms(org)
    tr = fakes(sms=["crash", "ok"])
    deliver_due(transports=tr, now=T0)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.FAILED and "socket closed" in notice.last_error
    deliver_due(transports=tr, now=T0 + dt.timedelta(hours=1))
    assert tr["sms"].calls == 1


def test_crash_between_send_and_record_never_sends_twice(org):
    _c, notice = planned_sms(org)
    assert claim(10, T0) == [notice.pk]  # a worker claimed it, then died before recording
    tr = fakes()
    assert deliver_due(transports=tr, now=T0 + dt.timedelta(minutes=5))["sent"] == 0  # still its claim
    counts = deliver_due(transports=tr, now=T0 + dt.timedelta(minutes=20))
    assert counts["stale"] == 1 and tr["sms"].calls == 0
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.FAILED and "outcome is unknown" in notice.last_error


def test_two_workers_never_claim_the_same_notice(org):
    _c, notice = planned_sms(org)
    assert claim(10, T0) == [notice.pk]
    assert claim(10, T0) == []


def test_scheduled_notice_waits_for_the_morning(org):
    c = make_customer(org)
    subscribe_account(org, c, phone="+79120000111")
    night = dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC)  # 23:00 Moscow
    plan("o:9:etr", "outage_etr_changed", points(c), ctx(org), now=night)
    tr = fakes()
    assert deliver_due(transports=tr, now=night)["sent"] == 0
    morning = dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC)  # 08:00 Moscow
    assert deliver_due(transports=tr, now=morning)["sent"] == 1


def test_unsubscribed_after_planning_is_skipped(org):
    c, notice = planned_sms(org)
    actions.unsubscribe(notice.subscription)
    tr = fakes()
    assert deliver_due(transports=tr, now=T0)["skipped"] == 1
    notice.refresh_from_db()
    assert (notice.status, notice.skip_reason, notice.attempts) == (
        NoticeStatus.SKIPPED,
        SkipReason.UNSUBSCRIBED,
        0,
    )
    assert tr["sms"].calls == 0


def test_receipts_mark_delivered_or_undeliverable(org):
    _c, notice = planned_sms(org)
    deliver_due(transports=fakes(), now=T0)
    assert record_receipt(f"p-{notice.pk}", "DELIVRD")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.DELIVERED and notice.delivered_at is not None
    assert record_receipt(f"p-{notice.pk}", "UNDELIV", "absent subscriber")
    notice.refresh_from_db()
    assert (notice.status, notice.last_error) == (NoticeStatus.UNDELIVERABLE, "absent subscriber")
    assert not record_receipt("no-such-id", "DELIVRD")
    assert not record_receipt(f"p-{notice.pk}", "ENROUTE")


def test_receipt_before_the_send_is_recorded_is_kept_and_applied(org):
    _c, notice = planned_sms(org)
    assert deliver_due(transports=fakes(sms=["receipt-first"]), now=T0)["sent"] == 1
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.DELIVERED and notice.delivered_at is not None
    assert not NoticeReceipt.objects.exists()  # held in memory during the loop, applied with the outcome


def test_receipt_from_another_session_before_the_record_waits_in_the_table(org):
    _c, notice = planned_sms(org)
    assert not record_receipt(f"p-{notice.pk}", "UNDELIV", "absent subscriber")  # e.g. a receiver bind
    deliver_due(transports=fakes(), now=T0)
    notice.refresh_from_db()
    assert (notice.status, notice.last_error) == (NoticeStatus.UNDELIVERABLE, "absent subscriber")
    assert NoticeReceipt.objects.get(provider_id=f"p-{notice.pk}").applied


def test_receipt_for_an_unknown_id_waits_without_effect(org):
    _c, notice = planned_sms(org)
    assert not record_receipt("nobody", "DELIVRD")
    assert NoticeReceipt.objects.filter(provider_id="nobody", applied=False).exists()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.QUEUED


def test_customerless_notices_write_no_history(org):
    notify_direct("o:9:mass", "mass_outage_authority", [("email", "head@admin.ru", "ru")], ctx(org))
    tr = fakes()
    assert deliver_due(transports=tr, now=T0)["sent"] == 1
    assert tr["email"].sent[0].subject == "Массовое отключение электроэнергии: Северск"
    assert "List-Unsubscribe" not in tr["email"].sent[0].headers
    assert not ContactEvent.objects.filter(kind="notification").exists()


def test_missing_transport_is_a_retryable_failure(org):
    _c, notice = planned_sms(org)
    deliver_due(transports={"email": fakes()["email"]}, now=T0)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.QUEUED and notice.last_error.startswith("no transport")


def test_anonymous_subscriber_gets_a_confirmation_first(org):
    address = Address(settlement="Северск", street="ул. Новая", house="1")
    sub = actions.subscribe(actor=None, source="public", address=address, phone="+79120000121")
    tr = fakes()
    deliver_due(transports=tr, now=dt.datetime.now(dt.UTC))
    assert tr["sms"].sent[0].body.startswith(f"Код подтверждения подписки «Есть свет!»: {sub.confirm_code}")
    assert sub.confirmed_at is None


def test_end_to_end_through_a_real_smtp_server_on_loopback(org):
    """The loop with the real e-mail transport against aiosmtpd: the letter arrives once, with the headers."""
    import socket
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    from okno.notify.transports.email import EmailTransport

    received: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            received.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        c = make_customer(org)
        sub = subscribe_account(org, c, email="smtp@example.ru")
        plan(
            "o:9:restored",
            "outage_restored",
            points(c),
            ctx(org, restored_at=aware(2026, 11, 24, 15, 30)),
            now=T0,
        )
        transport = EmailTransport(
            backend="django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=port
        )
        try:
            assert deliver_due(transports={"email": transport}, now=T0)["sent"] == 1
            assert deliver_due(transports={"email": transport}, now=T0 + dt.timedelta(hours=1))["sent"] == 0
        finally:
            transport.close()
    finally:
        controller.stop()
    assert len(received) == 1
    rcpt, letter = received[0]
    assert rcpt == ["smtp@example.ru"]
    assert (
        "".join(letter["List-Unsubscribe"].split())
        == f"<http://127.0.0.1:8000/notify/unsubscribe/{sub.token}/>"
    )
    assert letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    notice = Notice.objects.get(customer=c)
    assert notice.status == NoticeStatus.SENT and notice.provider_id
    text = (
        next(p for p in letter.walk() if p.get_content_type() == "text/plain")
        .get_payload(decode=True)
        .decode()
    )
    assert "Электроснабжение восстановлено 24.11.2026 15:30" in text


def test_deliver_command_sends_through_the_configured_transports(org, mailoutbox):
    from django.core.management import call_command

    c = make_customer(org)
    subscribe_account(org, c, email="cmd@example.ru")
    plan("o:9:start", "outage_unplanned", points(c), ctx(org))
    call_command("notify", "deliver")
    assert [m.to for m in mailoutbox] == [["cmd@example.ru"]]
    assert (
        mailoutbox[0]
        .extra_headers["List-Unsubscribe"]
        .startswith("<http://127.0.0.1:8000/notify/unsubscribe/")
    )
    assert Notice.objects.get(customer=c).status == NoticeStatus.SENT


def test_delivery_job_is_periodic_every_minute():
    from okno.core.jobs import REGISTRY

    spec = REGISTRY["notify.deliver"]
    assert spec.every == dt.timedelta(minutes=1)


def test_a_reused_provider_id_does_not_touch_an_old_notice(org):
    _c, notice = planned_sms(org)
    deliver_due(transports=fakes(), now=T0)
    Notice.objects.filter(pk=notice.pk).update(sent_at=T0 - dt.timedelta(days=30))
    assert not record_receipt(f"p-{notice.pk}", "UNDELIV", "absent subscriber")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT


def test_consent_withdrawn_after_planning_stops_the_notice(org):
    customer, notice = planned_sms(org)
    from okno.customers.models import Consent

    Consent.objects.filter(customer=customer).update(withdrawn_at=T0)
    deliver_due(transports=fakes(), now=T0)
    notice.refresh_from_db()
    assert (notice.status, notice.skip_reason) == (NoticeStatus.SKIPPED, SkipReason.NO_CONSENT)


def test_a_retry_of_a_non_emergency_sms_waits_out_the_quiet_hours(org):
    c = make_customer(org)
    subscribe_account(org, c, phone="+79120000102")
    evening = aware(2026, 11, 24, 21, 59)  # Moscow: one minute before the quiet hours
    plan("o:10:etr", "outage_etr_changed", points(c), ctx(org), now=evening)
    notice = Notice.objects.get(customer=c)
    deliver_due(transports=fakes(sms=["soft"]), now=evening)
    notice.refresh_from_db()
    # The backoff would say 22:00; a non-emergency SMS waits for 08:00 the next morning instead.
    assert notice.status == NoticeStatus.QUEUED
    assert notice.due_at == aware(2026, 11, 25, 8, 0)
