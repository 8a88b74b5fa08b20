"""Portal fixtures: the billing fixtures, and cabinet users holding Иванов's or Ромашка's account."""

from __future__ import annotations

import pytest

from tests.billing.conftest import metered, tariffs  # noqa: F401  (fixtures reused by the portal tests)
from tests.web.conftest import (  # noqa: F401  (Debian's Chromium for the browser tests)
    browser_context_args,
    browser_type_launch_args,
    okno_static,
)

CABINET_PASSWORD = "Svet-2026-okno"


def _cabinet_user(email: str, *accounts):
    from okno.customers.models import CabinetLink, CabinetUser

    user = CabinetUser(email=email)
    user.set_password(CABINET_PASSWORD)
    user.save()
    for account in accounts:
        CabinetLink.objects.create(user=user, account=account)
    return user


@pytest.fixture
def ivanov_user(customers):
    """A cabinet user holding Иванов's account (ivanov@example.ru)."""
    return _cabinet_user("ivanov@example.ru", customers.acc_ivanov)


@pytest.fixture
def romashka_user(customers):
    """A cabinet user holding ООО «Ромашка»'s account: someone else, whose ids Иванов tries."""
    return _cabinet_user("buh@romashka.example", customers.acc_romashka)


def sign_in(client, user) -> None:
    """Put ``user`` in ``client``'s session as the cabinet's login does."""
    from okno.portal.cabinet.session import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = {"id": user.pk, "v": user.session_version}
    session.save()


def sign_in_long_ago(client, user) -> None:
    """Put ``user`` in ``client``'s session as signed in so long ago that the sign-in has ended."""
    from okno.portal.cabinet.session import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = {"id": user.pk, "v": user.session_version, "at": 0}
    session.save()


@pytest.fixture
def cabinet(client, ivanov_user):
    """A test client signed in to the cabinet as Иванов."""
    sign_in(client, ivanov_user)
    return client
