"""Per-process caches of reference data (calendar, deadline policies, routing rules, branches).

A value is rebuilt when it is older than ``ttl`` seconds, and at once in the process that saved a
change (model signals call :meth:`ProcessCache.invalidate`). Other processes (gunicorn workers,
job workers) pick the change up within ``OKNO_REFERENCE_TTL`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings

T = TypeVar("T")


class ProcessCache(Generic[T]):
    def __init__(self, loader: Callable[[], T]) -> None:
        self._loader = loader
        self._value: T | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is None or time.monotonic() - self._loaded_at > settings.OKNO_REFERENCE_TTL:
            with self._lock:
                value = self._loader()
                self._value, self._loaded_at = value, time.monotonic()
        return value

    def invalidate(self, **kwargs: object) -> None:
        with self._lock:
            self._value = None
