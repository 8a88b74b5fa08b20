"""Read-side selectors for customers: the fuzzy search shared by the UI, the API and the IVR."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from okno.customers.models import Account, ContactEvent, Customer, fold
from okno.customers.numbers import normalize_account_number, normalize_phone


def search_customers(user: Any, query: str, limit: int = 20) -> list[Customer]:
    """Customers the user may see, best match first, by account number, phone, INN, name or address.

    Exact identifiers (account, phone, INN) are tried first. Otherwise every word must occur in the
    folded search text; on PostgreSQL ``pg_trgm`` similarity also finds misspelt names
    (“Иваноф” → “Иванов”) and ranks the results; SQLite ranks by word matches.
    """
    base: QuerySet[Customer] = Customer.objects.restrict(user, "view")
    query = (query or "").strip()
    if not query:
        return []
    digits = normalize_account_number(query)
    if digits.isdigit():
        exact = base.filter(
            Q(accounts__number=digits) | Q(inn=digits) | Q(contacts__value=normalize_phone(query))
        ).distinct()[:limit]
        found = list(exact)
        if found:
            return found
    words = [w for w in fold(query).split() if w]
    if not words:
        return []
    cond = Q()
    for w in words:
        cond &= Q(search_text__contains=w)
    found = list(base.filter(cond).order_by("last_name", "organisation", "id")[:limit])
    if found or connection.vendor != "postgresql":
        return found
    from django.contrib.postgres.search import TrigramWordSimilarity

    folded = " ".join(words)
    return list(
        base.annotate(sim=TrigramWordSimilarity(folded, "search_text"))
        .filter(sim__gte=0.45)
        .order_by("-sim", "id")[:limit]
    )


def visible_accounts(user: Any) -> QuerySet[Account]:
    """Accounts the user may see, with their service points (for cards and candidate lists)."""
    return Account.objects.restrict(user, "view").select_related(
        "service_point__address", "service_point__grid_district", "service_point__branch"
    )


def with_visible_accounts(user: Any, customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Customers with ``accounts`` and ``contacts`` prefetched, accounts limited to the user's scope."""
    return customers.prefetch_related(Prefetch("accounts", queryset=visible_accounts(user)), "contacts")


def visible_history(user: Any, customer: Customer) -> QuerySet[ContactEvent]:
    """The customer's contact history without lines about appeals the user may not see.

    Appeals sit above customers, so the model is looked up by name rather than imported."""
    appeal_model = apps.get_model("appeals", "Appeal")
    visible = appeal_model.objects.restrict(user, "view").filter(customer=customer).values("id")
    return customer.history.filter(~Q(ref_type="appeals.appeal") | Q(ref_id__in=visible)).select_related(
        "actor"
    )
