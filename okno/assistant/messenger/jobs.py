"""The Telegram outbox's retry job: ``assistant.telegram_outbox`` sends the due pending rows.

Periodic (every 30 s) only while a bot token is configured; ``okno telegram send-pending`` runs the same
pass by hand. Imported by ``okno.assistant.tasks`` so the worker registers it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from okno.core.jobs import job

EVERY = dt.timedelta(seconds=30)


@job(
    "assistant.telegram_outbox",
    every=EVERY if getattr(settings, "OKNO_TELEGRAM_TOKEN", "") else None,
    max_attempts=1,
)
def telegram_outbox(**kwargs: Any) -> dict[str, int]:
    from okno.assistant.messenger.outbox import send_due

    return send_due()
