"""Jobs of the notifications capability."""

from __future__ import annotations

import datetime as dt
from typing import Any

from okno.core.jobs import job


@job("notify.deliver", every=dt.timedelta(minutes=1), max_attempts=1)
def deliver(**kwargs: Any) -> dict[str, int]:
    """Send every due notice (enqueued after planning; also every minute for retries and mornings)."""
    from okno.notify.delivery import deliver_due

    return deliver_due(limit=kwargs.get("limit"))
