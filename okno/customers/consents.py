"""Giving and withdrawing a customer's consents as the customer does it (personal cabinet, kiosk).

:class:`~okno.customers.models.Consent` rows are history: withdrawing sets ``withdrawn_at`` on the
active rows, giving again adds a new row. Unlike the bare :func:`okno.customers.actions.give_consent`
and :func:`~okno.customers.actions.withdraw_consent`, these functions are idempotent per channel and
purpose (no second active row, nothing to withdraw is a no-op) and write a line in the customer's
contact history for every change, so an operator sees when and where the customer changed their mind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from okno.core.context import acting_as
from okno.customers.actions import give_consent, record_contact, withdraw_consent
from okno.customers.choices import ConsentPurpose, ContactEventKind
from okno.customers.models import Consent, Customer

# The channels a consent may name (the model's choices: phone, e-mail, SMS, any).
CONSENT_CHANNELS = tuple(code for code, _label in Consent._meta.get_field("channel").choices or ())

# There is no "consent" kind of contact history yet: a consent change is filed with notifications
# (it decides which notices the customer gets). See the report to the lead.
HISTORY_KIND = ContactEventKind.NOTIFICATION


def _labels(channel: str, purpose: str) -> dict[str, str]:
    channels = dict(Consent._meta.get_field("channel").choices or ())
    return {"purpose": str(ConsentPurpose(purpose).label), "channel": str(channels.get(channel, channel))}


def _validate(channels: Iterable[str], purpose: str) -> None:
    errors: dict[str, list[str]] = {}
    if any(c not in CONSENT_CHANNELS for c in channels):
        errors["channel"] = [_("Choose a channel from the list.")]
    if purpose not in ConsentPurpose.values:
        errors["purpose"] = [_("Choose a purpose from the list.")]
    if errors:
        raise ValidationError(errors)


def active_consents(customer: Customer) -> list[Consent]:
    return list(customer.consents.filter(withdrawn_at__isnull=True).order_by("-given_at", "-id"))


def give(customer: Customer, *, channel: str, purpose: str, actor: Any, source: str = "") -> Consent | None:
    """Give consent for ``channel`` and ``purpose``; ``None`` when an active one already exists."""
    _validate([channel], purpose)
    with transaction.atomic(), acting_as(actor):
        # The customer row lock serialises two clicks, so there is never a second active row.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        if customer.consents.filter(channel=channel, purpose=purpose, withdrawn_at__isnull=True).exists():
            return None
        consent = give_consent(customer, channel=channel, purpose=purpose, actor=actor, source=source)
        record_contact(
            customer.pk,
            kind=HISTORY_KIND,
            summary=_("Consent given: %(purpose)s, %(channel)s") % _labels(channel, purpose),
            channel=source,
            ref=("customers.consent", consent.pk, ""),
            actor=actor,
            occurred_at=consent.given_at,
        )
    return consent


def withdraw(
    customer: Customer, *, channels: Iterable[str], purpose: str, actor: Any, source: str = ""
) -> list[Consent]:
    """Withdraw every active consent of the customer for ``purpose`` on any of ``channels``.

    Returns the rows withdrawn now (empty when there was nothing to withdraw).
    """
    channels = list(channels)
    _validate(channels, purpose)
    done: list[Consent] = []
    with transaction.atomic(), acting_as(actor):
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        rows = customer.consents.filter(channel__in=channels, purpose=purpose, withdrawn_at__isnull=True)
        for row in rows.order_by("given_at", "id"):
            consent = withdraw_consent(row, actor=actor)
            done.append(consent)
            record_contact(
                customer.pk,
                kind=HISTORY_KIND,
                summary=_("Consent withdrawn: %(purpose)s, %(channel)s") % _labels(consent.channel, purpose),
                channel=source,
                ref=("customers.consent", consent.pk, ""),
                actor=actor,
                occurred_at=consent.withdrawn_at,
            )
    return done
