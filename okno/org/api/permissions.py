"""Permission plumbing shared by every API viewset: role permissions per action (NetBox style).

A viewset names the Okno permission each action needs in ``required_perms`` (action name → perm);
a user without it gets 403 problem+json. Row scope is separate: querysets start from
``Model.objects.restrict(user, "view")``, so another branch's rows answer 404.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class OknoPermission(BasePermission):
    """Authenticated, active, and holding the permission the view names for the current action."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        perms: dict[str, str | None] = getattr(view, "required_perms", {})
        action = getattr(view, "action", None) or (request.method or "get").lower()
        perm = perms.get(action, perms.get("*"))
        return perm is None or user.has_okno_perm(perm)


def client_ip(request: Any) -> str | None:
    """The client's address: ``REMOTE_ADDR``, which ``okno.core.middleware.TrustedProxyMiddleware``
    sets to the real client's when the request came through a trusted proxy."""
    return request.META.get("REMOTE_ADDR") or None
