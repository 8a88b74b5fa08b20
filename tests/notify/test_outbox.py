"""The local outbox page: e-mails from the file backend and simulated SMS, only outside production."""

from __future__ import annotations

import json

import pytest
from django.core.mail import EmailMessage, get_connection

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
    client.force_login(org.dispatcher_a)
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
