"""What the assistant suggests for a free-text appeal at registration: its type and topic with their
confidences and the words behind them, the accounts, the address and the phones named in it.

:func:`suggest` is used by every text channel: the operator's registration screen (pre-filled for the
operator), and the internet reception's free-text forms, e-mail, SMS and the chat, which apply the type
and the topic automatically when the confidence reaches :func:`threshold`
(``OKNO_ASSISTANT_AUTO_THRESHOLD``, default 0.70) and otherwise register the defaults and record the
suggestion for an operator to confirm. docs/assistant/classification.md ("At registration") says how
the threshold was chosen.

It never fails a registration: without a model file (``okno assistant train`` not run) or when the
classifier raises, the suggestion has no type or topic (``available`` is False) and the entities are
still read; a model is never trained inside a request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from okno.appeals.choices import RELIABILITY_TOPICS, AppealType, Topic
from okno.customers.models import Account, Address, Customer

log = logging.getLogger(__name__)

#: The lowest confidence at which a type or a topic is applied without an operator (see the docs).
DEFAULT_THRESHOLD = 0.70
#: A supply problem told in free text is registered as a report: the complaint's required fields
#: (contract, place, time, demand) are not in it. The two types count together for its confidence.
SUPPLY_PROBLEM_TYPES = (AppealType.COMPLAINT, AppealType.REPORT)
MAX_ACCOUNTS = 5


def threshold() -> float:
    """``OKNO_ASSISTANT_AUTO_THRESHOLD``: a number from 0 to 1 (above 1 nothing is applied automatically)."""
    raw = getattr(settings, "OKNO_ASSISTANT_AUTO_THRESHOLD", DEFAULT_THRESHOLD)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"OKNO_ASSISTANT_AUTO_THRESHOLD must be a number, not {raw!r}") from None
    if not 0.0 <= value <= 1.01:
        raise ImproperlyConfigured(f"OKNO_ASSISTANT_AUTO_THRESHOLD must be between 0 and 1, not {value}")
    return value


@dataclass
class Suggestion:
    """The assistant's reading of one text. ``kind``/``topic`` are "" when the classifier is unavailable
    or the text cannot be classified (``unusable``: "empty", "not_russian")."""

    kind: str = ""
    topic: str = ""
    kind_confidence: float = 0.0
    topic_confidence: float = 0.0
    reasons: list[str] = field(default_factory=list)
    account_numbers: list[str] = field(default_factory=list)  # valid check digit, in text order
    accounts: list[Account] = field(default_factory=list)  # of those, the stored ones (in scope)
    address: Address | None = None  # exactly one stored address resolved
    address_candidates: list[Address] = field(default_factory=list)  # several match: choose one
    address_text: str = ""  # the address as written
    phones: list[str] = field(default_factory=list)
    unusable: str | None = None
    threshold: float = DEFAULT_THRESHOLD

    @property
    def available(self) -> bool:
        return bool(self.kind and self.topic)

    @property
    def confidence(self) -> float:
        return min(self.kind_confidence, self.topic_confidence) if self.available else 0.0

    @property
    def apply_kind(self) -> bool:
        return self.available and self.kind_confidence >= self.threshold

    @property
    def apply_topic(self) -> bool:
        return self.available and self.topic_confidence >= self.threshold

    @property
    def account(self) -> Account | None:
        """The account when the text names exactly one stored account."""
        return self.accounts[0] if len(self.accounts) == 1 else None

    def applied(self, kind: str, topic: str) -> tuple[str, str, bool]:
        """The type and topic to register given the channel's defaults: each suggestion that reaches the
        threshold replaces its default. The flag says whether anything was applied."""
        new_kind = self.kind if self.apply_kind else kind
        new_topic = self.topic if self.apply_topic else topic
        return new_kind, new_topic, (self.apply_kind or self.apply_topic)

    def for_appeal(self, *, account_linked: bool = False) -> dict[str, Any]:
        """The ``suggestion`` argument of ``register_appeal`` (the account only when not linked)."""
        return {
            "kind": self.kind,
            "topic": self.topic,
            "kind_confidence": round(self.kind_confidence, 4) if self.kind else None,
            "topic_confidence": round(self.topic_confidence, 4) if self.topic else None,
            "reasons": list(self.reasons),
            "account": None if account_linked else self.account,
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the operator screen's endpoint)."""
        return {
            "available": self.available,
            "unusable": self.unusable,
            "kind": self.kind or None,
            "topic": self.topic or None,
            "kind_label": str(AppealType(self.kind).label) if self.kind else None,
            "topic_label": str(Topic(self.topic).label) if self.topic else None,
            "kind_confidence": round(self.kind_confidence, 4) if self.kind else None,
            "topic_confidence": round(self.topic_confidence, 4) if self.topic else None,
            "apply_kind": self.apply_kind,
            "apply_topic": self.apply_topic,
            "threshold": self.threshold,
            "reasons": list(self.reasons),
            "account_numbers": list(self.account_numbers),
            "accounts": [{"id": a.pk, "number": a.number} for a in self.accounts],
            "address": {"id": self.address.pk, "text": str(self.address)} if self.address else None,
            "address_candidates": [{"id": a.pk, "text": str(a)} for a in self.address_candidates],
            "address_text": self.address_text,
            "phones": list(self.phones),
        }


