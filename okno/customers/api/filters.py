"""FilterSets of the customer and account lists."""

from __future__ import annotations

import django_filters as filters
from django.utils.translation import gettext_lazy as _

from okno.core.filters import IdFilter
from okno.customers.choices import CustomerKind
from okno.customers.models import Account, Customer
from okno.customers.numbers import normalize_account_number


class CustomerFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(label=_("Kind"), choices=CustomerKind.choices)
    inn = filters.CharFilter(label=_("INN"))
    branch = filters.NumberFilter(label=_("Branch (id)"), field_name="branch_id")
    q = filters.CharFilter(label=_("Search: account, phone, INN, name or address"), method="filter_q")

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_q(self, qs, name, value):  # the view answers ``q`` with the fuzzy search itself
        return qs


class AccountFilter(filters.FilterSet):
    number = filters.CharFilter(label=_("Account number"), method="filter_number")
    customer = IdFilter(label=_("Customer (id)"), field_name="customer_id")

    class Meta:
        model = Account
        fields: list[str] = []

    def filter_number(self, qs, name, value):
        return qs.filter(number=normalize_account_number(value))
