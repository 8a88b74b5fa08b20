"""What the text channels (e-mail, SMS, the chat) share: registering a free text with the assistant's
suggestion (:mod:`okno.assistant.suggest`) applied above the threshold and recorded either way, and
finding the customer by a contact."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from okno.appeals import actions
from okno.appeals.choices import RELIABILITY_TOPICS, AppealType, ClassifiedBy, Topic
from okno.appeals.models import Appeal
from okno.assistant import suggest
from okno.customers.models import Account, Address, ContactPoint, Customer
from okno.org.models import Branch, User

log = logging.getLogger(__name__)

DEFAULT_KIND = AppealType.INFO_REQUEST
DEFAULT_TOPIC = Topic.OTHER
COMPLAINT_FIELDS = {"contract_number", "violation_place", "violation_at", "demand"}


@dataclass(frozen=True)
class Guess:
    kind: str
    topic: str
    confidence: float
    source: str  # "nlu" or "default"


def classify(text: str) -> Guess:
    """Type and topic as registration applies them (see :func:`register`): the assistant's where its
    confidence reaches the threshold, else the defaults."""
    found = suggest.suggest(text, with_entities=False)
    kind, topic, applied = found.applied(DEFAULT_KIND, DEFAULT_TOPIC)
    if not applied:
        return Guess(DEFAULT_KIND, DEFAULT_TOPIC, found.confidence, "default")
    return Guess(kind, topic, found.confidence, "nlu")


def customer_by_contact(kind: str, value: str, *, user: Any = None) -> Customer | None:
    """The one customer with this e-mail or phone among their contacts (None when none or several).

    ``user``: the staff account the message came through (the SMS gateway's token); a customer outside
    its branch scope is not identified, so the appeal is never linked to them (nor shown in their
    cabinet) through another branch's gateway account."""
    if not value:
        return None
    ids = list(
        ContactPoint.objects.filter(kind=kind, value=value)
        .values_list("customer_id", flat=True)
        .distinct()[:2]
    )
    if len(ids) != 1:
        return None
    rows = Customer.objects.all() if user is None else Customer.objects.restrict(user, "view")
    return rows.filter(pk=ids[0]).first()


def account_of(
    customer: Customer | None, text: str, found: suggest.Suggestion | None = None
) -> Account | None:
    """The customer's account named in the text, else their only account (None without a customer)."""
    if customer is None:
        return None
    owned = list(Account.objects.filter(customer=customer).select_related("service_point")[:50])
    if found is None:
        found = suggest.suggest(text, customer=customer)
    for number in found.account_numbers:
        for acc in owned:
            if acc.number == number:
                return acc
    return owned[0] if len(owned) == 1 else None


def intake_branch() -> Branch | None:
    """``ASSISTANT_INTAKE_BRANCH`` (a branch code) for appeals whose territory is unknown."""
    code = getattr(settings, "ASSISTANT_INTAKE_BRANCH", "")
    return Branch.objects.filter(code=code).first() if code else None


def register(*, actor: User, text: str, customer: Customer | None, **fields: object) -> Appeal:
    """Register a free text from a text channel (e-mail, SMS, the chat).

    The assistant's type and topic are applied each when its confidence reaches the threshold
    (``classified_by`` "assistant"); otherwise the defaults (information request, other) are registered
    and the suggestion waits for an operator (``classified_by`` "default"). The suggestion is recorded
    either way. The account named in the text is linked only when it is the known customer's (the
    customer's only account otherwise); an account of an unknown sender is recorded as
    ``suggested_account`` for the operator, never linked (anyone can type any number). The address found
    in the text becomes the appeal's address (and so its territory) unless the caller gives one.

    A complaint the text cannot complete (supply complaints need the place, time and demand) is
    registered as a report; a registration the action refuses for the type or topic is registered with
    the defaults instead of being lost."""
    found = suggest.suggest(text, customer=customer)
    account = account_of(customer, text, found)
    kind, topic, applied = found.applied(DEFAULT_KIND, DEFAULT_TOPIC)
    if kind == AppealType.COMPLAINT and topic in RELIABILITY_TOPICS:
        kind = AppealType.REPORT
    address = fields.pop("address", None)
    address_text = str(fields.pop("address_text", "") or "")
    if address is None and account is None and found.address is not None:
        address = found.address
    if not address_text and found.address_text:
        address_text = found.address_text[:400]
    branch = fields.pop("branch", None)
    if branch is None and account is None and customer is None and address is None:
        branch = intake_branch()
    suggestion = found.for_appeal(account_linked=account is not None or customer is not None)
    base = {
        "actor": actor,
        "text": text,
        "customer": customer,
        "account": account,
        "address": address if isinstance(address, Address) else None,
        "address_text": address_text,
        "branch": branch,
        "suggestion": suggestion if (found.available or suggestion["account"]) else None,
        **fields,
    }
    try:
        return actions.register_appeal(
            kind=kind,
            topic=topic,
            classified_by=ClassifiedBy.ASSISTANT if applied else ClassifiedBy.DEFAULT,
            **base,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        if (kind, topic) == (DEFAULT_KIND, DEFAULT_TOPIC) or not hasattr(exc, "error_dict"):
            raise
        if not set(exc.error_dict) & (COMPLAINT_FIELDS | {"kind", "topic"}):
            raise
        return actions.register_appeal(
            kind=DEFAULT_KIND,
            topic=DEFAULT_TOPIC,
            classified_by=ClassifiedBy.DEFAULT,
            **base,  # type: ignore[arg-type]
        )
