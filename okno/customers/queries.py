"""Read-side selectors for customers: the fuzzy search shared by the UI, the API and the IVR."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from okno.customers.models import Customer, fold
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
