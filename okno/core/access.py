"""Access control as a queryset filter (NetBox's ``RestrictedQuerySet.restrict``).

Every list and detail in the UI and the API starts from ``Model.objects.restrict(user, action)``.
A model says how its rows relate to branches by defining ``access_q(user, action)``, returning a
``Q``; a user without the permission ``<model>.<action>`` gets an empty queryset.
"""

from __future__ import annotations

from typing import Any, Self

from django.core.exceptions import PermissionDenied
from django.db import models


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = "view") -> Self:
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        perm = f"{self.model._meta.model_name}.{action}"
        if not user.has_okno_perm(perm):
            return self.none()
        q = self.model.access_q(user, action)  # type: ignore[attr-defined]
        if q is None:  # company-wide scope
            return self
        return self.filter(q)


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet)


def require_perm(user: Any, perm: str) -> None:
    """Refuse (403) a page or action to a user without the Okno permission ``perm``."""
    if not user.has_okno_perm(perm):
        raise PermissionDenied
