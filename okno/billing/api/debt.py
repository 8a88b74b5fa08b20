"""API routes: debt cases with their orders, and the manual steps (warning delivered, order done)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from okno.billing import debt
from okno.billing.models import DebtCase, DebtOrder
from okno.org.api.permissions import OknoPermission

PROBLEMS = {
    400: OpenApiResponse(description="Invalid input (problem+json with field errors)"),
    403: OpenApiResponse(description="The role lacks the permission debtcase.change"),
    404: OpenApiResponse(description="No such case (or order) in your scope"),
    409: OpenApiResponse(description="Already delivered or done"),
}


class DebtOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = DebtOrder
        fields = [
            "id",
            "kind",
            "number",
            "issued_on",
            "scheduled_on",
            "delivered_on",
            "done_on",
            "debt_kop",
            "channel",
        ]


class DebtCaseSerializer(serializers.ModelSerializer):
    account: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="number", read_only=True)
    orders = DebtOrderSerializer(many=True, read_only=True)

    class Meta:
        model = DebtCase
        fields = ["id", "account", "status", "opened_on", "closed_on", "debt_kop", "threshold_kop", "orders"]


class DeliveredBody(serializers.Serializer):
    delivered_on = serializers.DateField()


class DoneBody(serializers.Serializer):
    order = serializers.IntegerField(help_text="Id of the restriction, suspension or reconnection order")
    done_on = serializers.DateField()


@extend_schema_view(
    list=extend_schema(summary="Debt cases (filter: ?status=warned|restricted|suspended|paid|closed)"),
    retrieve=extend_schema(summary="A debt case with its orders"),
)
class DebtCaseViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [OknoPermission]
    required_perms = {
        "list": "debtcase.view",
        "retrieve": "debtcase.view",
        "delivered": debt.PERMISSION,
        "done": debt.PERMISSION,
    }
    serializer_class = DebtCaseSerializer
    filter_backends: list = []
    queryset = DebtCase.objects.none()

    def get_queryset(self) -> QuerySet[DebtCase]:
        qs = (
            DebtCase.objects.restrict(self.request.user, "view")
            .select_related("account")
            .prefetch_related(Prefetch("orders", queryset=DebtOrder.objects.order_by("issued_on", "id")))
        )
        status = self.request.query_params.get("status", "")
        if status in DebtCase.Status.values:
            qs = qs.filter(status=status)
        return qs

    def _fresh(self, pk: Any) -> Response:
        return Response(DebtCaseSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        summary="Record the day the warning was delivered",
        request=DeliveredBody,
        responses={200: DebtCaseSerializer, **PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def delivered(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        body = DeliveredBody(data=request.data)
        body.is_valid(raise_exception=True)
        warning = case.orders.filter(kind=DebtOrder.Kind.WARNING).order_by("-issued_on", "-id").first()
        if warning is None:
            raise serializers.ValidationError({"delivered_on": [_("The case has no warning.")]})
        debt.mark_delivered(warning, body.validated_data["delivered_on"], request.user)
        return self._fresh(case.pk)

    @extend_schema(
        summary="Record that an order was carried out",
        request=DoneBody,
        responses={200: DebtCaseSerializer, **PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def done(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        body = DoneBody(data=request.data)
        body.is_valid(raise_exception=True)
        order = get_object_or_404(DebtOrder, case=case, pk=body.validated_data["order"])
        debt.mark_done(order, body.validated_data["done_on"], request.user)
        return self._fresh(case.pk)


router = SimpleRouter()
router.register("debt-cases", DebtCaseViewSet, basename="debt-case")
urlpatterns = router.urls
