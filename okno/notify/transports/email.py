"""The ``email`` transport: Django's mail backend (SMTP in production, file/locmem in development and tests).

One backend connection is kept open across sends (SMTP sessions are costly to open per message). Why
Django's backend rather than smtplib directly: the project already configures it (TLS, credentials,
timeouts), and in development the same code path writes the letters to ``var/mail/`` instead.

Outcomes: a refused/broken connection or a 4xx reply → retryable; a 5xx rejection of the recipient (550
"no such user") or of the message → permanent. The Message-ID is generated here (carrying the notice id,
so a bounce can be traced back) and returned as ``provider_id``.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME

from okno.notify.transports.base import Message, SendResult

log = logging.getLogger(__name__)

IDLE_PROBE_SECONDS = 30.0  # an SMTP session idle longer than this is NOOP-probed before use


def _smtp_code_permanent(code: int) -> bool:
    return 500 <= code < 600


class EmailTransport:
    channel = "email"

    def __init__(self, *, from_email: str | None = None, backend: str | None = None, **backend_kwargs: Any):
        self.from_email = (
            from_email or getattr(settings, "NOTIFY_EMAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL
        )
        self.backend = backend
        self.backend_kwargs = backend_kwargs
        self._connection: Any = None
        self._last_used = 0.0

    def build(self, message: Message) -> EmailMultiAlternatives:
        """The letter for a message: text and (if given) HTML, the message's headers, a Message-ID."""
        domain = getattr(settings, "NOTIFY_EMAIL_MESSAGE_ID_DOMAIN", "") or str(DNS_NAME)
        headers = {"Auto-Submitted": "auto-generated", **message.headers}
        headers.setdefault("Message-ID", make_msgid(idstring=f"notice-{message.notice_id}", domain=domain))
        letter = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=self.from_email,
            to=[message.recipient],
            headers=headers,
        )
        if message.html:
            letter.attach_alternative(message.html, "text/html")
        return letter

    def _open(self) -> Any:
        idle = time.monotonic() - self._last_used
        if self._connection is not None and idle > IDLE_PROBE_SECONDS:
            smtp = getattr(self._connection, "connection", None)
            if smtp is not None:
                try:
                    smtp.noop()
                except (smtplib.SMTPException, OSError):
                    self._reset()
        if self._connection is None:
            self._connection = get_connection(self.backend, fail_silently=False, **self.backend_kwargs)
            self._connection.open()
        return self._connection

    def _reset(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None

    def send(self, message: Message) -> SendResult:
        letter = self.build(message)
        message_id = str(letter.extra_headers["Message-ID"])
        try:
            letter.connection = self._open()
            sent = letter.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            self._reset()
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            return SendResult(
                ok=False, retryable=not _smtp_code_permanent(code), error=f"recipient refused: {code} {text}"
            )
        except smtplib.SMTPDataError as exc:
            self._reset()
            return SendResult(
                ok=False,
                retryable=not _smtp_code_permanent(exc.smtp_code),
                error=f"message refused: {exc.smtp_code} {exc.smtp_error!r}",
            )
        except (smtplib.SMTPException, OSError) as exc:
            # Connection refused or dropped, authentication or sender refused (our configuration): retry.
            self._reset()
            return SendResult(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}")
        self._last_used = time.monotonic()
        if not sent:
            return SendResult(ok=False, retryable=True, error="the mail backend accepted nothing")
        return SendResult(ok=True, provider_id=message_id)

    def close(self) -> None:
        self._reset()
