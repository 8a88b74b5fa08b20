"""Findings of the code review, each pinned by a test: scope, access log, bad input, consistency."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from okno.appeals import actions
from okno.core.models import AccessLog
from okno.customers import actions as customer_actions
from okno.customers.models import Address, ContactPoint
from okno.customers.numbers import make_account_number
from tests.api.conftest import problem


@pytest.fixture
def ivanov_in_both_branches(org, customers):
    return customer_actions.open_account(
        customer=customers.ivanov,
        number=make_account_number(3003),
        actor=org.admin,
        address=Address(
            region="Тестовая область",
            settlement="Восточный",
            street="ул. Мира",
            house="1",
            grid_district=org.district_b,
        ),
    )


def test_a_branch_operator_sees_only_the_accounts_of_their_branch(
    client, org, customers, ivanov_in_both_branches, api
):
    client.force_login(org.operator_a)
    html = client.get(f"/customers/{customers.ivanov.pk}/").content.decode()
    assert customers.acc_ivanov.number in html
    assert ivanov_in_both_branches.number not in html
    body = api(org.operator_a).get(f"/api/v1/customers/{customers.ivanov.pk}/").json()
    assert [a["number"] for a in body["accounts"]] == [customers.acc_ivanov.number]


def test_history_hides_appeals_of_other_branches(register, org, customers, ivanov_in_both_branches, api):
    appeal_b = register(account=ivanov_in_both_branches, text="Нет света на ул. Мира")
    rows = api(org.operator_a).get(f"/api/v1/customers/{customers.ivanov.pk}/history/").json()["results"]
    assert appeal_b.number not in [r.get("ref_label") for r in rows]
    rows = api(org.cc_operator).get(f"/api/v1/customers/{customers.ivanov.pk}/history/").json()["results"]
    assert appeal_b.number in [r.get("ref_label") for r in rows]


def test_search_results_and_lists_are_recorded_in_the_access_log(api, org, customers):
    AccessLog.objects.all().delete()
    assert api(org.cc_operator).get("/api/v1/customers/?q=Иванов").status_code == 200
    assert api(org.cc_operator).get("/api/v1/accounts/").status_code == 200
    contexts = set(AccessLog.objects.values_list("context", "customer_id"))
    assert ("api:customer-search", customers.ivanov.pk) in contexts
    assert ("api:account-list", customers.romashka.pk) in contexts


def test_hostile_ids_and_dates_get_400_not_500(api, org):
    client = api(org.cc_operator)
    assert client.get("/api/v1/appeals/?customer=99999999999999999999999").status_code == 400
    assert client.get("/api/v1/audit/access/?since=0001-01-01T00:00:00").status_code in (400, 403)
    assert api(org.security).get("/api/v1/audit/access/?since=0001-01-01T00:00:00").status_code == 400
    assert client.get("/open311/v2/requests.json?end_date=0001-01-01").status_code == 400
    assert client.get("/api/v1/departments/?branch=99999999999999999999999").status_code == 200


def test_assignee_must_work_in_the_chosen_department(register, org):
    appeal = register()
    with pytest.raises(ValidationError) as err:
        actions.assign(appeal, actor=org.admin, department=org.dept_a, assignee=org.specialist_b)
    assert "assignee" in err.value.message_dict
    with pytest.raises(ValidationError):
        actions.assign(appeal, actor=org.head_a, assignee=org.operator_a)


def test_delivery_before_the_answer_was_written_is_refused(register, org):
    appeal = register(preferred_answer_channel="mail")
    with pytest.raises(ValidationError) as err:
        actions.answer_appeal(
            appeal,
            actor=org.specialist_a1,
            text="Ответ",
            channel="mail",
            delivered_at=timezone.now() - dt.timedelta(days=400),
        )
    assert "delivered_at" in err.value.message_dict
    appeal.refresh_from_db()
    assert (appeal.status, appeal.answers.count()) == ("assigned", 0)  # nothing half-saved


def test_contacts_equal_after_normalisation_are_stored_once(org):
    customer = customer_actions.create_customer(
        actor=org.admin,
        kind="individual",
        last_name="Петров",
        phones=["89123456780", "+7 912 345-67-80"],
        emails=["A@x.ru", "a@x.ru "],
    )
    assert ContactPoint.objects.filter(customer=customer).count() == 2


def test_an_invalid_contact_email_is_a_field_error(api, org, customers):
    body = {
        "channel": "web",
        "kind": "info_request",
        "topic": "billing",
        "text": "Вопрос",
        "contact_name": "Аноним",
        "contact_email": "not-an-email",
    }
    response = api(org.cc_operator).post("/api/v1/appeals/", body, format="json")
    assert response.status_code == 400
    assert "contact_email" in problem(response)["errors"]


def test_a_second_open_escalation_of_the_same_answer_is_refused(register, org):
    from okno.core.errors import TransitionNotAllowed

    appeal = register()
    actions.answer_appeal(appeal, actor=appeal.assignee, text="Ответ", channel="phone")
    actions.escalate(appeal, actor=org.operator_a, text="Не согласен")
    with pytest.raises(TransitionNotAllowed):
        actions.escalate(appeal, actor=org.operator_a, text="Не согласен ещё раз")


def test_plain_text_mail_is_not_html_escaped(register, org, mailoutbox, django_capture_on_commit_callbacks):
    appeal = register(channel="email", contact_email="ivanov@example.ru", preferred_answer_channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        actions.extend_deadline(
            appeal, actor=org.head_a, days=5, reason='Запрошен акт "разграничения" <ТП-5>'
        )
    body = mailoutbox[-1].body
    assert 'Запрошен акт "разграничения" <ТП-5>' in body
