"""Who is acting and in which request: context variables read by the audit trail."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

_actor: ContextVar[Any] = ContextVar("okno_actor", default=None)
_request_id: ContextVar[str] = ContextVar("okno_request_id", default="")


def current_actor() -> Any:
    return _actor.get()


def current_request_id() -> str:
    return _request_id.get()


@contextlib.contextmanager
def acting_as(actor: Any) -> Iterator[None]:
    """Every change made inside is attributed to ``actor`` in the change log."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


@contextlib.contextmanager
def request_id(value: str | None = None) -> Iterator[str]:
    rid = value or uuid.uuid4().hex
    token = _request_id.set(rid)
    try:
        yield rid
    finally:
        _request_id.reset(token)
