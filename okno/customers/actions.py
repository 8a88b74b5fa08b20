"""State changes of customers: the only place they are created or edited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.context import acting_as
from okno.customers.choices import ContactEventKind, ContactKind
from okno.customers.models import (
    Account,
    Address,
    Consent,
    ContactEvent,
    ContactPoint,
    Customer,
    ServicePoint,
    fold,
)
from okno.customers.numbers import is_valid_phone, normalize_phone


def _refresh_search_text(customer: Customer) -> None:
    extra = [c.value for c in customer.contacts.all()]
    for acc in customer.accounts.select_related("service_point__address"):
        extra += [acc.number, str(acc.service_point.address)]
    text = customer.build_search_text(extra)
    if text != customer.search_text:
        Customer.objects.filter(pk=customer.pk).update(search_text=text)
        customer.search_text = text


def create_customer(
    *, actor: Any, phones: list[str] | None = None, emails: list[str] | None = None, **fields: Any
) -> Customer:
    """Create a customer with contacts; field errors raise ``ValidationError`` and nothing is saved."""
    if (
        fields.get("branch") is None
        and not getattr(actor, "all_branches", True)
        and len(actor.branch_ids) == 1
    ):
        # A customer created by branch staff belongs to that branch (not visible company-wide).
        fields["branch_id"] = actor.branch_ids[0]
        fields.pop("branch", None)
    with transaction.atomic(), acting_as(actor):
        customer = Customer(**fields)
        customer.full_clean(exclude=["search_text"])
        errors: dict[str, list[str]] = {}
        for phone in phones or []:
            if not is_valid_phone(phone):
                errors.setdefault("phones", []).append(_("Phone number %(p)s is not valid.") % {"p": phone})
        if errors:
            raise ValidationError(errors)
        customer.save()
        phones = list(dict.fromkeys(normalize_phone(p) for p in phones or []))
        emails = list(dict.fromkeys(e.strip().lower() for e in emails or [] if e.strip()))
        for i, phone in enumerate(phones):
            ContactPoint.objects.create(
                customer=customer, kind=ContactKind.PHONE, value=phone, is_primary=i == 0
            )
        for i, email in enumerate(emails):
            contact = ContactPoint(customer=customer, kind=ContactKind.EMAIL, value=email, is_primary=i == 0)
            contact.full_clean(exclude=["customer"])
            contact.save()
        _refresh_search_text(customer)
    return customer


def update_customer(customer: Customer, *, actor: Any, **fields: Any) -> Customer:
    with transaction.atomic(), acting_as(actor):
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        for key, value in fields.items():
            setattr(customer, key, value)
        customer.full_clean(exclude=["search_text"])
        customer.save(update_fields=list(fields))
        _refresh_search_text(customer)
    return customer


def add_contact(customer: Customer, *, kind: str, value: str, actor: Any) -> ContactPoint:
    with transaction.atomic(), acting_as(actor):
        if kind == ContactKind.PHONE and not is_valid_phone(value):
            raise ValidationError({"value": _("Phone number %(p)s is not valid.") % {"p": value}})
        contact, _created = ContactPoint.objects.get_or_create(
            customer=customer,
            kind=kind,
            value=normalize_phone(value) if kind == ContactKind.PHONE else value.strip().lower(),
        )
        _refresh_search_text(customer)
    return contact


def give_consent(customer: Customer, *, channel: str, purpose: str, actor: Any, source: str = "") -> Consent:
    with transaction.atomic(), acting_as(actor):
        return Consent.objects.create(customer=customer, channel=channel, purpose=purpose, source=source)


def withdraw_consent(consent: Consent, *, actor: Any) -> Consent:
    with transaction.atomic(), acting_as(actor):
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if consent.withdrawn_at is None:
            consent.withdrawn_at = timezone.now()
            consent.save(update_fields=["withdrawn_at"])
    return consent


def open_account(
    *,
    customer: Customer,
    number: str,
    address: Address,
    actor: Any,
    contract_number: str = "",
    service_point: ServicePoint | None = None,
) -> Account:
    """Open an account at a service point (created at the address when not given)."""
    with transaction.atomic(), acting_as(actor):
        if address.pk is None:
            address.full_clean()
            address.save()
        if service_point is None:
            district = address.grid_district
            if district is None:
                raise ValidationError(
                    {"address": _("The address is outside every grid district; choose the grid district.")}
                )
            service_point = ServicePoint.objects.create(
                address=address, branch=district.branch, grid_district=district
            )
        account = Account(
            customer=customer, number=number, service_point=service_point, contract_number=contract_number
        )
        account.full_clean()
        account.save()
        if customer.branch_id is None:
            Customer.objects.filter(pk=customer.pk).update(branch=service_point.branch)
            customer.branch = service_point.branch
        _refresh_search_text(customer)
    return account


def record_contact(
    customer_id: int,
    *,
    kind: str,
    summary: str,
    channel: str = "",
    ref: tuple[str, int, str] | None = None,
    actor: Any = None,
    occurred_at: Any = None,
) -> ContactEvent:
    """Add a line to the customer's contact history (appeals, answers, calls, notifications, visits)."""
    if kind not in ContactEventKind.values:
        raise ValueError(f"unknown contact kind {kind!r}")
    ref_type, ref_id, ref_label = ref or ("", None, "")
    return ContactEvent.objects.create(
        customer_id=customer_id,
        kind=kind,
        summary=summary[:300],
        channel=channel,
        ref_type=ref_type,
        ref_id=ref_id,
        ref_label=ref_label,
        actor=actor if getattr(actor, "pk", None) else None,
        occurred_at=occurred_at or timezone.now(),
    )


__all__ = ["fold"]
