"""The demo's personal cabinet: one cabinet user ready to log in, and an account left free for a sign-up
by hand (its number and check value are printed by ``okno seed``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from okno.billing.models import Invoice, Meter
from okno.billing.proof import check_value_hint
from okno.customers.models import Account, CabinetChallenge, CabinetLink, CabinetUser
from okno.demo.org import DEMO_PASSWORD

CABINET_LOGIN = "cabinet@okno.demo"


@dataclass
class PortalSeed:
    cabinet_login: str = ""
    cabinet_account: str = ""
    signup_account: str = ""
    signup_check_value: str = ""


def _households_with_invoice_and_meter(limit: int) -> list[Account]:
    invoiced = Invoice.objects.values("account_id")
    metered = Meter.objects.filter(status=Meter.Status.ACTIVE).values("account_id")
    return list(
        Account.objects.filter(closed_on__isnull=True, pk__in=invoiced)
        .filter(pk__in=metered, customer__kind="individual", customer__contacts__kind="phone")
        .select_related("customer")
        .distinct()
        .order_by("pk")[:limit]
    )


@transaction.atomic
def build_portal() -> PortalSeed:
    """A cabinet user holding the first invoiced, metered household account; the second such account
    is for signing up by hand."""
    out = PortalSeed()
    candidates = _households_with_invoice_and_meter(2)
    if not candidates:
        return out
    account = candidates[0]
    user = CabinetUser.objects.filter(email=CABINET_LOGIN).first()
    if user is None:
        user = CabinetUser(email=CABINET_LOGIN, name=account.customer.display_name)
        user.set_password(DEMO_PASSWORD)
        user.save()
    CabinetLink.objects.get_or_create(user=user, account=account)
    out.cabinet_login, out.cabinet_account = CABINET_LOGIN, account.number
    if len(candidates) > 1:
        out.signup_account = candidates[1].number
        out.signup_check_value = check_value_hint(candidates[1])
    return out


def portal_models() -> list:
    return [CabinetChallenge, CabinetLink, CabinetUser]
