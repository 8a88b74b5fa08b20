"""Jobs of the assistant: the IMAP poll of the appeals mailbox, closing idle chats (every 5 minutes;
``OKNO_CHAT_IDLE_MINUTES``, default 30) and the messenger adapter's jobs.

``assistant.imap_poll`` is periodic (every ``ASSISTANT_IMAP_POLL_SECONDS``, default 60) only when
``ASSISTANT_IMAP_HOST`` is set; without it the job is registered but never fired, and does nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from okno.core.jobs import job

_every = (
    dt.timedelta(seconds=int(getattr(settings, "ASSISTANT_IMAP_POLL_SECONDS", 60)))
    if getattr(settings, "ASSISTANT_IMAP_HOST", "")
    else None
)


@job("assistant.imap_poll", every=_every, max_attempts=1)
def imap_poll(**kwargs: Any) -> dict[str, int]:
    """Take the unseen messages of the configured mailbox in (see okno/assistant/intake/imap.py)."""
    from okno.assistant.intake.imap import ImapConfig, poll_once

    cfg = ImapConfig.from_settings()
    if cfg is None:
        return {"configured": 0}
    return poll_once(cfg)


@job("assistant.close_idle_chats", every=dt.timedelta(minutes=5), max_attempts=1)
def close_idle_chats(**kwargs: Any) -> dict[str, int]:
    """Close the chat conversations idle for more than ``OKNO_CHAT_IDLE_MINUTES`` (default 30)."""
    from okno.assistant.dialogue.engine import close_idle

    return {"closed": close_idle()}


from okno.assistant.messenger import jobs as _messenger_jobs  # noqa: E402, F401  (Telegram outbox retry job)
