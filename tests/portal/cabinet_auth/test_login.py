"""Login, logout, the ``next`` parameter, login throttling and password reset."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from okno.customers.models import CabinetUser
from tests.portal.cabinet_auth.conftest import last_code
from tests.portal.conftest import CABINET_PASSWORD, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lampa-na-kuhne-42"  # noqa: S105


def test_login_by_email_goes_to_the_dashboard_and_logout_ends_the_session(client, ivanov_user):
    response = client.post(
        reverse("cabinet:login"), {"login": " Ivanov@Example.ru ", "password": CABINET_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/cabinet/"
    ivanov_user.refresh_from_db()
    assert ivanov_user.last_login_at is not None
    assert client.get(reverse("cabinet:profile")).status_code == 200
    assert client.get(reverse("cabinet:logout")).status_code == 405  # POST only
    response = client.post(reverse("cabinet:logout"))
    assert response["Location"] == reverse("cabinet:login")
    assert client.get(reverse("cabinet:profile")).status_code == 302


def test_login_by_phone(client, ivanov_user):
    CabinetUser.objects.filter(pk=ivanov_user.pk).update(phone="+79123456789")
    response = client.post(
        reverse("cabinet:login"), {"login": "8 912 345-67-89", "password": CABINET_PASSWORD}
    )
    assert response.status_code == 302


def test_wrong_password_and_unknown_login_get_one_message(client, ivanov_user):
    wrong = client.post(reverse("cabinet:login"), {"login": "ivanov@example.ru", "password": "nope"})
    unknown = client.post(reverse("cabinet:login"), {"login": "nobody@example.ru", "password": "nope"})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "The e-mail or phone and password do not match." in response.content.decode()
    assert 'value="ivanov@example.ru"' in wrong.content.decode()


def test_login_failures_are_throttled_per_login(client, ivanov_user):
    for _ in range(5):
        client.post(reverse("cabinet:login"), {"login": "ivanov@example.ru", "password": "nope"})
    response = client.post(
        reverse("cabinet:login"), {"login": "ivanov@example.ru", "password": CABINET_PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_login_failures_are_throttled_per_ip(client, ivanov_user):
    for n in range(20):
        client.post(
            reverse("cabinet:login"),
            {"login": f"guess{n}@example.ru", "password": "x"},
            REMOTE_ADDR="203.0.113.9",
        )
    data = {"login": "ivanov@example.ru", "password": CABINET_PASSWORD}
    assert client.post(reverse("cabinet:login"), data, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert client.post(reverse("cabinet:login"), data, REMOTE_ADDR="198.51.100.2").status_code == 302


def test_next_is_honoured_for_a_local_path(client, ivanov_user):
    page = client.get(reverse("cabinet:login") + "?next=/cabinet/appeals/")
    assert 'name="next" value="/cabinet/appeals/"' in page.content.decode()
    data = {"login": "ivanov@example.ru", "password": CABINET_PASSWORD, "next": "/cabinet/appeals/"}
    assert client.post(reverse("cabinet:login"), data)["Location"] == "/cabinet/appeals/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_to_another_site_is_refused(client, ivanov_user, target):
    data = {"login": "ivanov@example.ru", "password": CABINET_PASSWORD, "next": target}
    assert client.post(reverse("cabinet:login"), data)["Location"] == "/cabinet/"


def test_login_keeps_nothing_of_a_hostile_login_unescaped(client, db):
    response = client.post(
        reverse("cabinet:login"), {"login": "<img src=x onerror=alert(1)>@x", "password": "p"}
    )
    body = response.content.decode()
    assert "<img src=x" not in body and "&lt;img src=x" in body


def test_reset_by_code_sets_the_new_password_and_ends_other_sessions(
    client, post, ivanov_user, django_user_model
):
    from django.test import Client

    other = Client()
    sign_in(other, ivanov_user)
    response = post(client, reverse("cabinet:reset"), {"login": "ivanov@example.ru"})
    assert response["Location"] == reverse("cabinet:reset_verify")
    assert mail.outbox[-1].to == ["ivanov@example.ru"]
    data = {"code": last_code(), "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    response = post(client, reverse("cabinet:reset_verify"), data)
    assert response.status_code == 302
    ivanov_user.refresh_from_db()
    assert ivanov_user.check_password(NEW_PASSWORD) and not ivanov_user.check_password(CABINET_PASSWORD)
    assert client.get(reverse("cabinet:profile")).status_code == 200  # logged in here
    assert other.get(reverse("cabinet:profile")).status_code == 302  # the old session ended


def test_reset_for_an_unknown_login_looks_the_same_but_sends_nothing(client, post, ivanov_user):
    known = post(client, reverse("cabinet:reset"), {"login": "ivanov@example.ru"}, follow=True)
    unknown = post(client, reverse("cabinet:reset"), {"login": "stranger@example.ru"}, follow=True)
    assert len(mail.outbox) == 1
    for response in (known, unknown):
        assert (
            "If this e-mail or phone is registered, we have sent a code to it." in response.content.decode()
        )
    data = {"code": "123456", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    response = post(client, reverse("cabinet:reset_verify"), data)
    assert response.status_code == 400
    assert "The code is not correct" in response.content.decode()


def test_reset_with_a_wrong_code_changes_nothing(client, post, ivanov_user):
    post(client, reverse("cabinet:reset"), {"login": "ivanov@example.ru"})
    code = last_code()
    wrong = "000000" if code != "000000" else "999999"
    data = {"code": wrong, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert post(client, reverse("cabinet:reset_verify"), data).status_code == 400
    ivanov_user.refresh_from_db()
    assert ivanov_user.check_password(CABINET_PASSWORD)
