"""What the e-mail and SMS intakes share: classification with a safe fallback, finding the customer."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from okno.appeals import actions
from okno.appeals.choices import RELIABILITY_TOPICS, AppealType, Topic
from okno.appeals.models import Appeal
from okno.customers.models import Account, ContactPoint, Customer
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
    """Type and topic from ``okno.assistant.nlu.classify`` when it is there and works, else the defaults."""
    try:
        from okno.assistant import nlu  # type: ignore[attr-defined,unused-ignore]

        result = nlu.classify(text)
    except Exception:  # noqa: BLE001 — no model built yet, or the module is absent: use the defaults
        log.info("assistant intake: classifier unavailable, using the defaults", exc_info=True)
        return Guess(DEFAULT_KIND, DEFAULT_TOPIC, 0.0, "default")
    kind = str(getattr(result, "type", "") or "")
    topic = str(getattr(result, "topic", "") or "")
    if kind not in AppealType.values or topic not in Topic.values:
        return Guess(DEFAULT_KIND, DEFAULT_TOPIC, 0.0, "default")
    return Guess(kind, topic, float(getattr(result, "confidence", 0.0) or 0.0), "nlu")


def customer_by_contact(kind: str, value: str) -> Customer | None:
    """The one customer with this e-mail or phone among their contacts (None when none or several)."""
    if not value:
        return None
    ids = list(
        ContactPoint.objects.filter(kind=kind, value=value)
        .values_list("customer_id", flat=True)
        .distinct()[:2]
    )
    if len(ids) != 1:
        return None
    return Customer.objects.filter(pk=ids[0]).first()


def account_of(customer: Customer | None, text: str) -> Account | None:
    """The customer's account named in the text (through ``okno.assistant.extract`` when present), else
    their only account."""
    if customer is None:
        return None
    owned = list(Account.objects.filter(customer=customer).select_related("service_point")[:50])
    try:
        from okno.assistant import extract  # type: ignore[attr-defined,unused-ignore]

        named = [str(n) for n in extract.extract(text).accounts]
    except Exception:  # noqa: BLE001 — the extractor is optional
        named = []
    for number in named:
        for acc in owned:
            if acc.number == number:
                return acc
    return owned[0] if len(owned) == 1 else None


def intake_branch() -> Branch | None:
    """``ASSISTANT_INTAKE_BRANCH`` (a branch code) for appeals whose territory is unknown."""
    code = getattr(settings, "ASSISTANT_INTAKE_BRANCH", "")
    return Branch.objects.filter(code=code).first() if code else None


def register(*, actor: User, text: str, customer: Customer | None, **fields: object) -> Appeal:
    """Register with the guessed type/topic; a complaint the text cannot complete (supply complaints
    need the place, time and demand) is registered with the defaults instead of being lost."""
    guess = classify(text)
    account = account_of(customer, text)
    branch = intake_branch() if account is None and customer is None else None
    kind, topic = guess.kind, guess.topic
    if kind == AppealType.COMPLAINT and topic in RELIABILITY_TOPICS:
        kind = AppealType.REPORT
    try:
        return actions.register_appeal(
            actor=actor,
            kind=kind,
            topic=topic,
            text=text,
            customer=customer,
            account=account,
            branch=branch,
            **fields,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        if (kind, topic) == (DEFAULT_KIND, DEFAULT_TOPIC) or not hasattr(exc, "error_dict"):
            raise
        if not set(exc.error_dict) & (COMPLAINT_FIELDS | {"kind", "topic"}):
            raise
        return actions.register_appeal(
            actor=actor,
            kind=DEFAULT_KIND,
            topic=DEFAULT_TOPIC,
            text=text,
            customer=customer,
            account=account,
            branch=branch,
            **fields,  # type: ignore[arg-type]
        )
