"""Anti-abuse for the public forms and the cabinet, without external services.

* :func:`over_limit` — a counter per (scope, key) per fixed window in the cache; shared by the web
  workers when the cache is (Redis in production, the database cache in the demo).
* :func:`is_bot` — the honeypot: a field named ``website`` that people never see or fill in.
* Uploads go through ``okno.appeals.actions.add_attachment``, which checks size, sniffs the real type
  from the first bytes and refuses HTML, scripts and executables; attachments are served as downloads.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

from okno.org.api.permissions import client_ip

HONEYPOT_FIELD = "website"


def over_limit(scope: str, key: str, *, limit: int, window_s: int) -> bool:
    """Count one more attempt for ``key`` in ``scope``; true once more than ``limit`` in the window."""
    bucket = int(time.time() // window_s)
    cache_key = f"portal:{scope}:{key}:{bucket}"
    cache.add(cache_key, 0, timeout=window_s)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window_s)
        count = 1
    return count > limit


def attempts(scope: str, key: str, *, window_s: int) -> int:
    """How many attempts ``key`` has made in ``scope`` in the current window (without counting one)."""
    return int(cache.get(f"portal:{scope}:{key}:{int(time.time() // window_s)}") or 0)


def ip_over_limit(request: HttpRequest, scope: str, *, limit: int, window_s: int = 3600) -> bool:
    """:func:`over_limit` keyed by the client's IP address."""
    return over_limit(scope, client_ip(request) or "-", limit=limit, window_s=window_s)  # type: ignore[arg-type]


def is_bot(request: HttpRequest) -> bool:
    """True when the hidden honeypot field came back filled in."""
    return bool(request.POST.get(HONEYPOT_FIELD, "").strip())