def _model_ready() -> bool:
    """A model is loaded or its file is there (suggestions never train one inside a request)."""
    from okno.assistant import nlu

    return nlu._model is not None or nlu.MODEL_PATH.exists()


def _supply_problem_confidence(text: str) -> float | None:
    """The probability that the text is a complaint or a report (both register as a report when the
    topic is a supply problem), from the type classifier's full distribution."""
    from okno.assistant import nlu

    try:
        model = nlu.get_model()
        _words, x = model._features([text])
        proba = model.type_clf.predict_proba(x)[0]
        classes = [str(c) for c in model.type_clf.classes_]
        return float(sum(proba[classes.index(t)] for t in SUPPLY_PROBLEM_TYPES if t in classes))
    except Exception:  # noqa: BLE001 — a model of another shape: keep the plain confidence
        log.warning("assistant suggest: no type distribution", exc_info=True)
        return None


def _classify(text: str, out: Suggestion) -> None:
    from okno.assistant import nlu

    out.unusable = nlu.usable(text)
    if out.unusable is not None:
        return
    if not _model_ready():
        log.warning("assistant suggest: no model file (run `okno assistant train`); no suggestion")
        return
    try:
        result = nlu.classify(text)
    except Exception:  # noqa: BLE001 — a broken model must not stop a registration
        log.exception("assistant suggest: the classifier failed")
        return
    if result.type not in AppealType.values or result.topic not in Topic.values:
        return
    out.kind, out.topic = result.type, result.topic
    out.kind_confidence, out.topic_confidence = float(result.type_confidence), float(result.topic_confidence)
    out.reasons = [str(r) for r in result.reasons]
    if out.topic in RELIABILITY_TOPICS and out.kind in SUPPLY_PROBLEM_TYPES:
        merged = _supply_problem_confidence(text)
        out.kind = AppealType.REPORT
        if merged is not None:
            out.kind_confidence = max(out.kind_confidence, merged)


def _entities(text: str, out: Suggestion, *, customer: Customer | None, user: Any) -> None:
    from okno.assistant import extract

    try:
        found = extract.extract(text)
    except Exception:  # noqa: BLE001 — e.g. the address directory is not migrated yet
        log.exception("assistant suggest: extraction failed")
        return
    out.account_numbers = list(found.accounts)[:MAX_ACCOUNTS]
    out.phones = list(found.phones)
    if out.account_numbers:
        rows = Account.objects.restrict(user, "view") if user is not None else Account.objects.all()
        if customer is not None:
            rows = rows.filter(customer=customer)
        by_number = {
            a.number: a
            for a in rows.filter(number__in=out.account_numbers).select_related(
                "customer", "service_point__address"
            )
        }
        out.accounts = [by_number[n] for n in out.account_numbers if n in by_number]
    resolved = [m for m in found.addresses if m.address_id]
    ids = list(dict.fromkeys(m.address_id for m in resolved if m.address_id))
    if len(ids) == 1:
        out.address = Address.objects.filter(pk=ids[0]).first()
        out.address_text = resolved[0].text
    else:
        candidate_ids = ids or [i for m in found.addresses for i in m.candidates]
        candidate_ids = list(dict.fromkeys(candidate_ids))[:10]
        if candidate_ids:
            rows_by_id = Address.objects.in_bulk(candidate_ids)
            out.address_candidates = [rows_by_id[i] for i in candidate_ids if i in rows_by_id]
        if found.addresses:
            out.address_text = found.addresses[0].text
        # "л/с 0000010017, Ленина 10" without the flat: the flat of the account named is the one meant.
        account = out.account
        if account is not None and out.address_candidates:
            own = account.service_point.address_id
            if any(a.pk == own for a in out.address_candidates):
                out.address = account.service_point.address
                out.address_candidates = []


def suggest(
    text: str, *, customer: Customer | None = None, user: Any = None, with_entities: bool = True
) -> Suggestion:
    """The assistant's suggestion for ``text``.

    ``customer``: when the sender is known, only their accounts are reported. ``user``: a staff user
    whose scope limits the accounts reported (the operator screen). Never raises for a bad text or a
    missing model."""
    out = Suggestion(threshold=threshold())
    text = (text or "").strip()
    if not text:
        out.unusable = "empty"
        return out
    _classify(text, out)
    if with_entities:
        _entities(text, out, customer=customer, user=user)
    return out
