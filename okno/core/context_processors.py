from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from okno.core.cache import ProcessCache


def _load_company() -> list[Any]:
    from okno.org.models import Company

    return [Company.objects.first()]  # in a list: "no company yet" is a value too


#: The company every page names (its hotline and address): read once per OKNO_REFERENCE_TTL.
company_cache: ProcessCache[list[Any]] = ProcessCache(_load_company)


def _company_changed(**kwargs: object) -> None:
    """Drop the cached company now and again once the change is committed (a page served in between
    would otherwise keep the old row until the TTL)."""
    company_cache.invalidate()
    transaction.on_commit(company_cache.invalidate)


post_save.connect(_company_changed, sender="org.Company", dispatch_uid="okno-company-save")
post_delete.connect(_company_changed, sender="org.Company", dispatch_uid="okno-company-delete")


def _company() -> Any:
    return company_cache.get()[0]


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
