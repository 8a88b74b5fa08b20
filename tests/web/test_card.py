"""The appeal card: what it shows, which actions it offers, and the full lifecycle through its forms."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from okno.appeals.models import Answer, AnswerTemplate, Appeal, Attachment
from okno.core.models import AccessLog

pytestmark = pytest.mark.django_db


def card(appeal):
    return reverse("appeals:detail", args=[appeal.pk])


def act(appeal, name):
    return reverse("appeals:action", args=[appeal.pk, name])


def fresh(appeal):
    return Appeal.objects.get(pk=appeal.pk)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_card_shows_fields_deadline_timeline_and_logs_the_access(register, org, customers, login):
    appeal = register(text="Нет света в квартире с утра, соседи тоже без света.")
    response = login(org.operator_a).get(card(appeal))
    html = response.content.decode()
    assert response.status_code == 200
    assert appeal.number in html
    assert "Нет света в квартире с утра, соседи тоже без света." in html
    assert f'href="{reverse("customers:detail", args=[customers.ivanov.pk])}"' in html
    assert customers.acc_ivanov.number in html
    assert appeal.local_deadline.strftime("%d.%m.%Y %H:%M") in html
    assert "Europe/Moscow" in html
    assert 'id="timeline"' in html and "Registered" in html or "Зарегистрировано" in html
    log = AccessLog.objects.filter(customer_id=customers.ivanov.pk, context="ui:appeal")
    assert log.count() == 1
    assert log.get().actor == org.operator_a


def test_specialist_is_offered_work_actions_but_not_cancel_or_extend(register, org, login):
    appeal = register()
    html = login(appeal.assignee).get(card(appeal)).content.decode()
    for name in ("start", "answer", "wait", "comment", "attach", "assign"):
        assert act(appeal, name) in html, name
    for name in ("cancel", "extend", "close", "reopen", "resume", "rate"):
        assert act(appeal, name) not in html, name


def test_head_of_department_is_offered_assign_cancel_and_extend(register, org, login):
    appeal = register()
    html = login(org.head_a).get(card(appeal)).content.decode()
    for name in ("assign", "cancel", "extend"):
        assert act(appeal, name) in html, name


def test_quality_manager_sees_the_card_without_actions(register, org, login):
    appeal = register()
    html = login(org.quality).get(card(appeal)).content.decode()
    assert 'id="actions"' not in html


def test_full_lifecycle_through_the_forms(register, org, login):
    appeal = register()
    head = login(org.head_a)
    response = head.post(
        act(appeal, "assign"),
        {"version": appeal.version, "assignee": org.specialist_a2.pk, "reason": "В отпуске"},
    )
    assert response.status_code == 302
    appeal = fresh(appeal)
    assert appeal.assignee == org.specialist_a2 and appeal.status == "assigned"

    spec = login(org.specialist_a2)
    spec.post(act(appeal, "start"), {"version": appeal.version})
    appeal = fresh(appeal)
    assert appeal.status == "in_progress"

    response = spec.post(
        act(appeal, "answer"),
        {"version": appeal.version, "text": "Свет восстановлен в 12:40.", "channel": "mail"},
    )
    assert response.status_code == 302
    appeal = fresh(appeal)
    assert appeal.status == "answered"
    answer = Answer.objects.get(appeal=appeal)
    assert answer.delivered_at is None
    html = spec.get(card(appeal)).content.decode()
    assert act(appeal, "deliver") in html
    assert act(appeal, "close") not in html  # not delivered yet

    spec.post(act(appeal, "deliver"), {"version": appeal.version, "answer": answer.pk, "delivered_at": ""})
    appeal = fresh(appeal)
    assert appeal.delivered_at is not None and appeal.on_time is True

    response = spec.post(act(appeal, "close"), {"version": appeal.version}, follow=True)
    appeal = fresh(appeal)
    assert appeal.status == "closed"
    assert "The appeal is closed." in messages_of(response)
    events = list(appeal.events.values_list("type", flat=True))
    assert events[-5:] == ["assigned", "started", "answered", "delivered", "closed"]


def test_stale_version_shows_a_message_and_changes_nothing(register, org, login):
    appeal = register()
    client = login(appeal.assignee)
    seen = appeal.version
    client.post(act(appeal, "comment"), {"version": seen, "text": "Звонил клиенту"})  # bumps nothing, but…
    client.post(act(appeal, "start"), {"version": seen})  # …this one moves the version on
    appeal = fresh(appeal)
    assert appeal.status == "in_progress"
    response = client.post(
        act(appeal, "wait"), {"version": seen, "reason": "Нужна копия договора"}, follow=True
    )
    assert response.redirect_chain[-1][0] == card(appeal)
    assert any("changed by someone else" in m for m in messages_of(response))
    assert fresh(appeal).status == "in_progress"


def test_transition_not_allowed_is_reported_as_a_message(register, org, login):
    appeal = register()
    response = login(org.head_a).post(
        act(appeal, "reopen"), {"version": appeal.version, "reason": "Новые факты"}, follow=True
    )
    assert fresh(appeal).status == "assigned"
    assert any("not available" in m for m in messages_of(response))


def test_action_field_errors_rerender_the_card_with_the_form_open(register, org, login):
    appeal = register()
    client = login(org.head_a)
    response = client.post(
        act(appeal, "cancel"), {"version": appeal.version, "code": "obscene", "comment": ""}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Explain why the appeal is not to be considered." in html
    assert '<details class="action" id="act-cancel" open>' in html
    response = client.post(
        act(appeal, "extend"), {"version": appeal.version, "days": 31, "reason": "Экспертиза"}
    )
    assert response.status_code == 400
    assert fresh(appeal).extended_days == 0


def test_extend_wait_and_resume_move_the_deadline(register, org, login):
    appeal = register()
    head = login(org.head_a)
    old = appeal.deadline_at
    head.post(
        act(appeal, "extend"), {"version": appeal.version, "days": 10, "reason": "Нужна экспертиза прибора"}
    )
    appeal = fresh(appeal)
    assert (appeal.deadline_at - old).days == 10
    assert "Нужна экспертиза прибора" in head.get(card(appeal)).content.decode()
    head.post(act(appeal, "wait"), {"version": appeal.version, "reason": "Запросили фото счётчика"})
    appeal = fresh(appeal)
    assert appeal.status == "waiting_customer" and appeal.paused_at is not None
    head.post(act(appeal, "resume"), {"version": appeal.version, "reason": "Фото получено"})
    appeal = fresh(appeal)
    assert appeal.status == "in_progress" and appeal.paused_at is None


def test_cancel_as_a_duplicate_by_number_links_the_two(register, org, login):
    first = register()
    second = register(topic="metering")
    head = login(org.head_a)
    response = head.post(
        act(second, "cancel"),
        {"version": second.version, "code": "duplicate", "duplicate_number": first.number},
    )
    assert response.status_code == 302
    second = fresh(second)
    assert second.status == "cancelled" and second.duplicate_of == first
    assert second.number in head.get(card(first)).content.decode()
    bad = register(topic="other")
    response = head.post(
        act(bad, "cancel"), {"version": bad.version, "code": "duplicate", "duplicate_number": "1999-000001"}
    )
    assert response.status_code == 400
    assert "No appeal with number 1999-000001." in response.content.decode()


def test_answer_template_is_filled_server_side(register, org, customers, login):
    tpl = AnswerTemplate.objects.create(
        code="web-test-restored",
        title="Свет восстановлен",
        topic="outage",
        body="Уважаемый(ая) {customer}! По обращению № {number} от {received} по адресу {address} сообщаем: свет восстановлен.",
    )
    appeal = register()
    html = login(appeal.assignee).get(card(appeal), {"template": tpl.pk}).content.decode()
    expected = (
        f"Уважаемый(ая) Иванов Пётр Сергеевич! По обращению № {appeal.number} от "
        f"{appeal.local_received_at:%d.%m.%Y} по адресу Тестовая область, Северск, ул. Ленина, д. 10, кв. 5 сообщаем: свет восстановлен."
    )
    assert expected in html  # in the textarea and in the picker's data-body
    assert '<details class="action" id="act-answer" open>' in html


def test_answer_pdf_is_a_pdf(register, org, login):
    appeal = register()
    client = login(appeal.assignee)
    client.post(
        act(appeal, "answer"), {"version": appeal.version, "text": "Ответ по существу.", "channel": "mail"}
    )
    answer = Answer.objects.get(appeal=appeal)
    response = client.get(reverse("appeals:answer_pdf", args=[appeal.pk, answer.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert (
        login(org.operator_b).get(reverse("appeals:answer_pdf", args=[appeal.pk, answer.pk])).status_code
        == 404
    )


def test_attachment_upload_rejects_executables_and_html(register, org, login):
    appeal = register()
    client = login(appeal.assignee)
    exe = SimpleUploadedFile(
        "scan.exe",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 8,
        content_type="application/octet-stream",
    )
    response = client.post(act(appeal, "attach"), {"version": appeal.version, "file": exe})
    assert response.status_code == 400
    assert "Files of this type are not accepted" in response.content.decode()
    page = SimpleUploadedFile(
        "letter.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf"
    )
    response = client.post(act(appeal, "attach"), {"version": appeal.version, "file": page})
    assert response.status_code == 400
    assert Attachment.objects.count() == 0


def test_attachment_is_downloaded_as_a_file_not_rendered(register, org, login):
    appeal = register()
    client = login(appeal.assignee)
    pdf = SimpleUploadedFile("акт.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    response = client.post(act(appeal, "attach"), {"version": appeal.version, "file": pdf})
    assert response.status_code == 302
    att = Attachment.objects.get()
    url = reverse("appeals:attachment", args=[appeal.pk, att.pk])
    assert url in client.get(card(appeal)).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.4")
    assert login(org.operator_b).get(url).status_code == 404


def test_actions_on_another_branchs_appeal_are_404_and_without_permission_403(register, org, login):
    appeal = register()
    assert login(org.operator_b).post(act(appeal, "start"), {"version": appeal.version}).status_code == 404
    assert login(org.quality).post(act(appeal, "start"), {"version": appeal.version}).status_code == 403
    assert (
        login(org.specialist_a1)
        .post(act(appeal, "cancel"), {"version": appeal.version, "code": "withdrawn", "comment": "x"})
        .status_code
        == 403
    )
    assert login(org.operator_a).get(act(appeal, "start")).status_code == 405
    assert fresh(appeal).status == "assigned"


def test_escalation_and_rating_after_the_answer(register, org, login):
    appeal = register()
    client = login(org.admin)
    client.post(act(appeal, "answer"), {"version": appeal.version, "text": "Отказано.", "channel": "phone"})
    appeal = fresh(appeal)
    assert appeal.delivered_at is not None  # phone answers reach the customer at once
    html = client.get(card(appeal)).content.decode()
    assert act(appeal, "escalate") in html and act(appeal, "rate") in html
    client.post(act(appeal, "rate"), {"version": appeal.version, "score": 2, "comment": "Не согласен"})
    assert fresh(appeal).rating == 2
    response = client.post(
        act(appeal, "escalate"),
        {"version": fresh(appeal).version, "text": "Не согласен с отказом", "channel": "office"},
    )
    escalation = Appeal.objects.get(escalation_of=appeal)
    assert response["Location"] == card(escalation)
    html = client.get(card(escalation)).content.decode()
    assert f'href="{card(appeal)}"' in html and appeal.number in html
