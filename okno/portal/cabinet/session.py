"""The cabinet's own session: who is signed in, which accounts they hold, and the login guard.

A cabinet user is not a staff ``User``: they are kept in the session under ``SESSION_KEY`` with the
user's ``session_version`` (a password change bumps it, which ends every other session). Every view
that shows an account gets it through :func:`my_account`, which answers 404 for an account the user
does not hold — the same answer as for one that does not exist.

A sign-in ends after :func:`idle_seconds` without a request (``OKNO_CABINET_IDLE_SECONDS``, an hour
by default), or when the user's password changed or they were deactivated. :func:`current_user`
notices it and keeps the previous user's id in the session (:data:`PREVIOUS_KEY`). Then
:func:`cabinet_required` sends the person to the login page with ``next`` and, for a POST, keeps the
form's fields as a draft for *that* user (:func:`save_draft`: at most :data:`DRAFT_FIELDS` fields of
:data:`DRAFT_CHARS` characters on :data:`DRAFT_PAGES` pages), which the form shows again once the same
user is back (:func:`pop_draft`). A POST from a session that had no cabinet user keeps nothing;
logging out, or another user logging in on the same browser, drops the drafts.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from okno.core import rawsql
from okno.customers.models import Account, Address, CabinetLink, CabinetUser, Customer, ServicePoint
from okno.org.models import Branch

SESSION_KEY = "cabinet_user"
DRAFT_KEY = "cabinet_drafts"
#: The id of the user whose sign-in ended in this session (drafts are kept only for them).
PREVIOUS_KEY = "cabinet_previous_user"
#: Seconds without a request after which a sign-in ends (``OKNO_CABINET_IDLE_SECONDS``).
IDLE_SECONDS = 3600
#: The last-activity time is written back at most this often (not on every request).
_TOUCH_EVERY_S = 60
#: Limits of what a draft keeps: fields per page, characters per field, pages.
DRAFT_FIELDS = 20
DRAFT_CHARS = 10_000
DRAFT_PAGES = 5
# Fields never kept in a draft.
_SECRET_FIELDS = frozenset(
    {"csrfmiddlewaretoken", "password", "password1", "password2", "current", "code", "check_value"}
)


def idle_seconds() -> int:
    return int(getattr(settings, "OKNO_CABINET_IDLE_SECONDS", IDLE_SECONDS))


def login(request: HttpRequest, user: CabinetUser) -> None:
    """Sign ``user`` in: a fresh session key (no fixation), the user's id and session version.

    Drafts survive only when they are this user's; another user's are dropped."""
    drafts = request.session.get(DRAFT_KEY)
    request.session.cycle_key()
    request.session.pop(PREVIOUS_KEY, None)
    request.session.pop(DRAFT_KEY, None)
    request.session[SESSION_KEY] = {"id": user.pk, "v": user.session_version, "at": time.time()}
    if isinstance(drafts, dict) and drafts.get("user") == user.pk:
        request.session[DRAFT_KEY] = drafts
    CabinetUser.objects.filter(pk=user.pk).update(last_login_at=timezone.now())
    request.cabinet_user = user  # type: ignore[attr-defined]


def logout(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(PREVIOUS_KEY, None)
    request.session.pop(DRAFT_KEY, None)
    request.session.cycle_key()
    request.cabinet_user = None  # type: ignore[attr-defined]


_USER = rawsql.Part(CabinetUser, "u")


def _active_user(user_id: Any) -> CabinetUser | None:
    """The active cabinet user with this id (hand-written: read on every page of the cabinet)."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    if not -(2**63) < pk < 2**63:
        return None
    rows = rawsql.fetch(
        f"SELECT {_USER.columns()} FROM {rawsql.table(CabinetUser)} u WHERE u.id = %s AND u.is_active = %s",  # noqa: S608
        [pk, True],
        (_USER,),
    )
    return rows[0][0] if rows else None


def current_user(request: HttpRequest) -> CabinetUser | None:
    """The signed-in cabinet user, or ``None`` (also when idle too long or their password changed).

    A sign-in that ends here leaves the user's id under :data:`PREVIOUS_KEY`, for :func:`save_draft`."""
    if hasattr(request, "cabinet_user"):
        return request.cabinet_user  # type: ignore[no-any-return]
    user = None
    data = request.session.get(SESSION_KEY)
    if isinstance(data, dict) and data.get("id"):
        now = time.time()
        try:
            last = float(data.get("at", now))
        except (TypeError, ValueError):
            last = 0.0
        if now - last <= idle_seconds():
            user = _active_user(data["id"])
            if user is not None and user.session_version != data.get("v"):
                user = None
        if user is None:
            request.session.pop(SESSION_KEY, None)
            request.session[PREVIOUS_KEY] = data["id"]
        elif "at" in data and now - last >= _TOUCH_EVERY_S:
            request.session[SESSION_KEY] = {**data, "at": now}
    request.cabinet_user = user  # type: ignore[attr-defined]
    return user


