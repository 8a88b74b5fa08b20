"""The local outbox page: e-mails from the file backend and simulated SMS, only outside production."""

from __future__ import annotations

import json

import pytest
from django.core.mail import EmailMessage, get_connection

from okno.notify.models import Notice, NoticeEvent

pytestmark = pytest.mark.django_db


def test_outbox_shows_caught_mail_and_sms(client, org, settings, tmp_path):
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.NOTIFY_OUTBOX_DIR = str(tmp_path / "outbox")
    connection = get_connection("django.core.mail.backends.filebased.EmailBackend")
    EmailMessage(
        "Плановое отключение", "Нет света 24.11 с 10:00", to=["a@example.ru"], connection=connection
    ).send()
    EmailMessage(
        "Свет восстановлен", "Электроснабжение восстановлено", to=["b@example.ru"], connection=connection
    ).send()
    (tmp_path / "outbox").mkdir()
    record = {
        "channel": "sms",
        "recipient": "+79120000001",
        "wire": {"text": "Свет дали в 18:05"},
        "at": "2026",
    }
    (tmp_path / "outbox" / "sms.jsonl").write_text(
        json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    client.force_login(org.admin)  # the whole company: letters of no notice (appeal answers) too
    html = client.get("/notify/outbox/").content.decode()
    for text in (
        "Плановое отключение",
        "Нет света 24.11 с 10:00",
        "Свет восстановлен",
        "Свет дали в 18:05",
        "+79120000001",
    ):
        assert text in html


def test_outbox_is_closed_in_production_and_to_other_roles(client, org, settings):
    client.force_login(org.security)
    assert client.get("/notify/outbox/").status_code == 403
    settings.PRODUCTION = True
    client.force_login(org.dispatcher_a)
    assert client.get("/notify/outbox/").status_code == 404


def test_outbox_shows_branch_staff_only_their_branches_messages(client, org, settings, tmp_path):
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.NOTIFY_OUTBOX_DIR = str(tmp_path / "outbox")
    event = NoticeEvent.objects.create(key="outage:1:off", template="outage_unplanned", context={})
    notices = {}
    for branch, n in ((org.a, 1), (org.b, 2)):
        for channel, recipient in (("email", f"{branch.pk}@example.ru"), ("sms", f"+7912000000{n}")):
            notices[(branch.pk, channel)] = Notice.objects.create(
                event=event,
                dedup_key=f"{channel}:{recipient}",
                channel=channel,
                recipient=recipient,
                branch=branch,
            )
    connection = get_connection("django.core.mail.backends.filebased.EmailBackend")
    for branch, title in ((org.a, "Письмо филиала А"), (org.b, "Письмо филиала Б")):
        notice = notices[(branch.pk, "email")]
        EmailMessage(
            title,
            "Текст",
            to=[notice.recipient],
            headers={"X-Okno-Notice": str(notice.pk)},
            connection=connection,
        ).send()
    EmailMessage("Ответ на обращение", "Без уведомления", to=["c@example.ru"], connection=connection).send()
    (tmp_path / "outbox").mkdir()
    lines = [
        {
            "channel": "sms",
            "notice_id": notices[(b.pk, "sms")].pk,
            "recipient": notices[(b.pk, "sms")].recipient,
            "wire": {"text": text},
            "at": "2026",
        }
        for b, text in ((org.a, "СМС филиала А"), (org.b, "СМС филиала Б"))
    ]
    (tmp_path / "outbox" / "sms.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8"
    )
    seen = {}
    for who in (org.operator_a, org.operator_b, org.cc_operator):
        client.force_login(who)
        response = client.get("/notify/outbox/")
        assert response.status_code == 200
        seen[who.username] = response.content.decode()
    a, b, everyone = seen["operator_a"], seen["operator_b"], seen["cc_operator"]
    assert "Письмо филиала А" in a and "СМС филиала А" in a
    assert "Письмо филиала Б" not in a and "СМС филиала Б" not in a and "Ответ на обращение" not in a
    assert "Письмо филиала Б" in b and "СМС филиала Б" in b
    assert "Письмо филиала А" not in b and "СМС филиала А" not in b and "Ответ на обращение" not in b
    assert "Only messages of notices in your branches are shown." in a
    for text in (
        "Письмо филиала А",
        "Письмо филиала Б",
        "Ответ на обращение",
        "СМС филиала А",
        "СМС филиала Б",
    ):
        assert text in everyone
