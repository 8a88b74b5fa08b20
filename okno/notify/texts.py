"""Rendering notices: the event's context, the recipient's language and the branch's time zone → texts.

Templates are data (:class:`~okno.notify.models.NoticeTemplate`, defaults in :mod:`okno.notify.defaults`)
with ``{{ name }}`` placeholders substituted by a small regex, not the Django template language: staff
edit them in the admin, and a plain substitution cannot reach anything but the prepared strings.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.html import escape, linebreaks

from okno.notify.defaults import DEFAULTS
from okno.notify.models import NoticeTemplate

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
DATE_TIME = "%d.%m.%Y %H:%M"
DATE = "%d.%m.%Y"

# Fixed phrases of the texts, per language (data of the notices, like the templates themselves).
PHRASES: dict[str, dict[str, str]] = {
    "ru": {
        "etr": "Ориентировочное время восстановления — {etr}",
        "no_etr": "Время восстановления уточняется",
        "planned": "плановое",
        "unplanned": "аварийное",
        "unsubscribe": "Отписаться от уведомлений",
        "footer": "Вы получили это письмо, потому что подписаны на уведомления «Есть свет!». Отписаться: {url}",
    },
    "en": {
        "etr": "Expected restoration by {etr}",
        "no_etr": "The restoration time is being assessed",
        "planned": "planned",
        "unplanned": "unplanned",
        "unsubscribe": "Unsubscribe",
        "footer": "You receive this because you subscribed to power outage notices. Unsubscribe: {url}",
    },
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    short_text: str
    text: str
    html: str


def public_url(path: str) -> str:
    """An absolute link for messages (the site's public address is ``OKNO_PUBLIC_URL``)."""
    base = getattr(settings, "OKNO_PUBLIC_URL", "") or "http://127.0.0.1:8000"
    return base.rstrip("/") + path


def serialise_context(context: dict[str, Any]) -> dict[str, Any]:
    """The planning context as JSON: aware datetimes become ISO strings."""
    out: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValueError(f"context[{key!r}] must be an aware datetime")
            out[key] = value.isoformat()
        elif isinstance(value, (list, tuple)):
            out[key] = [str(v) for v in value]
        elif value is None or isinstance(value, (str, int, float, bool)):
            out[key] = value
        else:
            out[key] = str(value)
    return out


def _when(value: Any, tz: zoneinfo.ZoneInfo, fmt: str = DATE_TIME) -> str:
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(tz).strftime(fmt)


def values(context: dict[str, Any], language: str, tz: zoneinfo.ZoneInfo) -> dict[str, str]:
    """The strings the placeholders take for one recipient."""
    phrases = PHRASES.get(language, PHRASES["ru"])
    settlements = context.get("settlements") or []
    etr = _when(context.get("etr"), tz)
    kind = str(context.get("kind") or "")
    out = {
        "company": getattr(settings, "OKNO_COMPANY_NAME", "") or "",
        "number": str(context.get("number") or ""),
        "kind": phrases.get(kind, kind),
        "node": str(context.get("node") or ""),
        "settlements": ", ".join(settlements) if isinstance(settlements, list) else str(settlements),
        "reason": str(context.get("reason") or ""),
        "start": _when(context.get("start"), tz),
        "end": _when(context.get("end"), tz),
        "date": _when(context.get("start"), tz, DATE),
        "etr": etr,
        "etr_phrase": phrases["etr"].format(etr=etr) if etr else phrases["no_etr"],
        "restored_at": _when(context.get("restored_at"), tz),
    }
    for key, value in context.items():  # anything else the caller passed (address, code, confirm_url…)
        out.setdefault(key, "" if value is None else str(value))
    return out


def substitute(template: str, vals: dict[str, str], *, html: bool = False) -> str:
    def repl(match: re.Match[str]) -> str:
        value = vals.get(match.group(1), "")
        return str(escape(value)) if html else value

    return PLACEHOLDER.sub(repl, template)


class TemplateCache:
    """Templates looked up once per delivery batch: (code, language) → (subject, short, text, html)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[str, str, str, str]] | None = None

    def get(self, code: str, language: str) -> tuple[str, str, str, str]:
        if self._rows is None:
            self._rows = {
                (t.code, t.language): (t.subject, t.short_text, t.text, t.html)
                for t in NoticeTemplate.objects.all()
            }
        for lang in (language, "ru", "en"):
            if (code, lang) in self._rows:
                return self._rows[(code, lang)]
            if code in DEFAULTS and lang in DEFAULTS[code]:
                subject, short, text = DEFAULTS[code][lang]
                return subject, short, text, ""
        raise KeyError(f"no template {code!r}")


def render(
    code: str,
    context: dict[str, Any],
    *,
    language: str,
    tz: zoneinfo.ZoneInfo,
    unsubscribe_url: str = "",
    cache: TemplateCache | None = None,
) -> Rendered:
    """The subject, short text (SMS/push/messenger), e-mail text and HTML of one notice."""
    subject_t, short_t, text_t, html_t = (cache or TemplateCache()).get(code, language)
    vals = values(context, language, tz)
    phrases = PHRASES.get(language, PHRASES["ru"])
    subject = " ".join(substitute(subject_t, vals).split())
    short = " ".join(substitute(short_t, vals).split())
    text = substitute(text_t, vals).strip()
    html = substitute(html_t, vals, html=True) if html_t.strip() else str(linebreaks(escape(text)))
    if unsubscribe_url:
        text += "\n\n--\n" + phrases["footer"].format(url=unsubscribe_url)
        html += '\n<hr><p style="font-size:small;color:#666"><a href="{url}">{label}</a></p>'.format(
            url=escape(unsubscribe_url), label=escape(phrases["unsubscribe"])
        )
    return Rendered(subject=subject[:300], short_text=short, text=text, html=html)
