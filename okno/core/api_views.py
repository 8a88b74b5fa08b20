"""Audit endpoints for the security officer: who saw a customer's personal data, and what changed."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from okno.core.filters import MomentFilter
from okno.core.models import AccessLog, ChangeLog
from okno.org.api.permissions import OknoPermission


class AccessLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessLog
        fields = ["id", "time", "actor", "actor_name", "request_id", "customer_id", "context", "remote_addr"]


class ChangeLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeLog
        fields = [
            "id",
            "time",
            "actor",
            "actor_name",
            "request_id",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
        ]


class AccessLogFilter(filters.FilterSet):
    customer = filters.NumberFilter(label=_("Customer (id)"), field_name="customer_id")
    actor = filters.NumberFilter(label=_("Staff member (id)"), field_name="actor_id")
    since = MomentFilter(label=_("Since"), field_name="time", lookup_expr="gte")
    until = MomentFilter(label=_("Until"), field_name="time", lookup_expr="lte")

    class Meta:
        model = AccessLog
        fields: list[str] = []


class ChangeLogFilter(filters.FilterSet):
    object_type = filters.CharFilter(label=_("Object type (app.model)"))
    object_id = filters.CharFilter(label=_("Object id"))
    actor = filters.NumberFilter(label=_("Staff member (id)"), field_name="actor_id")
    request_id = filters.CharFilter(label=_("Request id"))
    since = MomentFilter(label=_("Since"), field_name="time", lookup_expr="gte")
    until = MomentFilter(label=_("Until"), field_name="time", lookup_expr="lte")

    class Meta:
        model = ChangeLog
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Who saw customers' personal data (filter by customer and period)"),
    retrieve=extend_schema(summary="One personal-data access"),
)
class AccessLogViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AccessLogSerializer
    permission_classes = [OknoPermission]
    required_perms = {"*": "accesslog.view"}
    filterset_class = AccessLogFilter
    queryset = AccessLog.objects.none()

    def get_queryset(self) -> QuerySet[AccessLog]:
        return AccessLog.objects.all()


@extend_schema_view(
    list=extend_schema(summary="The change log (filter by object type and id)"),
    retrieve=extend_schema(summary="One change with before/after snapshots"),
)
class ChangeLogViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ChangeLogSerializer
    permission_classes = [OknoPermission]
    required_perms = {"*": "changelog.view"}
    filterset_class = ChangeLogFilter
    queryset = ChangeLog.objects.none()

    def get_queryset(self) -> QuerySet[ChangeLog]:
        return ChangeLog.objects.all()
