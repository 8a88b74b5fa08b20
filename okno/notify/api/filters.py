"""FilterSets of the notifications API."""

from __future__ import annotations

import django_filters as filters
from django.utils.translation import gettext_lazy as _

from okno.notify.choices import Channel, NoticeStatus
from okno.notify.models import Notice, Subscription


class SubscriptionFilter(filters.FilterSet):
    customer = filters.NumberFilter(label=_("Customer (id)"), field_name="customer_id")
    account = filters.NumberFilter(label=_("Account (id)"), field_name="account_id")
    active = filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Subscription
        fields: list[str] = []


class NoticeFilter(filters.FilterSet):
    status = filters.ChoiceFilter(label=_("Status"), choices=NoticeStatus.choices)
    channel = filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    event = filters.CharFilter(
        label=_("Event key starts with"), field_name="event__key", lookup_expr="startswith"
    )
    customer = filters.NumberFilter(label=_("Customer (id)"), field_name="customer_id")

    class Meta:
        model = Notice
        fields: list[str] = []
