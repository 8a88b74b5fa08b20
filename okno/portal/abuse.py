"""Anti-abuse for the public forms and the cabinet, without external services.

* :func:`over_limit` — a counter per (scope, key) per fixed window in the cache, shared by the web
  workers (``CACHE_URL``: Redis in production, a file cache under ``var/`` in the demo).
* :func:`take` / :func:`give_back` — throttles that count an attempt *before* the work is done (so
  parallel requests cannot all slip under the limit) and hand the attempt back when it succeeded,
  which leaves only failures counted.
* :data:`PROOF_SCOPE` — failed account proofs per account number, shared by the cabinet and the kiosk:
  rotating IP addresses or switching between them does not give more guesses for one account.
* :func:`is_bot` — the honeypot: a field named ``website`` that people never see or fill in.
* Uploads go through ``okno.appeals.actions.add_attachment``, which checks size, sniffs the real type
  from the first bytes and refuses HTML, scripts and executables; attachments are served as downloads.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache
from django.http import HttpRequest

from okno.org.api.permissions import client_ip

HONEYPOT_FIELD = "website"

#: Failed account proofs per account number (cabinet sign-up and linking, kiosk) in an hour.
PROOF_SCOPE = "cabinet-proof"
PROOF_FAILURES = 5
PROOF_WINDOW_S = 3600

#: (scope, key, limit, window in seconds)
Check = tuple[str, str, int, int]


def hashed_key(value: str) -> str:
    """A cache-safe key for what a person typed (any characters, any length)."""
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


def account_key(number: str) -> str:
    """The :data:`PROOF_SCOPE` key of an account number as typed (normalised first)."""
    from okno.customers.numbers import normalize_account_number

    return hashed_key(normalize_account_number((number or "")[:64])[:30])


def minutes_left(window_s: int) -> int:
    """Whole minutes (at least one) until the current window of ``window_s`` ends."""
    return max(1, math.ceil((window_s - time.time() % window_s) / 60))


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


def take(checks: list[Check]) -> tuple[int, list[Check]]:
    """Count one attempt in each check, in order, before the work is done.

    Returns ``(minutes to wait, checks counted)``: the wait is 0 when every check is within its limit;
    at the first check over its limit the rest are not counted (a terminal that is blocked does not
    use up an account's allowance as well). Pass the counted checks to :func:`give_back` when the
    attempt succeeded."""
    counted: list[Check] = []
    for check in checks:
        scope, key, limit, window_s = check
        counted.append(check)
        if over_limit(scope, key, limit=limit, window_s=window_s):
            return minutes_left(window_s), counted
    return 0, counted


def give_back(checks: list[Check]) -> None:
    """Uncount an attempt counted by :func:`take` (it succeeded, or never reached the work)."""
    for scope, key, _limit, window_s in checks:
        cache_key = f"portal:{scope}:{key}:{int(time.time() // window_s)}"
        try:
            if int(cache.get(cache_key) or 0) > 0:
                cache.decr(cache_key)
        except ValueError:  # expired meanwhile
            pass


def attempts(scope: str, key: str, *, window_s: int) -> int:
    """How many attempts ``key`` has made in ``scope`` in the current window (without counting one)."""
    return int(cache.get(f"portal:{scope}:{key}:{int(time.time() // window_s)}") or 0)


def ip_over_limit(request: HttpRequest, scope: str, *, limit: int, window_s: int = 3600) -> bool:
    """:func:`over_limit` keyed by the client's IP address."""
    return over_limit(scope, client_ip(request) or "-", limit=limit, window_s=window_s)  # type: ignore[arg-type]


def is_bot(request: HttpRequest) -> bool:
    """True when the hidden honeypot field came back filled in."""
    return bool(request.POST.get(HONEYPOT_FIELD, "").strip())
