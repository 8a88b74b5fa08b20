"""Helpers shared by the appeal pages: deadline wording and answer template substitution."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from okno.appeals.models import AnswerTemplate, Appeal


def format_span(delta: dt.timedelta) -> str:
    """“2 d 3 h”, “5 h 10 min”, “12 min”: the size of a time span for a queue row."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts: list[str] = []
    if days:
        parts.append(ngettext("%(n)s day", "%(n)s days", days) % {"n": days})
    if hours and days < 10:
        parts.append(ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
    if not days and (minutes or not hours):
        parts.append(ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes})
    return " ".join(parts)


@dataclass(frozen=True)
class DeadlineState:
    css: str  # "overdue", "soon", "ok", "paused", "done-ok", "done-late", "cancelled"
    text: str


def deadline_state(appeal: Appeal, now: dt.datetime | None = None) -> DeadlineState:
    now = now or timezone.now()
    if appeal.status == "cancelled":
        return DeadlineState("cancelled", _("cancelled"))
    if appeal.on_time is not None:
        return (
            DeadlineState("done-ok", _("answered on time"))
            if appeal.on_time
            else DeadlineState("done-late", _("answered late"))
        )
    if not appeal.is_open:
        return DeadlineState("ok", _("answered"))
    if appeal.is_paused:
        return DeadlineState("paused", _("clock paused: waiting for the customer"))
    left = appeal.deadline_at - now
    if left.total_seconds() < 0:
        return DeadlineState("overdue", _("overdue by %(span)s") % {"span": format_span(left)})
    css = "soon" if left <= dt.timedelta(hours=settings.OKNO_DUE_SOON_HOURS) else "ok"
    return DeadlineState(css, _("%(span)s left") % {"span": format_span(left)})


def template_values(appeal: Appeal) -> dict[str, str]:
    received = timezone.localtime(appeal.received_at, appeal.branch.tz)
    address = str(appeal.address) if appeal.address_id else appeal.address_text
    return {
        "{customer}": appeal.requester or "",
        "{number}": appeal.number,
        "{received}": f"{received:%d.%m.%Y}",
        "{address}": address or "",
    }


def fill_template(template: AnswerTemplate, appeal: Appeal) -> str:
    """The template body with {customer}, {number}, {received}, {address} replaced (other braces kept)."""
    body = template.body
    for key, value in template_values(appeal).items():
        body = body.replace(key, value)
    return body
