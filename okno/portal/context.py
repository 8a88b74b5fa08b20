"""Template context of the public site: the signed-in cabinet user (looked up only when a template asks)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def portal(request: HttpRequest) -> dict[str, Any]:
    from okno.portal.cabinet.session import current_user

    return {"cabinet_user": SimpleLazyObject(lambda: current_user(request))}
