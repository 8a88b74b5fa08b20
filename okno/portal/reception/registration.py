"""Registering what a reception form sent: the appeal, the consent note and the files, in ONE transaction.

Everything goes through :mod:`okno.appeals.actions` as the system user ``system:web`` (the public site's
actor, docs/decisions/0003). A refused file rolls the whole registration back — no appeal, no number
taken, no acknowledgement e-mail (the e-mail job and the outage loop run on commit) — and the files
already written to storage are deleted.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from okno.appeals import actions
from okno.appeals.choices import Channel
from okno.appeals.models import Appeal
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


def register(form: ReceptionForm, place: Place) -> Appeal:
    """Register ``form``'s appeal at ``place``. Raises ``ValidationError`` (field errors) or :class:`BadFile`."""
    actor = web_actor()
    data = form.cleaned_data
    files = data.get("attachments") or []
    stored: list[str] = []
    try:
        with transaction.atomic():
            kwargs = form.registration(place)
            appeal = actions.register_appeal(
                channel=CHANNEL,
                actor=actor,
                address=place.address,
                branch=place.branch if place.address is None else None,
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
