"""Registering what a reception form sent: the appeal, the consent note and the files, in ONE transaction.

Everything goes through :mod:`okno.appeals.actions` as the system user ``system:web`` (the public site's
actor, docs/decisions/0003). A refused file rolls the whole registration back — no appeal, no number
taken, no acknowledgement e-mail (the e-mail job and the outage loop run on commit) — and the files
already written to storage are deleted.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from okno.appeals import actions
from okno.appeals.choices import RELIABILITY_TOPICS, AppealType, Channel, ClassifiedBy, Topic
from okno.appeals.models import Appeal
from okno.assistant.suggest import suggest
from okno.org.models import User, system_actor
from okno.portal.reception.forms import ReceptionForm
from okno.portal.reception.places import Place

CHANNEL = Channel.WEB


def web_actor() -> User:
    """The system user the public site acts as (docs/decisions/0003)."""
    return system_actor("web")


class BadFile(Exception):
    """An attachment was refused (type, size); the registration was rolled back."""

    def __init__(self, name: str, error: ValidationError) -> None:
        super().__init__(name)
        self.name = name
        self.error = error


def consent_note() -> str:
    return _("Consent to the processing of personal data was given in the internet reception's form.")


def assisted(form: ReceptionForm, kwargs: dict[str, Any], place: Place) -> dict[str, Any]:
    """The assistant on a free-text form (``form.assisted``): when the person left the topic as "other",
    the suggested topic (and for the question form the type) is applied where its confidence reaches
    the threshold; below it the appeal keeps what the form says and waits for an operator. The
    suggestion is recorded either way. An address found in the text gives the appeal its address when
    the address field did not resolve; an account number in the text is recorded for the operator
    (``suggested_account``), never linked: anyone can type any number."""
    if not form.assisted:
        return kwargs
    found = suggest(kwargs["text"])
    out = dict(kwargs)
    if kwargs["topic"] != Topic.OTHER:
        out["classified_by"] = ClassifiedBy.CUSTOMER
    else:
        kind, topic, _any = found.applied(kwargs["kind"], kwargs["topic"])
        if form.assisted == "topic":
            kind = kwargs["kind"]
        supply_complaint = kind == AppealType.COMPLAINT and topic in RELIABILITY_TOPICS
        if supply_complaint and not (
            out.get("violation_place") and out.get("violation_at") and out.get("demand")
        ):
            topic = kwargs["topic"]  # a complaint about supply needs its fields: an operator decides
        applied = (kind, topic) != (kwargs["kind"], kwargs["topic"])
        out.update(kind=kind, topic=topic)
        out["classified_by"] = ClassifiedBy.ASSISTANT if applied else ClassifiedBy.DEFAULT
    if found.available or found.account is not None:
        out["suggestion"] = found.for_appeal()
    if place.address is None and found.address is not None:
        out["address"] = found.address
    return out


def register(form: ReceptionForm, place: Place) -> Appeal:
    """Register ``form``'s appeal at ``place``. Raises ``ValidationError`` (field errors) or :class:`BadFile`."""
    actor = web_actor()
    data = form.cleaned_data
    files = data.get("attachments") or []
    stored: list[str] = []
    try:
        with transaction.atomic():
            kwargs = assisted(form, form.registration(place), place)
            address = kwargs.pop("address", None) or place.address
            appeal = actions.register_appeal(
                channel=CHANNEL,
                actor=actor,
                address=address,
                branch=place.branch if address is None else None,
                **kwargs,
            )
            if data.get("consent"):
                actions.comment(appeal, actor=actor, text=consent_note())
            for upload in files:
                try:
                    att = actions.add_attachment(appeal, actor=actor, upload=upload)
                except ValidationError as exc:
                    raise BadFile(upload.name or "", exc) from exc
                stored.append(str(att.file.name))
    except BadFile:
        for name in stored:  # the rows are rolled back; the files already written are not
            default_storage.delete(name)
        raise
    return appeal
