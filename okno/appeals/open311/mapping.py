"""Open311 GeoReport v2 ⇄ the appeals registry: services, statuses, request rows, POST fields.

* service = topic (``service_code`` is the topic code, ``service_name`` its label);
* status: open statuses → ``open``; answered, closed, cancelled → ``closed``;
* ``requested_datetime`` = received, ``expected_datetime`` = deadline, ``updated_datetime`` = the
  latest timeline event, ``agency_responsible`` = the branch, ``status_notes`` = the latest answer
  (staff in scope) or the cancel reason;
* personal fields (description, address, status notes taken from an answer) are shown only to staff
  who may view the appeal; anyone else gets the non-personal fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from okno.appeals.choices import OPEN_STATUSES, AppealType, CancelReason, Status, Topic
from okno.appeals.models import Appeal

MAX_REQUESTS = 1000
DEFAULT_DAYS = 90


def services() -> list[dict[str, Any]]:
    return [
        {
            "service_code": topic.value,
            "service_name": str(topic.label),
            "description": str(topic.label),
            "metadata": False,
            "type": "realtime",
            "keywords": "",
            "group": "",
        }
        for topic in Topic
    ]


def open311_status(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


def statuses_for(value: str) -> list[str] | None:
    """Registry statuses behind ``open``/``closed`` (comma list); None when the value is unknown."""
    wanted = {v.strip() for v in value.split(",") if v.strip()}
    if not wanted <= {"open", "closed"}:
        return None
    out: list[str] = []
    if "open" in wanted:
        out += list(OPEN_STATUSES)
    if "closed" in wanted:
        out += [Status.ANSWERED, Status.CLOSED, Status.CANCELLED]
    return out


def parse_when(value: str, *, end: bool = False) -> dt.datetime | None:
    """An ISO 8601 date or date-time (a bare date means its start, or its end for ``end_date``)."""
    value = (value or "").strip().replace(" ", "+")  # a '+' of an offset arrives as a space in a query
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def local_iso(appeal: Appeal, moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment, appeal.branch.tz).isoformat(timespec="seconds")


def status_notes(appeal: Appeal, *, personal: bool) -> str | None:
    if appeal.status == Status.CANCELLED:
        label = str(CancelReason(appeal.cancel_reason).label) if appeal.cancel_reason else ""
        if personal and appeal.cancel_comment:
            return f"{label}: {appeal.cancel_comment}" if label else appeal.cancel_comment
        return label or None
    if personal:
        return getattr(appeal, "last_answer", None) or None
    return None


def request_row(appeal: Appeal, *, personal: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "service_request_id": appeal.number,
        "status": open311_status(appeal.status),
        "status_notes": status_notes(appeal, personal=personal),
        "service_name": str(Topic(appeal.topic).label),
        "service_code": appeal.topic,
        "description": None,
        "agency_responsible": appeal.branch.name,
        "service_notice": None,
        "requested_datetime": local_iso(appeal, appeal.received_at),
        "updated_datetime": local_iso(appeal, getattr(appeal, "updated_at", None) or appeal.registered_at),
        "expected_datetime": local_iso(appeal, appeal.deadline_at),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }
    if personal:
        row["description"] = appeal.text
        address = appeal.address
        row["address"] = appeal.address_text or (str(address) if address is not None else None)
        row["zipcode"] = (address.postal_code or None) if address is not None else None
        row["address_id"] = str(address.fias_guid) if address is not None and address.fias_guid else None
    return row


def registration_fields(data: dict[str, Any], attributes: dict[str, str]) -> dict[str, Any]:
    """``register_appeal`` keyword arguments from a GeoReport POST (without account and actor)."""
    text = str(data.get("description", "")).strip()
    media = str(data.get("media_url", "")).strip()
    if media:
        text = f"{text}\n\n{media}" if text else media
    address = str(data.get("address_string", "")).strip()
    lat, long = str(data.get("lat", "")).strip(), str(data.get("long", "")).strip()
    if not address and lat and long:
        address = f"{lat}, {long}"
    name = " ".join(
        p for p in (str(data.get("last_name", "")).strip(), str(data.get("first_name", "")).strip()) if p
    )
    return {
        "channel": "web",
        "kind": attributes.get("kind") or AppealType.REPORT,
        "topic": str(data.get("service_code", "")).strip(),
        "text": text,
        "address_text": address[:400],
        "contact_name": name[:300],
        "contact_phone": str(data.get("phone", "")).strip(),
        "contact_email": str(data.get("email", "")).strip(),
    }


def attributes_of(data: Any) -> dict[str, str]:
    """``attribute[code]=value`` form keys, or an ``attribute`` object in JSON."""
    out: dict[str, str] = {}
    nested = data.get("attribute") if hasattr(data, "get") else None
    if isinstance(nested, dict):
        out.update({str(k): str(v) for k, v in nested.items()})
    for key in data:
        if isinstance(key, str) and key.startswith("attribute[") and key.endswith("]"):
            out[key[len("attribute[") : -1]] = str(data.get(key))
    return out
