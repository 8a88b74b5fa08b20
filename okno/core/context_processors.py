from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def _company() -> Any:
    from okno.org.models import Company

    return Company.objects.first()


def okno(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "OKNO_COMPANY_NAME": settings.OKNO_COMPANY_NAME,
        "okno_production": settings.PRODUCTION,
        "okno_company": SimpleLazyObject(_company),
        "okno_perms": user.permissions()
        if user is not None and user.is_authenticated and hasattr(user, "permissions")
        else set(),
    }
