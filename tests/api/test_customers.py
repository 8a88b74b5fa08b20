"""/api/v1/customers/ and /api/v1/accounts/: search, create, detail with the access log, history, scope."""

from __future__ import annotations

from okno.core.models import AccessLog
from okno.customers.models import Customer
from tests.api.conftest import problem


def test_search_by_account_number_and_by_name(api, org, customers):
    client = api(org.operator_a)

    by_account = client.get(f"/api/v1/customers/?q={customers.acc_ivanov.number}").json()
    by_name = client.get("/api/v1/customers/?q=иванов").json()

    assert [c["id"] for c in by_account["results"]] == [customers.ivanov.pk]
    assert [c["display_name"] for c in by_name["results"]] == ["Иванов Пётр Сергеевич"]


def test_list_is_scoped_to_branches(api, org, customers):
    names_a = [c["display_name"] for c in api(org.operator_a).get("/api/v1/customers/").json()["results"]]
    names_all = [
        c["display_name"]
        for c in api(org.cc_operator).get("/api/v1/customers/?kind=legal_entity").json()["results"]
    ]

    assert names_a == ["Иванов Пётр Сергеевич"]
    assert names_all == ["ООО «Ромашка»"]


def test_create_customer_with_phones_and_emails(api, org):
    body = {
        "kind": "individual",
        "last_name": "Петрова",
        "first_name": "Анна",
        "phones": ["8 912 111-22-33"],
        "emails": ["Anna@Example.ru"],
        "branch": org.a.pk,
    }

    response = api(org.operator_a).post("/api/v1/customers/", body, format="json")

    assert response.status_code == 201
    data = response.json()
    assert data["display_name"] == "Петрова Анна"
    assert sorted((c["kind"], c["value"]) for c in data["contacts"]) == [
        ("email", "anna@example.ru"),
        ("phone", "+79121112233"),
    ]
    assert Customer.objects.get(pk=data["id"]).branch == org.a


def test_create_customer_field_errors_save_nothing(api, org):
    client = api(org.operator_a)
    count = Customer.objects.count()

    no_name = client.post("/api/v1/customers/", {"kind": "individual", "phones": ["12"]}, format="json")
    bad_phone = client.post("/api/v1/customers/", {"last_name": "Петрова", "phones": ["12"]}, format="json")
    other_branch = client.post(
        "/api/v1/customers/", {"last_name": "Петрова", "branch": org.b.pk}, format="json"
    )

    assert problem(no_name)["errors"] == {"last_name": ["A person needs a last name."]}
    assert problem(bad_phone)["errors"] == {"phones": ["Phone number 12 is not valid."]}
    assert problem(other_branch)["errors"] == {"branch": [f"Branch {org.b.pk} not found."]}
    assert Customer.objects.count() == count


def test_detail_shows_contacts_and_accounts_and_logs_the_view(api, org, customers):
    data = api(org.operator_a).get(f"/api/v1/customers/{customers.ivanov.pk}/").json()

    assert [a["number"] for a in data["accounts"]] == [customers.acc_ivanov.number]
    assert data["accounts"][0]["address"] == "Тестовая область, Северск, ул. Ленина, д. 10, кв. 5"
    assert {c["value"] for c in data["contacts"]} == {"+79123456789", "ivanov@example.ru"}
    log = AccessLog.objects.get()
    assert (log.actor, log.customer_id, log.context) == (org.operator_a, customers.ivanov.pk, "api:customer")


def test_customer_of_another_branch_is_404(api, org, customers):
    assert api(org.operator_a).get(f"/api/v1/customers/{customers.romashka.pk}/").status_code == 404
    assert api(org.operator_a).get(f"/api/v1/customers/{customers.romashka.pk}/appeals/").status_code == 404
    assert AccessLog.objects.count() == 0


def test_history_and_appeals_of_a_customer(api, org, customers, register):
    appeal = register()
    client = api(org.operator_a)

    history = client.get(f"/api/v1/customers/{customers.ivanov.pk}/history/").json()["results"]
    appeals = client.get(f"/api/v1/customers/{customers.ivanov.pk}/appeals/").json()["results"]

    assert [(h["kind"], h["ref_label"]) for h in history] == [("appeal", appeal.number)]
    assert [a["number"] for a in appeals] == [appeal.number]


def test_accounts_filter_lookup_and_scope(api, org, customers):
    client = api(org.operator_a)
    number = customers.acc_ivanov.number

    listed = client.get(f"/api/v1/accounts/?number={number}").json()["results"]
    found = client.get(f"/api/v1/accounts/lookup/?number={number}")
    missing = client.get("/api/v1/accounts/lookup/?number=1234567890")
    other = client.get(f"/api/v1/accounts/lookup/?number={customers.acc_romashka.number}")
    detail = client.get(f"/api/v1/accounts/{customers.acc_ivanov.pk}/")

    assert [a["number"] for a in listed] == [number]
    assert found.json()["customer"] == customers.ivanov.pk
    assert found.json()["branch"] == org.a.pk
    assert problem(missing)["detail"] == "Account 1234567890 not found."
    assert other.status_code == 404
    assert detail.json()["customer_name"] == "Иванов Пётр Сергеевич"
    assert AccessLog.objects.filter(context="api:account").count() == 2
