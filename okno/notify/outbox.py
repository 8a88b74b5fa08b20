"""The local outbox: what a development or demo installation "sent", read back in the browser.

Without a mail server or an SMS provider the messages are not lost: Django's file backend writes every
e-mail under ``EMAIL_FILE_PATH`` and the simulated transports append every SMS, push and messenger
message to ``NOTIFY_OUTBOX_DIR/<channel>.jsonl``. This page is the mail catcher over both. It does not
exist in production (404), where messages go to real providers.

Like every staff page it is limited to the viewer's branches: a message is shown when the notice it
carries (the ``X-Okno-Notice`` header of a letter, ``notice_id`` of a simulated record) is one the
viewer may see in the delivery log. Staff of the whole company see everything, including letters that
belong to no notice (appeal answers, cabinet codes); branch staff do not, as their branch is not known.
"""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from okno.core.access import require_perm
from okno.notify.models import Notice

SEPARATOR = "-" * 79
LIMIT = 50
# Messages read from the files to find the latest LIMIT a branch's staff may see.
SCAN = 500


@dataclass(frozen=True)
class Caught:
    channel: str
    when: str
    to: str
    subject: str
    body: str
    notice_id: int | None = None


def _mails(directory: Path, limit: int) -> list[Caught]:
    files = (
        sorted(directory.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
        if directory.is_dir()
        else []
    )
    out: list[Caught] = []
    for path in files:
        chunks = path.read_bytes().split(SEPARATOR.encode())
        for raw in reversed(chunks):
            if not raw.strip():
                continue
            msg = email.message_from_bytes(raw.strip(b"\n"), policy=email.policy.default)
            part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
            body = part.get_content() if part is not None else ""
            out.append(
                Caught(
                    "email",
                    str(msg.get("Date", "")),
                    str(msg.get("To", "")),
                    str(msg.get("Subject", "")),
                    body,
                    _notice_id(msg.get("X-Okno-Notice")),
                )
            )
            if len(out) >= limit:
                return out
    return out


def _simulated(directory: Path, limit: int) -> list[Caught]:
    out: list[Caught] = []
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-limit:]
        for line in reversed(lines):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            out.append(
                Caught(
                    str(rec.get("channel", path.stem)),
                    str(rec.get("at", "")),
                    str(rec.get("recipient", "")),
                    "",
                    _text_of(rec.get("wire") or {}),
                    _notice_id(rec.get("notice_id")),
                )
            )
    return out


def _notice_id(value: object) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _visible(user: Any, caught: list[Caught], limit: int) -> list[Caught]:
    """The latest ``limit`` messages per channel the user may see: every one for staff of the whole
    company, else those of notices in the user's branches (the delivery log's rule)."""
    if not (user.all_branches or user.is_superuser):
        ids = {c.notice_id for c in caught if c.notice_id is not None}
        allowed = set(Notice.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", flat=True))
        caught = [c for c in caught if c.notice_id in allowed]
    shown: dict[str, int] = {}
    out: list[Caught] = []
    for c in caught:
        shown[c.channel] = shown.get(c.channel, 0) + 1
        if shown[c.channel] <= limit:
            out.append(c)
    return out


def _text_of(wire: dict) -> str:
    """The readable text of a simulated message: SMS text, or the text inside a signed JSON body."""
    if wire.get("text"):
        return str(wire["text"])
    body = wire.get("body")
    if isinstance(body, str):
        try:
            return str(json.loads(body).get("text", body))
        except (ValueError, AttributeError):
            return body
    return _("(encrypted push payload)") if wire else ""


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "notice.view")
    if settings.PRODUCTION:
        raise Http404
    user: Any = request.user
    branch_only = not (user.all_branches or user.is_superuser)
    scan = SCAN if branch_only else LIMIT
    mails = _visible(user, _mails(Path(settings.EMAIL_FILE_PATH), scan), LIMIT)
    others = (
        _visible(user, _simulated(Path(settings.NOTIFY_OUTBOX_DIR), scan), LIMIT)
        if settings.NOTIFY_OUTBOX_DIR
        else []
    )
    return render(
        request,
        "notify/outbox.html",
        {
            "mails": mails,
            "others": others,
            "mail_dir": settings.EMAIL_FILE_PATH,
            "outbox_dir": settings.NOTIFY_OUTBOX_DIR,
            "branch_only": branch_only,
        },
    )
