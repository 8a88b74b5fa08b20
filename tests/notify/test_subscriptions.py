"""Subscriptions: staff API (CRUD, permissions, field errors), public double opt-in, rate limit, staff pages."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from okno.notify.models import Notice, NotifySettings, Subscription
from okno.notify.planning import plan
from tests.notify.notify_helpers import make_customer, subscribe_account
from tests.notify.test_planning import NOON, ctx, points

pytestmark = pytest.mark.django_db
SUBS = "/api/v1/notify/subscriptions/"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def client(user=None) -> APIClient:
    c = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return c


def problem(response) -> dict:
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    return response.json()


def test_dispatcher_subscribes_a_customer_by_account(org):
    c = make_customer(org)
    r = client(org.dispatcher_a).post(
        SUBS,
        {"account": c.account.pk, "phone": "8 (912) 000-01-01", "email": "A@Example.ru", "language": "en"},
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["customer"] == c.pk and body["phone"] == "+79120000101" and body["email"] == "a@example.ru"
    assert body["channels"] == ["email", "sms"] and body["branch"] == org.a.pk and body["confirmed_at"]
    assert "token" not in body


def test_subscription_by_building_needs_a_known_house(org):
    c = make_customer(org, street="ул. Школьная", house="12")
    api = client(org.dispatcher_a)
    r = api.post(
        SUBS,
        {
            "customer": c.pk,
            "settlement": "Северск",
            "street": "ул. Школьная",
            "house": "99",
            "email": "x@example.ru",
        },
        format="json",
    )
    assert r.status_code == 400 and "house" in problem(r)["errors"]
    r = api.post(
        SUBS,
        {
            "customer": c.pk,
            "settlement": "северск",
            "street": "ул школьная",
            "house": "12",
            "email": "x@example.ru",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert (r.json()["settlement"], r.json()["street"]) == ("Северск", "ул. Школьная")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "+79120000102"}, "account"),  # neither account nor building
        ({"account": "__acc__"}, "email"),  # no contact at all
        ({"account": "__acc__", "email": "not-an-email"}, "email"),
        ({"account": "__acc__", "phone": "12"}, "phone"),
        ({"account": "__acc__", "phone": "+79120000102", "language": "de"}, "language"),
        ({"account": "__acc__", "phone": "+79120000102", "preferred_channel": "email"}, "preferred_channel"),
        (
            {"account": "__acc__", "push": {"endpoint": "https://push.example/1", "keys": {"p256dh": "k"}}},
            "push.keys.auth",
        ),
        ({"account": 999999, "phone": "+79120000102"}, "account"),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_saves_nothing(org, body, field):
    c = make_customer(org)
    body = {k: (c.account.pk if v == "__acc__" else v) for k, v in body.items()}
    r = client(org.dispatcher_a).post(SUBS, body, format="json")
    assert r.status_code == 400, r.content
    assert field in problem(r)["errors"], problem(r)
    assert not Subscription.objects.exists()


def test_update_and_delete_unsubscribe_with_the_withdrawal_on_record(org):
    c = make_customer(org)
    sub = subscribe_account(org, c, phone="+79120000103")
    api = client(org.dispatcher_a)
    r = api.patch(
        f"{SUBS}{sub.pk}/", {"email": "new@example.ru", "preferred_channel": "email"}, format="json"
    )
    assert r.status_code == 200 and r.json()["preferred_channel"] == "email"
    r = api.patch(f"{SUBS}{sub.pk}/", {"phone": "", "email": ""}, format="json")
    assert r.status_code == 400 and "email" in problem(r)["errors"]
    sub.refresh_from_db()
    assert sub.email == "new@example.ru"  # never half-saved
    assert api.delete(f"{SUBS}{sub.pk}/").status_code == 204
    sub.refresh_from_db()
    assert not sub.active and sub.unsubscribed_at is not None
    assert api.get(f"{SUBS}?active=false").json()["results"][0]["id"] == sub.pk


def test_subscriptions_api_permissions_and_branch_scope(org):
    ca = make_customer(org)
    cb = make_customer(org, branch="b")
    subscribe_account(org, ca, phone="+79120000104")
    sb = subscribe_account(org, cb, phone="+79120000105")
    assert client().get(SUBS).status_code in (401, 403)
    assert client(org.operator_a).get(SUBS).status_code == 403  # no subscription.change
    rows = client(org.dispatcher_a).get(SUBS).json()["results"]
    assert [r["customer"] for r in rows] == [ca.pk]
    assert client(org.dispatcher_a).get(f"{SUBS}{sb.pk}/").status_code == 404
    assert len(client(org.admin).get(SUBS).json()["results"]) == 2


def test_notices_api_lists_with_filters_for_notice_view(org):
    c = make_customer(org)
    subscribe_account(org, c, phone="+79120000106")
    plan("o:7:start", "outage_unplanned", points(c), ctx(org), now=NOON)
    api = client(org.operator_a)
    rows = api.get("/api/v1/notify/notices/?channel=sms&event=o:7").json()["results"]
    assert len(rows) == 1 and rows[0]["status"] == "queued" and rows[0]["template"] == "outage_unplanned"
    assert api.get("/api/v1/notify/notices/?status=sent").json()["results"] == []
    assert api.get("/api/v1/notify/notices/?status=bogus").status_code == 400
    assert client(org.operator_b).get("/api/v1/notify/notices/").json()["results"] == []
    assert client(org.security).get("/api/v1/notify/notices/").status_code == 403


# -- public subscribe with double opt-in ------------------------------------------------------------------


def public_body(**extra):
    body = {
        "settlement": "Северск",
        "street": "ул. Ленина",
        "house": "10",
        "email": "anon@example.ru",
        "consent": True,
    }
    body.update(extra)
    return body


def test_public_subscription_waits_for_confirmation(org, customers):
    r = client().post("/api/v1/notify/subscribe/", public_body(), format="json")
    assert r.status_code == 202, r.content
    assert r.json() == {"confirmation_sent_by": "email", "confirmed": False}
    sub = Subscription.objects.get()
    assert sub.customer_id is None and sub.consent_given_at is not None and sub.confirmed_at is None
    assert sub.source == "public" and sub.branch_id == org.a.pk
    # The confirmation notice is queued for the e-mail address.
    assert Notice.objects.get(event__key=f"confirm:{sub.pk}").recipient == "anon@example.ru"
    r = client().post("/api/v1/notify/confirm/", {"token": "wrong", "code": ""}, format="json")
    assert r.status_code == 400 and "code" in problem(r)["errors"]
    r = client().post("/api/v1/notify/confirm/", {"token": sub.token}, format="json")
    assert r.status_code == 200
    sub.refresh_from_db()
    assert sub.confirmed_at is not None


def test_public_sms_subscription_confirms_with_the_code(org, customers):
    r = client().post("/api/v1/notify/subscribe/", public_body(email="", phone="+79120000107"), format="json")
    sub = Subscription.objects.get()
    assert r.json() == {"confirmation_sent_by": "sms", "confirmed": False, "token": sub.token}
    r = client().post("/api/v1/notify/confirm/", {"token": sub.token}, format="json")
    assert r.status_code == 400  # the token alone does not prove the phone
    bad = "000000" if sub.confirm_code != "000000" else "111111"
    r = client().post("/api/v1/notify/confirm/", {"token": sub.token, "code": bad}, format="json")
    assert r.status_code == 400
    r = client().post(
        "/api/v1/notify/confirm/", {"token": sub.token, "code": sub.confirm_code}, format="json"
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"consent": False}, "consent"),
        ({"house": ""}, "house"),
        ({"email": ""}, "email"),
        ({"email": "bad"}, "email"),
    ],
)
def test_public_subscription_field_errors(org, customers, extra, field):
    r = client().post("/api/v1/notify/subscribe/", public_body(**extra), format="json")
    assert r.status_code == 400 and field in problem(r)["errors"]
    assert not Subscription.objects.exists()


def test_unknown_building_answers_with_suggestions(org, customers):
    r = client().post("/api/v1/notify/subscribe/", public_body(house="77"), format="json")
    body = problem(r)
    assert r.status_code == 400 and "house" in body["errors"]
    assert body["suggestions"] == ["Северск, ул. Ленина, д. 10"]


def test_public_subscribe_is_rate_limited_per_ip(org, customers):
    NotifySettings.objects.create(public_per_hour=2)
    anon = client()
    codes = [
        anon.post(
            "/api/v1/notify/subscribe/",
            public_body(email=f"r{i}@example.ru"),
            format="json",
            REMOTE_ADDR="203.0.113.5",
        ).status_code
        for i in range(3)
    ]
    assert codes == [202, 202, 429]
    other = anon.post(
        "/api/v1/notify/subscribe/",
        public_body(email="z@example.ru"),
        format="json",
        REMOTE_ADDR="203.0.113.6",
    )
    assert other.status_code == 202


# -- staff pages ------------------------------------------------------------------------------------------


def test_customer_subscriptions_page_and_switching_one_off(org, client):
    c = make_customer(org)
    sub = subscribe_account(org, c, phone="+79120000108")
    client.force_login(org.operator_a)
    assert client.get(f"/notify/customers/{c.pk}/").status_code == 403
    client.force_login(org.dispatcher_a)
    page = client.get(f"/notify/customers/{c.pk}/")
    assert page.status_code == 200 and "sms" in page.content.decode()
    r = client.post(f"/notify/customers/{c.pk}/", {"subscription": sub.pk})
    assert r.status_code == 302
    sub.refresh_from_db()
    assert not sub.active
    client.force_login(org.specialist_b)
    assert client.get(f"/notify/customers/{c.pk}/").status_code == 403


def test_delivery_log_page_filters(org, client):
    c1 = make_customer(org)
    c2 = make_customer(org, flat="2")
    subscribe_account(org, c1, phone="+79120000109")
    subscribe_account(org, c2, email="log@example.ru")
    plan("o:8:start", "outage_unplanned", points(c1, c2), ctx(org), now=NOON)
    client.force_login(org.operator_a)
    page = client.get("/notify/log/?channel=email&event=o:8").content.decode()
    assert "log@example.ru" in page and "+79120000109" not in page
    assert "+79120000109" in client.get("/notify/log/?status=queued").content.decode()
    client.force_login(org.security)
    assert client.get("/notify/log/").status_code == 403
