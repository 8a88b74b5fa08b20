"""The unsubscribe link works without login: GET asks, POST (or RFC 8058 one-click) unsubscribes, idempotent."""

from __future__ import annotations

import pytest

from okno.core.models import ChangeLog
from okno.notify import actions
from okno.notify.models import Subscription
from okno.notify.planning import plan
from tests.notify.notify_helpers import make_customer, subscribe_account
from tests.notify.test_planning import NOON, ctx, points

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub(org):
    c = make_customer(org)
    s = subscribe_account(org, c, email="u@example.ru")
    s.customer_ = c
    return s


def test_get_shows_a_confirmation_and_changes_nothing(client, sub):
    r = client.get(f"/notify/unsubscribe/{sub.token}/")
    assert r.status_code == 200 and "Unsubscribe" in r.content.decode()
    sub.refresh_from_db()
    assert sub.active


def test_post_unsubscribes_and_records_the_withdrawal(client, org, sub):
    r = client.post(f"/notify/unsubscribe/{sub.token}/")
    assert r.status_code == 200 and "You are unsubscribed" in r.content.decode()
    sub.refresh_from_db()
    assert not sub.active and sub.unsubscribed_at is not None
    assert ChangeLog.objects.filter(
        object_type="notify.subscription", object_id=str(sub.pk), action="update"
    ).exists()
    # Planned notices stop: nothing for this subscriber on the next event.
    assert plan("o:1:restored", "outage_restored", points(sub.customer_), ctx(org), now=NOON)["planned"] == 0


def test_one_click_post_from_the_mail_client(client, sub):
    r = client.post(f"/notify/unsubscribe/{sub.token}/", {"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    sub.refresh_from_db()
    assert not sub.active


def test_unsubscribe_is_idempotent(client, sub):
    first = client.post(f"/notify/unsubscribe/{sub.token}/")
    when = Subscription.objects.get(pk=sub.pk).unsubscribed_at
    second = client.post(f"/notify/unsubscribe/{sub.token}/")
    assert first.status_code == second.status_code == 200
    assert Subscription.objects.get(pk=sub.pk).unsubscribed_at == when
    assert "You are unsubscribed" in client.get(f"/notify/unsubscribe/{sub.token}/").content.decode()


def test_unknown_token_is_404(client, db):
    assert client.get("/notify/unsubscribe/nope/").status_code == 404
    assert client.post("/notify/unsubscribe/nope/").status_code == 404


def test_anonymous_unsubscribe_withdraws_its_own_consent(client, org, customers):
    address = customers.acc_ivanov.service_point.address
    anon = actions.subscribe(actor=None, source="public", address=address, email="anon@example.ru")
    client.post(f"/notify/unsubscribe/{anon.token}/")
    anon.refresh_from_db()
    assert not anon.active and anon.consent_withdrawn_at is not None


def test_confirm_page_by_link_and_by_code(client, org, customers):
    address = customers.acc_ivanov.service_point.address
    by_mail = actions.subscribe(actor=None, source="public", address=address, email="c@example.ru")
    assert "Confirm" in client.get(f"/notify/confirm/{by_mail.token}/").content.decode()
    by_mail.refresh_from_db()
    assert by_mail.confirmed_at is None  # a GET (a mail scanner) confirms nothing
    client.post(f"/notify/confirm/{by_mail.token}/")
    by_mail.refresh_from_db()
    assert by_mail.confirmed_at is not None
    by_sms = actions.subscribe(actor=None, source="public", address=address, phone="+79120000201")
    wrong = "000000" if by_sms.confirm_code != "000000" else "111111"
    r = client.post(f"/notify/confirm/{by_sms.token}/", {"code": wrong})
    assert "does not match" in r.content.decode()
    client.post(f"/notify/confirm/{by_sms.token}/", {"code": by_sms.confirm_code})
    by_sms.refresh_from_db()
    assert by_sms.confirmed_at is not None
