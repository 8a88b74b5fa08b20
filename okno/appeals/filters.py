"""The FilterSet of appeal lists, shared by the operator UI and the API (NetBox's way)."""

from __future__ import annotations

import datetime as dt

import django_filters as filters
from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.appeals.choices import OPEN_STATUSES, AppealType, Channel, Status, Topic
from okno.appeals.models import Appeal
from okno.core.filters import DayFilter, IdFilter
from okno.org.models import Branch, Department


class YesNoAny(forms.Select):
    """A yes/no filter whose empty choice reads "any" rather than "unknown"."""

    def __init__(self) -> None:
        super().__init__(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))])


class AppealFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(label=_("Status"), choices=Status.choices)
    kind = filters.MultipleChoiceFilter(label=_("Type"), choices=AppealType.choices)
    topic = filters.MultipleChoiceFilter(label=_("Topic"), choices=Topic.choices)
    channel = filters.MultipleChoiceFilter(label=_("Channel"), choices=Channel.choices)
    branch = filters.ModelChoiceFilter(label=_("Branch"), queryset=Branch.objects.all())
    department = filters.ModelChoiceFilter(label=_("Department"), queryset=Department.objects.all())
    assignee = IdFilter(label=_("Assignee (id)"), field_name="assignee_id")
    customer = IdFilter(label=_("Customer (id)"), field_name="customer_id")
    open = filters.BooleanFilter(label=_("Open"), method="filter_open", widget=YesNoAny())
    overdue = filters.BooleanFilter(label=_("Overdue"), method="filter_overdue", widget=YesNoAny())
    due_soon = filters.BooleanFilter(label=_("Due soon"), method="filter_due_soon", widget=YesNoAny())
    received_from = DayFilter(label=_("Received from"), field_name="received_at", lookup_expr="date__gte")
    received_to = DayFilter(label=_("Received to"), field_name="received_at", lookup_expr="date__lte")
    q = filters.CharFilter(label=_("Number or text"), method="filter_q")

    class Meta:
        model = Appeal
        fields: list[str] = []

    def filter_open(self, qs: QuerySet[Appeal], name: str, value: bool | None) -> QuerySet[Appeal]:
        if value is None:
            return qs
        return qs.filter(status__in=OPEN_STATUSES) if value else qs.exclude(status__in=OPEN_STATUSES)

    def filter_overdue(self, qs: QuerySet[Appeal], name: str, value: bool | None) -> QuerySet[Appeal]:
        if value is None:
            return qs
        now = timezone.now()
        overdue = Q(status__in=OPEN_STATUSES, paused_at__isnull=True, deadline_at__lt=now) | Q(on_time=False)
        return qs.filter(overdue) if value else qs.exclude(overdue)

    def filter_due_soon(self, qs: QuerySet[Appeal], name: str, value: bool | None) -> QuerySet[Appeal]:
        if not value:
            return qs
        now = timezone.now()
        return qs.filter(
            status__in=OPEN_STATUSES,
            paused_at__isnull=True,
            deadline_at__gte=now,
            deadline_at__lte=now + dt.timedelta(hours=settings.OKNO_DUE_SOON_HOURS),
        )

    def filter_q(self, qs: QuerySet[Appeal], name: str, value: str) -> QuerySet[Appeal]:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(number__icontains=value) | Q(text__icontains=value) | Q(contact_name__icontains=value)
        )
