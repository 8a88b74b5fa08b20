"""Jobs of the appeals registry: deadline checks and e-mail to customers and staff."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from okno.core.context import current_actor
from okno.core.jobs import job


@job("appeals.check_deadlines", every=dt.timedelta(minutes=10))
def check_deadlines() -> dict[str, Any]:
    from okno.appeals.actions import escalate_overdue, warn_due

    actor = current_actor()
    return {"warned": warn_due(actor=actor), "escalated": escalate_overdue(actor=actor)}


def _appeal(appeal_id: int):
    from okno.appeals.models import Appeal

    return Appeal.objects.select_related("branch__company", "customer").get(pk=appeal_id)


def _send(
    subject: str,
    template: str,
    ctx: dict[str, Any],
    to: str,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    with translation.override("ru"):
        body = render_to_string(template, ctx)
    msg = EmailMessage(subject=subject, body=body, to=[to])
    for att in attachments or []:
        msg.attach(*att)
    msg.send(fail_silently=False)


@job("appeals.acknowledge")
def acknowledge(appeal_id: int, email: str) -> dict[str, Any]:
    appeal = _appeal(appeal_id)
    ctx = {"appeal": appeal, "deadline": appeal.local_deadline, "received": appeal.local_received_at}
    _send(f"Обращение № {appeal.number} зарегистрировано", "appeals/email/acknowledge.txt", ctx, email)
    return {"sent": 1}


@job("appeals.extension_notice")
def extension_notice(appeal_id: int, email: str) -> dict[str, Any]:
    appeal = _appeal(appeal_id)
    _send(
        f"Срок рассмотрения обращения № {appeal.number} продлён",
        "appeals/email/extension.txt",
        {"appeal": appeal, "deadline": appeal.local_deadline},
        email,
    )
    return {"sent": 1}


@job("appeals.notify_staff")
def notify_staff(appeal_id: int, email: str, reason: str) -> dict[str, Any]:
    appeal = _appeal(appeal_id)
    subject = (
        f"Просрочено обращение № {appeal.number}"
        if reason == "overdue"
        else f"Истекает срок обращения № {appeal.number}"
    )
    _send(
        subject,
        "appeals/email/staff.txt",
        {"appeal": appeal, "deadline": appeal.local_deadline, "reason": reason},
        email,
    )
    return {"sent": 1}


@job("appeals.send_answer", max_attempts=5)
def send_answer(answer_id: int, email: str) -> dict[str, Any]:
    """Send the answer letter by e-mail; acceptance by the mail server is the delivery time."""
    from okno.appeals.actions import mark_delivered
    from okno.appeals.letters import render_answer_pdf
    from okno.appeals.models import Answer

    answer = Answer.objects.select_related("appeal__branch__company", "author").get(pk=answer_id)
    if answer.delivered_at is not None:
        return {"sent": 0}
    pdf = render_answer_pdf(answer)
    _send(
        f"Ответ на обращение № {answer.appeal.number}",
        "appeals/email/answer.txt",
        {"answer": answer, "appeal": answer.appeal},
        email,
        [(f"otvet-{answer.appeal.number}.pdf", pdf, "application/pdf")],
    )
    mark_delivered(answer, actor=current_actor(), delivered_at=timezone.now())
    return {"sent": 1}
