from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def okno(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "OKNO_COMPANY_NAME": settings.OKNO_COMPANY_NAME,
        "okno_perms": user.permissions() if user is not None and user.is_authenticated and hasattr(user, "permissions") else set(),
    }
