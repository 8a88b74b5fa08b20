"""The cabinet's own session: who is signed in, which accounts they hold, and the login guard.

A cabinet user is not a staff ``User``: they are kept in the session under ``SESSION_KEY`` with the
user's ``session_version`` (a password change bumps it, which ends every other session). Every view
that shows an account gets it through :func:`my_account`, which answers 404 for an account the user
does not hold — the same answer as for one that does not exist.

When the session has expired, :func:`cabinet_required` sends the person to the login page with
``next`` and, for a POST, keeps the form's fields as a draft (:func:`pop_draft`) that the form shows
again once they are back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from okno.customers.models import Account, CabinetUser

SESSION_KEY = "cabinet_user"
DRAFT_KEY = "cabinet_drafts"
# Fields never kept in a draft.
_SECRET_FIELDS = frozenset(
    {"csrfmiddlewaretoken", "password", "password1", "password2", "current", "code", "check_value"}
)


def login(request: HttpRequest, user: CabinetUser) -> None:
    """Sign ``user`` in: a fresh session key (no fixation), the user's id and session version."""
    drafts = request.session.get(DRAFT_KEY)
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"id": user.pk, "v": user.session_version}
    if drafts:
        request.session[DRAFT_KEY] = drafts
    CabinetUser.objects.filter(pk=user.pk).update(last_login_at=timezone.now())
    request.cabinet_user = user  # type: ignore[attr-defined]


def logout(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    request.cabinet_user = None  # type: ignore[attr-defined]


def current_user(request: HttpRequest) -> CabinetUser | None:
    """The signed-in cabinet user, or ``None`` (also when their password changed since)."""
    if hasattr(request, "cabinet_user"):
        return request.cabinet_user  # type: ignore[no-any-return]
    user = None
    data = request.session.get(SESSION_KEY)
    if isinstance(data, dict) and data.get("id"):
        user = CabinetUser.objects.filter(pk=data["id"], is_active=True).first()
        if user is not None and user.session_version != data.get("v"):
            user = None
        if user is None:
            request.session.pop(SESSION_KEY, None)
    request.cabinet_user = user  # type: ignore[attr-defined]
    return user


def my_accounts(user: CabinetUser) -> QuerySet[Account]:
    """The accounts ``user`` holds, in the order they were linked."""
    return (
        Account.objects.filter(cabinetlink__user=user)
        .select_related("customer", "service_point__address", "service_point__branch")
        .order_by("cabinetlink__linked_at", "pk")
    )


def my_account(request: HttpRequest, account_id: Any) -> Account:
    """One of the signed-in user's accounts by id; 404 for any other id (never 403: no enumeration)."""
    user = current_user(request)
    try:
        pk = int(account_id)
    except (TypeError, ValueError):
        raise Http404 from None
    account = my_accounts(user).filter(pk=pk).first() if user else None
    if account is None:
        raise Http404
    return account


def save_draft(request: HttpRequest) -> None:
    """Keep a POST's fields (not passwords, codes or files) for the form at ``request.path``."""
    fields = {k: v for k, v in request.POST.items() if k not in _SECRET_FIELDS}
    if fields:
        drafts = request.session.get(DRAFT_KEY) or {}
        drafts[request.path] = fields
        request.session[DRAFT_KEY] = drafts


def pop_draft(request: HttpRequest) -> dict[str, str]:
    """The draft kept for this page when the session expired (once), or ``{}``."""
    drafts = request.session.get(DRAFT_KEY) or {}
    draft = drafts.pop(request.path, None)
    if draft is not None:
        request.session[DRAFT_KEY] = drafts
    return draft or {}


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
