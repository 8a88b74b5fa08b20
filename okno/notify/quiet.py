"""Quiet hours: no non-emergency SMS at night in the recipient's time zone.

The window is ``[quiet_start, quiet_end)`` local time (22:00–08:00 by default, from
:class:`~okno.notify.models.NotifySettings`); it may wrap midnight. A notice that falls inside is
scheduled for the next ``quiet_end`` in the same zone. Only SMS waits: e-mail, push and messenger
messages do not wake anybody up, and an emergency (an unplanned outage starting) goes at once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

from okno.notify.choices import Channel

DELAYED_CHANNELS = frozenset({Channel.SMS.value})


@lru_cache(maxsize=64)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def in_quiet_hours(local: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def send_time(
    now: dt.datetime,
    tz: zoneinfo.ZoneInfo,
    *,
    channel: str,
    emergency: bool,
    start: dt.time = dt.time(22, 0),
    end: dt.time = dt.time(8, 0),
) -> dt.datetime | None:
    """When a notice planned at ``now`` may go: ``None`` for "at once", else the aware end of the quiet hours."""
    if emergency or channel not in DELAYED_CHANNELS:
        return None
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time(), start, end):
        return None
    day = local.date()
    if local.time() >= end:  # evening part of a window that wraps midnight: wait for tomorrow morning
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=tz)
