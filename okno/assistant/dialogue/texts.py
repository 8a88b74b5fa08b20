"""Formatting shared by the dialogue's answers: money in roubles and kopecks, local dates and times,
the buttons offered with a message."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_TEXT = 2000  # longer customer messages are stored but not read

Choice = dict[str, str]


def storable(text: str) -> str:
    """``text`` as a database can keep it: without NUL characters (PostgreSQL refuses them in text and
    JSON) and with lone surrogates (from a JSON ``\\ud800``) replaced — never refused as a whole."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def choice(label: Any, value: str) -> Choice:
    return {"label": str(label), "value": value}


def money(kop: int) -> str:
    """``123456`` → "1 234 руб. 56 коп." (the sign is for the caller to word: debt or advance)."""
    kop = abs(int(kop))
    rub = f"{kop // 100:,}".replace(",", "\u00a0")
    return _("%(rub)s rub. %(kop)s kop.") % {"rub": rub, "kop": f"{kop % 100:02d}"}


def default_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def offset_label(value: dt.datetime, tz: dt.tzinfo) -> str:
    """ "UTC+3", "UTC+5:30" for ``value`` in ``tz``."""
    offset = timezone.localtime(value, tz).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(value: dt.datetime, tz: dt.tzinfo) -> str:
    """ "05.12.2026 18:30 (local time, UTC+5)"."""
    local = timezone.localtime(value, tz)
    return _("%(time)s (local time, %(offset)s)") % {
        "time": f"{local:%d.%m.%Y %H:%M}",
        "offset": offset_label(value, tz),
    }


def local_date(value: dt.datetime | dt.date, tz: dt.tzinfo | None = None) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value, tz or default_tz()).date()
    return f"{value:%d.%m.%Y}"


# The main menu: what the assistant can do (labels are buttons).
MENU = (
    (gettext_lazy("Is there power at my address"), "intent:outage"),
    (gettext_lazy("Hand in meter readings"), "intent:reading"),
    (gettext_lazy("Balance and due date"), "intent:balance"),
    (gettext_lazy("Status of my appeal"), "intent:appeal_status"),
    (gettext_lazy("Register an appeal"), "intent:register"),
    (gettext_lazy("Talk to an operator"), "operator"),
)


def menu() -> list[Choice]:
    return [choice(label, value) for label, value in MENU]


def please_describe() -> str:
    return _(
        "Please describe your question in a few words: for example «is there power at Lenina 15», "
        "«hand in readings», «my balance», «status of appeal 2026-000123»."
    )