def my_accounts(user: CabinetUser) -> QuerySet[Account]:
    """The accounts ``user`` holds, in the order they were linked."""
    return (
        Account.objects.filter(cabinetlink__user=user)
        .select_related("customer", "service_point__address", "service_point__branch")
        .order_by("cabinetlink__linked_at", "pk")
    )


_HELD = (
    rawsql.Part(Account, "a"),
    rawsql.Part(Customer, "c"),
    rawsql.Part(ServicePoint, "sp"),
    rawsql.Part(Address, "ad"),
    rawsql.Part(Branch, "b"),
)


def held_accounts(user: CabinetUser, account_id: int | None = None) -> list[Account]:
    """:func:`my_accounts` as a list (or the one with ``account_id``), read by one hand-written
    statement: the dashboard and the account page ask for it on every visit, and building the ORM's
    five-table join costs more than running it (docs/portal/cabinet.md, "Speed")."""
    a, c, sp, ad, b = _HELD
    t = rawsql.table
    sql = (
        f"SELECT {rawsql.select_list(_HELD)} FROM {t(CabinetLink)} l"  # noqa: S608 — names from metadata
        f" JOIN {t(Account)} a ON a.id = l.account_id"
        f" JOIN {t(Customer)} c ON c.id = a.customer_id"
        f" JOIN {t(ServicePoint)} sp ON sp.id = a.service_point_id"
        f" JOIN {t(Address)} ad ON ad.id = sp.address_id"
        f" JOIN {t(Branch)} b ON b.id = sp.branch_id"
        " WHERE l.user_id = %s"
        + (" AND a.id = %s" if account_id is not None else "")
        + " ORDER BY l.linked_at, a.id"
    )
    params = [user.pk] if account_id is None else [user.pk, account_id]
    accounts = []
    for account, customer, point, address, branch in rawsql.fetch(sql, params, _HELD):
        rawsql.attach(point, "address", address)
        rawsql.attach(point, "branch", branch)
        rawsql.attach(account, "service_point", point)
        rawsql.attach(account, "customer", customer)
        accounts.append(account)
    return accounts


def my_account(request: HttpRequest, account_id: Any) -> Account:
    """One of the signed-in user's accounts by id; 404 for any other id (never 403: no enumeration)."""
    user = current_user(request)
    try:
        pk = int(account_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if user is None or not -(2**63) < pk < 2**63:
        raise Http404
    found = held_accounts(user, pk)
    if not found:
        raise Http404
    return found[0]


def save_draft(request: HttpRequest) -> None:
    """Keep a POST's fields (not passwords, codes or files) for the form at ``request.path``, for the
    user whose sign-in ended in this session; nothing when the session had no cabinet user."""
    previous = request.session.get(PREVIOUS_KEY)
    if not isinstance(previous, int):
        return
    fields: dict[str, str] = {}
    for key, value in request.POST.items():
        if key in _SECRET_FIELDS or len(key) > 100:
            continue
        if len(fields) >= DRAFT_FIELDS:
            break
        fields[key] = str(value)[:DRAFT_CHARS]
    if not fields:
        return
    drafts = request.session.get(DRAFT_KEY)
    pages = drafts.get("pages", {}) if isinstance(drafts, dict) and drafts.get("user") == previous else {}
    pages.pop(request.path, None)
    pages[request.path] = fields
    while len(pages) > DRAFT_PAGES:
        pages.pop(next(iter(pages)))
    request.session[DRAFT_KEY] = {"user": previous, "pages": pages}


def pop_draft(request: HttpRequest) -> dict[str, str]:
    """The draft the signed-in user left on this page when their session ended (once), or ``{}``."""
    drafts = request.session.get(DRAFT_KEY)
    if not isinstance(drafts, dict):
        return {}
    user = current_user(request)
    if user is None or drafts.get("user") != user.pk:
        if user is not None:
            request.session.pop(DRAFT_KEY, None)  # another user's drafts: never shown, dropped
        return {}
    pages = drafts.get("pages") or {}
    draft = pages.pop(request.path, None)
    if draft is not None:
        request.session[DRAFT_KEY] = {"user": user.pk, "pages": pages}
    return draft if isinstance(draft, dict) else {}


def login_url(next_path: str) -> str:
    return f"{reverse('cabinet:login')}?{urlencode({'next': next_path})}"


def cabinet_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Let only a signed-in cabinet user in; others go to login (a POST's fields kept as a draft)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if current_user(request) is None:
            if request.method == "POST":
                save_draft(request)
            return redirect(login_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapper
