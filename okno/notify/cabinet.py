"""Outage notices for an account, switched on and off by its holder (personal cabinet).

One subscription per account is enough: switching on reuses the account's switched-off subscription
(or an active one made by an operator), else subscribes anew with the source "cabinet"; switching off
unsubscribes every active subscription of the account. Each change is a line in the customer's contact
history. Whether a notice then goes by e-mail or SMS is decided by the customer's consents.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from okno.core.context import acting_as
from okno.customers.actions import record_contact
from okno.customers.choices import ContactEventKind, ContactKind
from okno.customers.models import Account
from okno.notify import actions
from okno.notify.choices import Source
from okno.notify.models import Subscription


def account_subscriptions(account: Account) -> list[Subscription]:
    return list(Subscription.objects.filter(account=account).order_by("-active", "-created_at", "-id"))


def is_subscribed(account: Account) -> bool:
    return Subscription.objects.filter(account=account, active=True).exists()


def contacts_for(account: Account, *, fallback_email: str = "", fallback_phone: str = "") -> dict[str, str]:
    """The e-mail and phone notices go to: the customer's primary contacts, else the fallbacks given."""
    found: dict[str, str] = {}
    for kind, value in account.customer.contacts.order_by("-is_primary", "id").values_list("kind", "value"):
        found.setdefault(kind, value)
    return {
        "email": found.get(ContactKind.EMAIL, "") or fallback_email,
        "phone": found.get(ContactKind.PHONE, "") or fallback_phone,
    }


def _history(account: Account, summary: str, sub: Subscription, actor: Any) -> None:
    record_contact(
        account.customer_id,
        kind=ContactEventKind.NOTIFICATION,
        summary=summary,
        channel=Source.CABINET,
        ref=("notify.subscription", sub.pk, account.number),
        actor=actor,
    )


def switch_on(account: Account, *, actor: Any, email: str = "", phone: str = "") -> Subscription:
    """Outage notices for ``account`` on (idempotent); ``ValidationError`` when there is no contact."""
    with transaction.atomic(), acting_as(actor):
        Account.objects.select_for_update().filter(pk=account.pk).first()
        subs = account_subscriptions(account)
        active = next((s for s in subs if s.active), None)
        if active is not None:
            return active
        if subs:
            changes: dict[str, Any] = {"active": True}
            if email or phone:  # the contacts as they are now, not as they were when switched off
                changes.update(email=email, phone=phone)
            sub = actions.update_subscription(subs[0], actor=actor, **changes)
        else:
            sub = actions.subscribe(
                actor=actor, source=Source.CABINET, account=account, email=email, phone=phone
            )
        _history(
            account,
            _("Outage notices for account %(n)s switched on") % {"n": account.number},
            sub,
            actor,
        )
    return sub


def switch_off(account: Account, *, actor: Any) -> int:
    """Outage notices for ``account`` off: every active subscription of it. Returns how many."""
    count = 0
    with transaction.atomic(), acting_as(actor):
        Account.objects.select_for_update().filter(pk=account.pk).first()
        for sub in Subscription.objects.filter(account=account, active=True).order_by("id"):
            if actions.unsubscribe(sub, actor=actor):
                count += 1
                _history(
                    account,
                    _("Outage notices for account %(n)s switched off") % {"n": account.number},
                    sub,
                    actor,
                )
    return count
