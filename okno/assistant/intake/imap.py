"""Poll an IMAP4rev1 mailbox: every unseen message goes through :func:`okno.assistant.intake.email.process_message`
and is then marked ``\\Seen`` (a failed one also ``\\Flagged``, for a person to look at).

Messages are fetched with ``BODY.PEEK[]`` so a crash between fetching and processing leaves them unseen;
a message seen twice (another client, a crash after processing) is recognised by its Message-ID.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from okno.assistant.intake.email import process_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int = 993
    user: str = ""
    password: str = ""
    mailbox: str = "INBOX"
    use_ssl: bool = True
    timeout: float = 30.0
    batch: int = 100  # messages a poll takes at most

    @classmethod
    def from_settings(cls) -> ImapConfig | None:
        """``ASSISTANT_IMAP_HOST`` etc.; None when no host is configured."""
        host = getattr(settings, "ASSISTANT_IMAP_HOST", "")
        if not host:
            return None
        password = getattr(settings, "ASSISTANT_IMAP_PASSWORD", "")
        password_file = getattr(settings, "ASSISTANT_IMAP_PASSWORD_FILE", "")
        if password_file:
            password = read_password(password_file)
        port = int(getattr(settings, "ASSISTANT_IMAP_PORT", 993))
        return cls(
            host=host,
            port=port,
            user=getattr(settings, "ASSISTANT_IMAP_USER", ""),
            password=password,
            mailbox=getattr(settings, "ASSISTANT_IMAP_MAILBOX", "INBOX"),
            use_ssl=bool(getattr(settings, "ASSISTANT_IMAP_SSL", port == 993)),
        )


def read_password(path: str) -> str:
    return Path(path).read_text(encoding="utf-8").strip()


def _connect(cfg: ImapConfig) -> imaplib.IMAP4:
    if cfg.use_ssl:
        return imaplib.IMAP4_SSL(
            cfg.host, cfg.port, ssl_context=ssl.create_default_context(), timeout=cfg.timeout
        )
    return imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout)


def _check(typ: str, data: list, what: str) -> list:
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {typ} {data!r}")
    return data


def _raw_of(data: list) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def poll_once(cfg: ImapConfig) -> dict[str, int]:
    """One pass over the unseen messages; the counts of each outcome."""
    counts: Counter[str] = Counter()
    conn = _connect(cfg)
    try:
        _check(*conn.login(cfg.user, cfg.password), "LOGIN")
        _check(*conn.select(cfg.mailbox), "SELECT")
        data = _check(*conn.uid("SEARCH", "UNSEEN"), "UID SEARCH")
        uids = (data[0] or b"").split()[: cfg.batch]
        for uid in uids:
            uid_s = uid.decode()
            fetched = _check(*conn.uid("FETCH", uid_s, "(BODY.PEEK[])"), "UID FETCH")
            raw = _raw_of(fetched)
            if raw is None:
                counts["unreadable"] += 1
                continue
            result = process_message(raw)
            counts[result.outcome] += 1
            flags = r"(\Seen \Flagged)" if result.outcome == "failed" else r"(\Seen)"
            _check(*conn.uid("STORE", uid_s, "+FLAGS", flags), "UID STORE")
            log.info("assistant intake: uid %s %s → %s", uid_s, result.message_id, result.outcome)
        conn.close()
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()
    return dict(counts)


def poll_forever(cfg: ImapConfig, *, interval: float = 60.0) -> None:
    """Poll every ``interval`` seconds until interrupted; a failed pass is logged and retried."""
    while True:
        try:
            counts = poll_once(cfg)
            if counts:
                log.info("assistant intake: %s", counts)
        except (imaplib.IMAP4.error, OSError):
            log.exception("assistant intake: IMAP poll of %s failed", cfg.host)
        time.sleep(interval)
