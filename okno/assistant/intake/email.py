"""One incoming e-mail into the appeals: a new appeal, a comment on the appeal it replies to, or nothing.

:func:`process_message` takes the raw RFC 5322 bytes and returns an :class:`IntakeResult`. Each
message is processed once: its Message-ID (or, without one, a digest of the bytes) is remembered in
:class:`~okno.assistant.models.IntakeMessage`, and a second delivery returns ``duplicate``.

* auto-replies (``Auto-Submitted`` other than ``no``, ``X-Autoreply``/``X-Autorespond``,
  ``Precedence: bulk/junk/list/auto_reply``, "Out of office"/"Автоответ" subjects) and bounces
  (``multipart/report``, ``MAILER-DAEMON``/``postmaster`` senders, an empty Return-Path) are ignored;
* a subject carrying a registration number (``Re: Обращение № 2026-000123``) from the appeal's own
  e-mail (its contact e-mail or one of its customer's e-mails) is threaded into that appeal: a
  comment with the text, its attachments, a line in the customer's contact history, and a reopening
  when the appeal was answered and the customer writes that they disagree;
* anything else becomes a new appeal (channel ``email``), the sender as ``contact_email``, the
  customer found by that address; files go through ``add_attachment`` and its size/type rules, and
  the refused ones are listed in a comment — the appeal is registered all the same.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import html
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.appeals import actions
from okno.appeals.choices import Channel, Status
from okno.appeals.models import Appeal
from okno.assistant.intake import common
from okno.assistant.models import IntakeMessage
from okno.customers.actions import record_contact
from okno.customers.choices import ContactEventKind
from okno.customers.models import ContactPoint
from okno.org.models import User, system_actor

log = logging.getLogger(__name__)

# Registration numbers look like 2026-000123 (okno.appeals.actions._next_number).
NUMBER_RE = re.compile(r"(?<![\d-])((?:19|20)\d{2}-\d{6})(?![\d-])")
AUTO_SUBJECT_RE = re.compile(
    r"^\s*(out of office|automatic reply|auto(matic)?[ -]?reply|autoreply|auto:|автоответ|"
    r"автоматический ответ|нет на месте|в отпуске)",
    re.IGNORECASE,
)
BOUNCE_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon"}
DISAGREE_RE = re.compile(
    r"не соглас|не устраива|не решен|не решён|не помогл|disagree|not satisfied|not resolved", re.IGNORECASE
)
MAX_TEXT = 20_000


@dataclass
class IntakeResult:
    outcome: str  # "appeal", "threaded", "ignored", "duplicate", "failed"
    message_id: str
    appeal: Appeal | None = None
    reason: str = ""
    refused: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    received_at: dt.datetime | None
    attachments: list[tuple[str, str, bytes]]  # (file name, declared type, content)


# ---------------------------------------------------------------- parsing


class _TextExtractor(HTMLParser):
    """Visible text of an HTML body: scripts, styles and heads dropped, block tags as line breaks."""

    SKIP = {"script", "style", "head", "title", "template", "noscript"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(self._skip - 1, 0)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML part (no markup survives: the result is text, escaped when shown)."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 — malformed HTML: fall back to dropping anything tag-like
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = "".join(parser.parts).replace("\xa0", " ")
    return text.replace("<", "‹").replace(">", "›")


def _tidy(text: str) -> str:
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return out[:MAX_TEXT]


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return _tidy(content)


def _body_text(msg: EmailMessage) -> str:
    """The text/plain body, or the HTML one stripped when there is no (non-empty) plain text."""
    for kind in ("plain", "html"):
        part = msg.get_body(preferencelist=(kind,))
        if part is not None:
            text = _part_text(part)
            if text:
                return text
    return ""


def _attachments(msg: EmailMessage) -> list[tuple[str, str, bytes]]:
    found = []
    for part in msg.iter_attachments():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        name = part.get_filename() or _("attachment")
        found.append((str(name), part.get_content_type(), payload))
    return found


def message_key(msg: Message, raw: bytes) -> str:
    """The Message-ID, or a digest of the bytes for a message without one."""
    mid = str(msg.get("Message-ID", "") or "").strip()
    return mid[:255] if mid else "sha256:" + hashlib.sha256(raw).hexdigest()


def parse(raw: bytes) -> tuple[EmailMessage, Parsed]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    name, addr = parseaddr(str(msg.get("From", "") or ""))
    subject = _tidy(str(msg.get("Subject", "") or ""))[:255]
    received_at: dt.datetime | None
    try:
        received_at = parsedate_to_datetime(str(msg.get("Date", "")))
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError, IndexError):
        received_at = None
    return msg, Parsed(
        message_id=message_key(msg, raw),
        sender=addr.strip().lower(),
        sender_name=name.strip(),
        subject=subject,
        text=_body_text(msg),
        received_at=received_at,
        attachments=_attachments(msg),
    )


def ignore_reason(msg: Message, sender: str) -> str:
    """Why a message is not a customer's letter ("" when it is one)."""
    if msg.get_content_type() == "multipart/report":
        return "bounce"
    local = sender.split("@", 1)[0]
    if local in BOUNCE_SENDERS:
        return "bounce"
    return_path = msg.get("Return-Path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return "bounce"
    auto = str(msg.get("Auto-Submitted", "") or "").strip().lower()
    if auto and auto != "no":
        return "auto-reply"
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return "auto-reply"
    if str(msg.get("Precedence", "") or "").strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return "auto-reply"
    if AUTO_SUBJECT_RE.match(str(msg.get("Subject", "") or "")):
        return "auto-reply"
    if not sender:
        return "no sender"
    return ""


# ---------------------------------------------------------------- processing


def _sender_owns(appeal: Appeal, sender: str) -> bool:
    if appeal.contact_email and appeal.contact_email.lower() == sender:
        return True
    if appeal.customer_id:
        return ContactPoint.objects.filter(
            customer_id=appeal.customer_id, kind="email", value=sender
        ).exists()
    return False


def _thread_target(parsed: Parsed) -> Appeal | None:
    for number in NUMBER_RE.findall(parsed.subject):
        appeal = Appeal.objects.filter(number=number).first()
        if appeal is not None and _sender_owns(appeal, parsed.sender):
            return appeal
    return None


def _store_files(appeal: Appeal, actor: User, files: list[tuple[str, str, bytes]]) -> list[str]:
    """Attach what the rules accept; the refused files as "name: reason" lines."""
    refused = []
    for name, declared, content in files:
        upload = SimpleUploadedFile(name, content, content_type=declared)
        try:
            actions.add_attachment(appeal, actor=actor, upload=upload)
        except ValidationError as exc:
            reasons = "; ".join(str(m) for m in exc.messages) or _("refused")
            refused.append(f"{name}: {reasons}")
    if refused:
        actions.comment(
            appeal,
            actor=actor,
            text=_("Files of the e-mail that were not accepted:") + "\n" + "\n".join(refused),
        )
    return refused


def _letter_text(parsed: Parsed) -> str:
    parts = [p for p in (parsed.subject, parsed.text) if p]
    return "\n\n".join(parts)


def _new_appeal(parsed: Parsed, actor: User) -> tuple[Appeal, list[str]]:
    customer = common.customer_by_contact("email", parsed.sender)
    text = _letter_text(parsed) or _("(an e-mail without text)")
    received_at = parsed.received_at if parsed.received_at and parsed.received_at <= timezone.now() else None
    appeal = common.register(
        actor=actor,
        text=text,
        customer=customer,
        channel=Channel.EMAIL,
        contact_email=parsed.sender,
        contact_name="" if customer else (parsed.sender_name or parsed.sender)[:200],
        received_at=received_at,
    )
    return appeal, _store_files(appeal, actor, parsed.attachments)


def _thread(appeal: Appeal, parsed: Parsed, actor: User) -> list[str]:
    body = parsed.text or _("(no text)")
    actions.comment(
        appeal,
        actor=actor,
        text=_("E-mail from %(sender)s: %(subject)s") % {"sender": parsed.sender, "subject": parsed.subject}
        + "\n\n"
        + body,
    )
    refused = _store_files(appeal, actor, parsed.attachments)
    if appeal.customer_id:
        record_contact(
            appeal.customer_id,
            kind=ContactEventKind.APPEAL,
            summary=_("E-mail on appeal %(n)s: %(s)s") % {"n": appeal.number, "s": parsed.subject},
            channel=Channel.EMAIL,
            ref=("appeals.appeal", appeal.pk, appeal.number),
            actor=actor,
        )
    appeal.refresh_from_db()
    if appeal.status in (Status.ANSWERED, Status.CLOSED) and DISAGREE_RE.search(body):
        actions.reopen(
            appeal,
            actor=actor,
            reason=_("The customer disagrees with the answer (e-mail from %(s)s).") % {"s": parsed.sender},
        )
    return refused


def _remember(parsed: Parsed, outcome: str, appeal: Appeal | None = None, note: str = "") -> None:
    IntakeMessage.objects.create(
        channel="email",
        message_id=parsed.message_id,
        sender=parsed.sender[:254],
        subject=parsed.subject[:255],
        outcome=outcome,
        appeal=appeal,
        note=note[:500],
    )


def process_message(raw: bytes, *, actor: User | None = None) -> IntakeResult:
    """Take one raw message in (see the module's description); never raises for a bad message."""
    actor = actor or system_actor("email")
    msg, parsed = parse(raw)
    if IntakeMessage.objects.filter(message_id=parsed.message_id).exists():
        return IntakeResult("duplicate", parsed.message_id)
    reason = ignore_reason(msg, parsed.sender)
    try:
        with transaction.atomic():
            if reason:
                _remember(parsed, IntakeMessage.Outcome.IGNORED, note=reason)
                return IntakeResult("ignored", parsed.message_id, reason=reason)
            target = _thread_target(parsed)
            if target is not None:
                refused = _thread(target, parsed, actor)
                _remember(parsed, IntakeMessage.Outcome.THREADED, target)
                return IntakeResult("threaded", parsed.message_id, target, refused=refused)
            appeal, refused = _new_appeal(parsed, actor)
            _remember(parsed, IntakeMessage.Outcome.APPEAL, appeal)
            return IntakeResult("appeal", parsed.message_id, appeal, refused=refused)
    except IntegrityError:
        # Another worker took the same message at the same moment.
        return IntakeResult("duplicate", parsed.message_id)
    except ValidationError as exc:
        note = "; ".join(exc.messages)
    except Exception as exc:  # noqa: BLE001 — one bad letter must not stop the mailbox
        log.exception("assistant intake: message %s failed", parsed.message_id)
        note = f"{type(exc).__name__}: {exc}"
    _remember(parsed, IntakeMessage.Outcome.FAILED, note=note)
    return IntakeResult("failed", parsed.message_id, reason=note)
