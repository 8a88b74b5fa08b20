"""POST /api/v1/appeals/{id}/<action>/: the lifecycle through the actions, 403/404/409 answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from okno.appeals import actions
from okno.appeals.models import Appeal
from tests.api.conftest import problem


def url(appeal, act):
    return f"/api/v1/appeals/{appeal.pk}/{act}/"


@pytest.fixture
def appeal(register):
    return register()  # assigned to a specialist of department A


def test_head_assigns_to_a_named_specialist(api, org, appeal):
    response = api(org.head_a).post(
        url(appeal, "assign"), {"assignee": org.specialist_a2.pk, "reason": "Отпуск"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["assignee"] == {"id": org.specialist_a2.pk, "name": str(org.specialist_a2)}
    assert response.json()["events"][-1]["reason"] == "Отпуск"


def test_assign_to_a_department_of_another_branch_is_not_found_for_a_branch_head(api, org, appeal):
    response = api(org.head_a).post(url(appeal, "assign"), {"department": org.dept_b.pk}, format="json")

    assert problem(response)["errors"] == {"department": [f"Department {org.dept_b.pk} not found."]}


def test_quality_manager_may_read_but_not_assign(api, org, appeal):
    before = appeal.assignee
    response = api(org.quality).post(url(appeal, "assign"), {"assignee": org.specialist_a2.pk}, format="json")

    assert response.status_code == 403
    assert Appeal.objects.get().assignee == before


def test_operator_routes_an_appeal_to_another_specialist(api, org, appeal):
    other = org.specialist_a2 if appeal.assignee == org.specialist_a1 else org.specialist_a1
    response = api(org.operator_a).post(url(appeal, "assign"), {"assignee": other.pk}, format="json")

    assert response.status_code == 200
    assert Appeal.objects.get().assignee == other


def test_start_wait_resume_moves_the_status_and_pauses_the_clock(api, org, appeal):
    client = api(org.specialist_a1)

    started = client.post(url(appeal, "start"), {"expected_version": appeal.version}, format="json")
    waiting = client.post(url(appeal, "wait"), {"reason": "Запрошена копия договора"}, format="json")
    resumed = client.post(url(appeal, "resume"), {}, format="json")

    assert [started.json()["status"], waiting.json()["status"], resumed.json()["status"]] == [
        "in_progress",
        "waiting_customer",
        "in_progress",
    ]
    assert waiting.json()["paused_at"] is not None
    assert resumed.json()["paused_at"] is None
    assert resumed.json()["version"] == appeal.version + 3


def test_wait_without_a_reason_is_a_field_error(api, org, appeal):
    response = api(org.specialist_a1).post(url(appeal, "wait"), {"reason": " "}, format="json")

    assert problem(response)["errors"] == {"reason": ["Say what is asked of the customer."]}


def test_answer_by_phone_is_delivered_at_once_then_closed_and_reopened(api, org, appeal):
    client = api(org.specialist_a1)

    answered = client.post(
        url(appeal, "answer"), {"text": "Свет восстановлен в 12:00.", "channel": "phone"}, format="json"
    )
    closed = client.post(url(appeal, "close"), {"reason": "Ответ получен"}, format="json")
    reopened = client.post(url(appeal, "reopen"), {"reason": "Свет снова пропал"}, format="json")

    data = answered.json()
    assert data["status"] == "answered"
    assert data["on_time"] is True
    assert data["answers"][0]["text"] == "Свет восстановлен в 12:00."
    assert data["answers"][0]["delivered_at"] is not None
    assert closed.json()["status"] == "closed"
    assert reopened.json()["status"] == "in_progress"
    assert reopened.json()["reopen_count"] == 1


def test_answer_by_post_is_delivered_when_recorded(api, org, appeal):
    client = api(org.specialist_a1)
    answer_id = client.post(
        url(appeal, "answer"), {"text": "Ответ письмом.", "channel": "mail"}, format="json"
    ).json()["answers"][0]["id"]
    when = timezone.now()

    delivered = client.post(
        url(appeal, "deliver"), {"answer": answer_id, "delivered_at": when.isoformat()}, format="json"
    )

    assert delivered.status_code == 200, delivered.json()
    assert delivered.json()["delivered_at"] is not None
    assert Appeal.objects.get().delivered_at == when


def test_deliver_of_an_answer_of_another_appeal_is_a_field_error(api, org, appeal, register):
    other = register(text="Другое обращение")
    ans = actions.answer_appeal(other, actor=org.specialist_a1, text="Ответ.", channel="mail")

    response = api(org.specialist_a1).post(url(appeal, "deliver"), {"answer": ans.pk}, format="json")

    assert problem(response)["errors"] == {"answer": [f"Answer {ans.pk} not found."]}


def test_head_cancels_as_duplicate_by_number(api, org, register):
    first = register()
    second = register(text="Повторно: нет света.")

    response = api(org.head_a).post(
        url(second, "cancel"), {"reason": "duplicate", "duplicate_of": first.number}, format="json"
    )

    assert response.status_code == 200
    second.refresh_from_db()
    assert (second.status, second.cancel_reason, second.duplicate_of) == ("cancelled", "duplicate", first)


def test_cancel_not_to_be_considered_needs_a_comment(api, org, appeal):
    response = api(org.head_a).post(url(appeal, "cancel"), {"reason": "obscene"}, format="json")

    assert problem(response)["errors"] == {"comment": ["Explain why the appeal is not to be considered."]}


def test_extend_once_then_409(api, org, appeal):
    client = api(org.head_a)
    old_deadline = Appeal.objects.get().deadline_at

    first = client.post(
        url(appeal, "extend"), {"days": 10, "reason": "Нужна проверка на месте"}, format="json"
    )
    second = client.post(url(appeal, "extend"), {"days": 5, "reason": "Ещё"}, format="json")

    assert first.status_code == 200
    assert Appeal.objects.get().deadline_at == old_deadline + dt.timedelta(days=10)
    assert second.status_code == 409
    assert problem(second)["code"] == "transition_not_allowed"


def test_escalate_registers_a_linked_complaint(api, org, appeal):
    actions.answer_appeal(appeal, actor=org.specialist_a1, text="Ответ.", channel="phone")

    response = api(org.operator_a).post(
        url(appeal, "escalate"), {"text": "Не согласен с ответом."}, format="json"
    )

    assert response.status_code == 201
    new = Appeal.objects.get(number=response.json()["number"])
    assert (new.kind, new.escalation_of) == ("complaint", appeal)
    assert new.department == org.head_dept_a  # one level up


def test_rating_after_delivery_and_its_range(api, org, appeal):
    actions.answer_appeal(appeal, actor=org.specialist_a1, text="Ответ.", channel="phone")
    client = api(org.operator_a)

    bad = client.post(url(appeal, "rate"), {"score": 6}, format="json")
    good = client.post(url(appeal, "rate"), {"score": 5, "comment": "Спасибо"}, format="json")

    assert set(problem(bad)["errors"]) == {"score"}
    assert good.json()["rating"] == 5


def test_comment_is_added_to_the_timeline(api, org, appeal):
    response = api(org.specialist_a1).post(
        url(appeal, "comment"), {"text": "Позвонил клиенту."}, format="json"
    )

    assert response.json()["events"][-1]["type"] == "comment"
    assert response.json()["events"][-1]["reason"] == "Позвонил клиенту."


def test_invalid_transition_is_409_problem(api, org, appeal):
    response = api(org.specialist_a1).post(url(appeal, "close"), {}, format="json")

    body = problem(response)
    assert response.status_code == 409
    assert body["code"] == "transition_not_allowed"
    assert body["detail"] == "An appeal in status “Assigned” cannot become “Closed”."


@pytest.mark.parametrize("act,body", [("start", {}), ("comment", {"text": "Текст"}), ("rate", {"score": 4})])
def test_stale_expected_version_is_409_and_changes_nothing(api, org, appeal, act, body):
    read_version = Appeal.objects.get().version
    actions.assign(appeal, actor=org.head_a, assignee=org.specialist_a2)  # someone else changes it meanwhile
    version = Appeal.objects.get().version
    client = api(org.specialist_a1 if act != "rate" else org.operator_a)

    response = client.post(url(appeal, act), {**body, "expected_version": read_version}, format="json")

    assert version == read_version + 1
    assert response.status_code == 409
    assert problem(response)["code"] == "stale_version"
    assert Appeal.objects.get().version == version
    assert not Appeal.objects.get().events.filter(type="comment").exists()


def test_specialist_without_cancel_permission_gets_403_problem(api, org, appeal):
    response = api(org.specialist_a1).post(
        url(appeal, "cancel"), {"reason": "withdrawn", "comment": "Отозвано"}, format="json"
    )

    assert response.status_code == 403
    assert problem(response)["status"] == 403
    assert Appeal.objects.get().status == "assigned"


def test_other_branch_gets_404_not_403(api, org, appeal):
    response = api(org.specialist_b).post(url(appeal, "start"), {}, format="json")

    assert response.status_code == 404
    assert Appeal.objects.get().status == "assigned"
