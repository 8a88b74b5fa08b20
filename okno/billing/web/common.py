"""What the billing pages share: the account named in the URL, within the user's scope, access-logged."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from okno.core.audit import log_access
from okno.customers.models import Account
from okno.customers.numbers import normalize_account_number


def account_for(request: HttpRequest, number: str, context_name: str) -> Account:
    """The account ``number`` if the user may see it (404 otherwise); showing it is logged."""
    account = get_object_or_404(
        Account.objects.restrict(request.user, "view").select_related(
            "customer", "service_point__address", "service_point__branch"
        ),
        number=normalize_account_number(number),
    )
    log_access(
        actor=request.user,
        customer_id=account.customer_id,
        context_name=context_name,
        remote_addr=request.META.get("REMOTE_ADDR") or None,
    )
    return account
