"""E-mail goes through a real SMTP server on loopback (aiosmtpd) started by the test."""

import datetime as dt
import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from okno.appeals import actions
from okno.appeals.models import Appeal
from okno.core import jobs


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


def test_answer_by_email_is_sent_as_a_pdf_letter_and_its_acceptance_stops_the_clock(
    register, org, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appeal = register(
            channel="email", contact_email="ivanov@example.ru", preferred_answer_channel="email"
        )
    ack = smtp.messages[0]
    assert ack["Subject"].strip() == f"Обращение № {appeal.number} зарегистрировано"
    assert "Ответ будет дан не позднее" in ack.get_body().get_content()
    with django_capture_on_commit_callbacks(execute=True):
        ans = actions.answer_appeal(
            appeal, actor=org.specialist_a1, text="Проверка проведена, нарушений нет.", channel="email"
        )
    letter = smtp.messages[1]
    assert letter["To"] == "ivanov@example.ru"
    assert letter["Subject"].strip() == f"Ответ на обращение № {appeal.number}"
    pdf = next(part for part in letter.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF")
    ans.refresh_from_db()
    appeal.refresh_from_db()
    assert ans.delivered_at is not None
    assert appeal.on_time is True


def test_warning_before_the_deadline_and_escalation_when_overdue(
    register, org, smtp, django_capture_on_commit_callbacks
):
    due_soon = register()
    overdue = register(topic="metering", text="Счётчик сломан")
    now = timezone.now()
    Appeal.objects.filter(pk=due_soon.pk).update(deadline_at=now + dt.timedelta(hours=10))
    Appeal.objects.filter(pk=overdue.pk).update(deadline_at=now - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        jobs.submit("appeals.check_deadlines")
    subjects = sorted(m["Subject"].strip() for m in smtp.messages)
    assert subjects == sorted(
        [f"Истекает срок обращения № {due_soon.number}", f"Просрочено обращение № {overdue.number}"]
    )
    to_head = next(m for m in smtp.messages if "Просрочено" in m["Subject"])
    assert to_head["To"] == org.head_a.email
    assert due_soon.events.filter(type="deadline_warning").count() == 1
    assert overdue.events.filter(type="overdue").count() == 1
    # Running again sends nothing new: each warning and escalation happens once.
    with django_capture_on_commit_callbacks(execute=True):
        jobs.submit("appeals.check_deadlines")
    assert len(smtp.messages) == 2


def test_a_paused_appeal_is_not_escalated(register, org):
    appeal = register()
    actions.start_work(appeal, actor=appeal.assignee)
    actions.wait_for_customer(appeal, actor=appeal.assignee, reason="Ждём документы")
    Appeal.objects.filter(pk=appeal.pk).update(deadline_at=timezone.now() - dt.timedelta(hours=1))
    assert actions.escalate_overdue(actor=org.admin) == 0
