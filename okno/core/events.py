"""Domain events: how one app reacts to another without hidden signals.

An app publishes ``"appeal.registered"`` with a payload of ids; another app subscribes a handler in
its ``AppConfig.ready``. Handlers run after the publishing transaction commits, so they never see
rolled-back state, and a failing handler does not undo the action that published.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)
Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)
_muted: set[str] = set()

KNOWN = {
    "appeal.registered",
    "appeal.assigned",
    "appeal.answered",
    "appeal.delivered",
    "appeal.closed",
    "appeal.overdue",
    "reading.accepted",
    "payment.received",
    "billing.run_finished",
    "debt.step",
}


def subscribe(name: str, handler: Handler) -> None:
    if name not in KNOWN:
        raise KeyError(f"unknown event {name!r}; add it to okno.core.events.KNOWN")
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def publish(name: str, **payload: Any) -> None:
    if name not in KNOWN:
        raise KeyError(f"unknown event {name!r}")

    def deliver() -> None:
        for handler in list(_handlers[name]):
            try:
                handler(**payload)
            except Exception:
                log.exception("handler %r of %s failed", handler, name)

    if _handlers[name] and name not in _muted:
        transaction.on_commit(deliver)


@contextmanager
def muted(*names: str) -> Iterator[None]:
    """Publish nothing of ``names`` inside the block: for loaders that write history in bulk (the
    demo's year of payments), whose events would only trigger live reactions to past facts."""
    unknown = set(names) - KNOWN
    if unknown:
        raise KeyError(f"unknown events {sorted(unknown)}")
    added = set(names) - _muted
    _muted.update(added)
    try:
        yield
    finally:
        _muted.difference_update(added)
