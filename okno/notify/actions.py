"""Subscribing, confirming (double opt-in), changing and unsubscribing: every state change of a subscription."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.context import acting_as
from okno.customers.models import Account, Address, Customer, ServicePoint, fold
from okno.customers.numbers import is_valid_phone, normalize_phone
from okno.notify.choices import Channel, NoticeStatus, Source, TemplateCode
from okno.notify.models import Notice, NoticeEvent, Subscription
from okno.notify.texts import public_url, serialise_context

CONTACT_FIELDS = ("email", "phone", "push", "messenger")


# Words that say what kind of street or settlement it is: "ул. Ленина" and "Ленина" are the same building.
_KIND_WORDS = frozenset(
    [
        "ул",
        "улица",
        "пр",
        "пр-т",
        "просп",
        "проспект",
        "пер",
        "переулок",
        "пл",
        "площадь",
        "ш",
        "шоссе",
        "б-р",
        "бульвар",
        "наб",
        "набережная",
        "мкр",
        "микрорайон",
        "г",
        "город",
        "с",
        "село",
        "п",
        "пос",
        "поселок",
        "д",
        "деревня",
        "рп",
    ]
)


def _norm(text: str) -> str:
    words = re.sub(r"[^\w-]+", " ", fold(text)).split()
    return " ".join(w for w in words if w not in _KIND_WORDS)


def find_building(settlement: str, street: str, house: str) -> Address | None:
    """An address of a known building, matched ignoring case, ё/е, punctuation and "ул."/"г." (flat ignored)."""
    want = (_norm(settlement), _norm(street), _norm(house))
    candidates = Address.objects.filter(settlement__iexact=settlement.strip(), house__iexact=house.strip())
    if not candidates.exists():
        candidates = Address.objects.filter(house__iexact=house.strip())[:2000]
    for address in candidates:
        if (_norm(address.settlement), _norm(address.street), _norm(address.house)) == want:
            return address
    return None


def suggest_buildings(settlement: str, street: str, limit: int = 5) -> list[str]:
    """Known buildings in the settlement on a similar street, for the "not found" answer."""
    qs = Address.objects.filter(settlement__iexact=settlement.strip())
    if street.strip():
        qs = qs.filter(street__icontains=street.strip().split()[-1])
    seen: list[str] = []
    for s, st, h in qs.values_list("settlement", "street", "house").order_by("street", "house")[:200]:
        label = ", ".join(p for p in (s, st, f"д. {h}" if h else "") if p)
        if label not in seen:
            seen.append(label)
        if len(seen) >= limit:
            break
    return seen


def _normalise(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if out.get("email"):
        out["email"] = str(out["email"]).strip().lower()
    if out.get("phone"):
        if not is_valid_phone(str(out["phone"])):
            raise ValidationError(
                {"phone": _("Enter a phone number with the country code, e.g. +7 912 345-67-89.")}
            )
        out["phone"] = normalize_phone(str(out["phone"]))
    return out


def _branch_of_building(settlement: str, street: str, house: str) -> int | None:
    return (
        ServicePoint.objects.filter(
            address__settlement=settlement, address__street=street, address__house=house
        )
        .values_list("branch_id", flat=True)
        .first()
    )


def subscribe(
    *,
    actor: Any,
    source: str = Source.OPERATOR,
    customer: Customer | None = None,
    account: Account | None = None,
    address: Address | None = None,
    language: str = "ru",
    preferred_channel: str = "",
    email: str = "",
    phone: str = "",
    push: dict | None = None,
    messenger: str = "",
) -> Subscription:
    """Subscribe a customer (confirmed at once, their consents decide) or an anonymous person.

    An anonymous subscription records its own consent now and is sent a confirmation (a link by
    e-mail, a code by SMS); it gets no outage notices until confirmed.
    """
    fields = _normalise({"email": email, "phone": phone, "push": push, "messenger": messenger})
    now = timezone.now()
    with transaction.atomic(), acting_as(actor):
        if account is not None:
            if customer is not None and account.customer_id != customer.pk:
                raise ValidationError({"account": _("The account belongs to another customer.")})
            customer = account.customer
        sub = Subscription(
            customer=customer,
            account=account,
            language=language,
            preferred_channel=preferred_channel,
            source=source,
            **fields,
        )
        if account is not None:
            sub.branch_id = account.service_point.branch_id
        elif address is not None:
            sub.settlement, sub.street, sub.house = address.settlement, address.street, address.house
            sub.branch_id = _branch_of_building(address.settlement, address.street, address.house)
        if customer is not None:
            sub.confirmed_at = now
        else:
            sub.consent_given_at = now
        sub.full_clean()
        sub.save()
        if customer is None:
            send_confirmation(sub)
    return sub


def send_confirmation(sub: Subscription) -> None:
    """The double opt-in message: by e-mail (link and code) if there is one, else by SMS (code)."""
    channel = Channel.EMAIL if sub.email else Channel.SMS if sub.phone else ""
    if not channel:
        sub.confirmed_at = timezone.now()  # push or messenger: the browser or bot itself confirmed
        sub.save(update_fields=["confirmed_at"])
        return
    context = {
        "address": sub.building_label or str(sub.account or ""),
        "code": sub.confirm_code,
        "confirm_url": public_url(reverse("notify:confirm", args=[sub.token])),
        "branch_id": sub.branch_id,
    }
    event, _created = NoticeEvent.objects.get_or_create(
        key=f"confirm:{sub.pk}",
        defaults={"template": TemplateCode.CONFIRM, "context": serialise_context(context), "emergency": True},
    )
    Notice.objects.get_or_create(
        event=event,
        dedup_key=f"{channel}:{sub.contact_for(channel)}",
        defaults={
            "channel": channel,
            "recipient": sub.contact_for(channel),
            "language": sub.language,
            "subscription": sub,
            "branch_id": sub.branch_id,
            "status": NoticeStatus.QUEUED,
        },
    )
    from okno.core.jobs import enqueue

    enqueue("notify.deliver")


def confirm(sub: Subscription, *, code: str | None = None) -> bool:
    """Double opt-in: the e-mailed link (token) alone, or the token with the code sent by SMS. Idempotent.

    Without an e-mail the confirmation went by SMS, and the token was shown to whoever filled in the form:
    then the code is required, or anyone could subscribe someone else's phone.
    """
    if code is None and not sub.email and sub.confirmed_at is None:
        return False
    if code is not None and code.strip() != sub.confirm_code:
        return False
    if sub.confirmed_at is None and sub.active:
        Subscription.objects.filter(pk=sub.pk, confirmed_at__isnull=True).update(confirmed_at=timezone.now())
        sub.refresh_from_db(fields=["confirmed_at"])
    return sub.confirmed_at is not None


def unsubscribe(sub: Subscription, *, actor: Any = None) -> bool:
    """Stop every notice of the subscription and record the withdrawal; True if it was active."""
    now = timezone.now()
    with transaction.atomic(), acting_as(actor):
        locked = Subscription.objects.select_for_update().get(pk=sub.pk)
        if not locked.active:
            return False
        locked.active = False
        locked.unsubscribed_at = now
        fields = ["active", "unsubscribed_at"]
        if locked.customer_id is None:
            locked.consent_withdrawn_at = now
            fields.append("consent_withdrawn_at")
        locked.save(update_fields=fields)
    sub.refresh_from_db()
    return True


def update_subscription(sub: Subscription, *, actor: Any, **changes: Any) -> Subscription:
    """Change channels, contacts, language or the active flag (validated as a whole, never half-saved)."""
    allowed = {*CONTACT_FIELDS, "language", "preferred_channel", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    changes = _normalise(changes)
    with transaction.atomic(), acting_as(actor):
        locked = Subscription.objects.select_for_update().get(pk=sub.pk)
        for key, value in changes.items():
            setattr(locked, key, value)
        if changes.get("active") is False and locked.unsubscribed_at is None:
            locked.unsubscribed_at = timezone.now()
        if changes.get("active") is True:
            locked.unsubscribed_at = None
        locked.full_clean()
        locked.save()
    return locked
