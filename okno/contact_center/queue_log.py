"""The Asterisk ``queue_log`` export: the queue and agent events of :class:`CallEvent` as the lines
Asterisk's ``app_queue`` writes, so existing queue-statistics tools read our calls::

    epoch|uniqueid|queuename|agent|event|data1|data2|…

* ``epoch`` — the event time, whole seconds since 1970 (UTC);
* ``uniqueid`` — the caller's channel id: the telephony adapter's (``Call.telephony_id``, Asterisk's
  ``UNIQUEID``) where the call came through Asterisk, otherwise ``<epoch of the call's start>.<call id>``
  in the same shape; ``NONE`` for agent events without a call (``ADDMEMBER``, ``PAUSE`` …);
* ``queuename`` and ``agent`` — the queue code and the member's interface (``PJSIP/101``), ``NONE``
  where there is none;
* the data fields in Asterisk's order (the engine stores them so):

  ============== =======================================================
  ENTERQUEUE     url | callerid | position
  CONNECT        holdtime | bridgedchanneluniqueid | ringtime
  COMPLETECALLER holdtime | calltime | origposition
  COMPLETEAGENT  holdtime | calltime | origposition
  ABANDON        position | origposition | waittime
  EXITWITHKEY    key | position | origposition | waittime
  EXITWITHTIMEOUT position | origposition | waittime
  RINGNOANSWER   ringtime (milliseconds)
  PAUSE          reason
  UNPAUSE        reason
  ADDMEMBER      (one empty field, as Asterisk writes ``"%s", ""``)
  REMOVEMEMBER   (one empty field)
  ============== =======================================================

Asterisk writes ``…|EVENT|`` followed by the formatted data, so an event with no data ends in ``|``.
A ``|`` or a line break inside a field (a caller id) would break the format: they are replaced by ``_``
and a space.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from okno.contact_center.models import CallEvent

#: The events the export writes (others an adapter may have stored are written too, as they are).
EVENTS = (
    "ENTERQUEUE",
    "CONNECT",
    "COMPLETECALLER",
    "COMPLETEAGENT",
    "ABANDON",
    "EXITWITHKEY",
    "EXITWITHTIMEOUT",
    "RINGNOANSWER",
    "PAUSE",
    "UNPAUSE",
    "ADDMEMBER",
    "REMOVEMEMBER",
)
_NO_DATA = {"ADDMEMBER", "REMOVEMEMBER"}


def _field(value: object) -> str:
    return str(value).replace("|", "_").replace("\r", " ").replace("\n", " ")


def uniqueid(event: CallEvent) -> str:
    """The caller channel's id of an event (``NONE`` when it has no call)."""
    call = event.call
    if call is None:
        return "NONE"
    if call.telephony_id:
        return _field(call.telephony_id)
    return f"{int(call.started_at.timestamp())}.{call.pk}"


def line(event: CallEvent) -> str:
    """One queue_log line (without the newline)."""
    data = [_field(d) for d in (event.data or [])]
    if not data and event.event in _NO_DATA:
        data = [""]
    head = [
        str(int(event.at.timestamp())),
        uniqueid(event),
        _field(event.queue or "NONE"),
        _field(event.agent or "NONE"),
        _field(event.event),
    ]
    return "|".join(head + data) if data else "|".join(head) + "|"


def lines(start: dt.datetime, end: dt.datetime, *, queue: str = "") -> Iterator[str]:
    """The lines of ``[start, end)`` in time order (the agent events of every queue when ``queue`` is
    given are limited to that queue too)."""
    events = CallEvent.objects.filter(at__gte=start, at__lt=end).select_related("call")
    if queue:
        events = events.filter(queue=queue)
    for event in events.order_by("at", "id").iterator(chunk_size=2000):
        yield line(event)
