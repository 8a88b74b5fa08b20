"""Who is at the terminal: the kiosk's own entry in the session, with the time of the last request.

A kiosk identification is not a cabinet login: the person proved one account (its number and check
value) and the session holds only that account's id under :data:`SESSION_KEY`, with ``at``, the time of
the last request. :func:`current_account` signs the person out on the server when more than
:func:`idle_seconds` passed since then — the pages' meta refresh and countdown are only a courtesy, the
server does not rely on the terminal's browser to end a session.

No kiosk URL carries an account id: every page shows the account in the session, so another
customer's account is never reachable from the terminal.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from okno.customers.models import Account

SESSION_KEY = "kiosk_account"
#: Seconds of inactivity after which the terminal signs the person out (``OKNO_KIOSK_IDLE_SECONDS``).
IDLE_SECONDS = 90
#: ``?reason=`` of the start page after a server-side sign-out for inactivity.
REASON_IDLE = "idle"


def idle_seconds() -> int:
    """The idle limit: the setting ``OKNO_KIOSK_IDLE_SECONDS`` if given, else :data:`IDLE_SECONDS`."""
    return int(getattr(settings, "OKNO_KIOSK_IDLE_SECONDS", IDLE_SECONDS))


def identify(request: HttpRequest, account: Account) -> None:
    """Put ``account`` at the terminal: a fresh session key (no fixation), the id and the time."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"id": account.pk, "at": time.time()}
    request.kiosk_account = account  # type: ignore[attr-defined]


def sign_out(request: HttpRequest) -> None:
    """Forget the account and change the session key, so nothing of the person stays behind."""
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    request.kiosk_account = None  # type: ignore[attr-defined]


def current_account(request: HttpRequest, *, touch: bool = True) -> Account | None:
    """The account identified at this terminal, or ``None``.

    An identification idle for longer than :func:`idle_seconds` is ended here (``request.kiosk_idle``
    becomes true); a live one gets its last-activity time moved to now unless ``touch`` is false.
    """
    if hasattr(request, "kiosk_account"):
        return request.kiosk_account  # type: ignore[no-any-return]
    request.kiosk_idle = False  # type: ignore[attr-defined]
    account = None
    data = request.session.get(SESSION_KEY)
    if isinstance(data, dict) and data.get("id"):
        now = time.time()
        try:
            last = float(data.get("at") or 0)
        except (TypeError, ValueError):
            last = 0.0
        if now - last > idle_seconds():
            request.kiosk_idle = True  # type: ignore[attr-defined]
        else:
            account = (
                Account.objects.select_related("customer", "service_point__address", "service_point__branch")
                .filter(pk=data["id"], closed_on__isnull=True)
                .first()
            )
        if account is None:
            sign_out(request)
        elif touch:
            request.session[SESSION_KEY] = {"id": account.pk, "at": now}
    request.kiosk_account = account  # type: ignore[attr-defined]
    return account


def start_url(reason: str = "") -> str:
    url = reverse("kiosk:start")
    return f"{url}?reason={reason}" if reason else url


def kiosk_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let only an identified, active terminal session in; others go to the start page (which says
    the session ended when it was signed out for inactivity). Nothing a timed-out form posted is kept:
    the next person at the terminal must not see it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if current_account(request) is None:
            return redirect(start_url(REASON_IDLE if getattr(request, "kiosk_idle", False) else ""))
        return view(request, *args, **kwargs)

    return wrapper
