"""API of billing runs: list, detail (progress and counts) and start (``POST``, answered 202)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from okno.billing import runs
from okno.billing.models import BillingRun
from okno.billing.periods import parse_period
from okno.org.api.permissions import OknoPermission
from okno.org.models import Branch


class BillingRunSerializer(serializers.ModelSerializer):
    period = serializers.SerializerMethodField()
    branch: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "period",
            "branch",
            "status",
            "progress",
            "counts",
            "errors",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_period(self, obj: BillingRun) -> str:
        return f"{obj.period:%Y-%m}"


class StartRunSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="The month to bill, YYYY-MM.")
    branch = serializers.CharField(required=False, allow_blank=True, help_text="Branch code; empty: all.")

    def validate_period(self, value: str) -> Any:
        try:
            return parse_period(value)
        except ValueError as exc:
            raise serializers.ValidationError("Give the month as YYYY-MM.") from exc


@extend_schema_view(
    list=extend_schema(summary="List billing runs", tags=["billing"]),
    retrieve=extend_schema(summary="A billing run's progress, counts and errors", tags=["billing"]),
    create=extend_schema(
        summary="Start a billing run",
        tags=["billing"],
        request=StartRunSerializer,
        responses={202: BillingRunSerializer},
    ),
)
class BillingRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [OknoPermission]
    required_perms = {"list": "billingrun.view", "retrieve": "billingrun.view", "create": "billingrun.add"}
    serializer_class = BillingRunSerializer
    queryset = BillingRun.objects.none()

    def get_queryset(self) -> QuerySet[BillingRun]:
        return BillingRun.objects.restrict(self.request.user, "view").select_related("branch")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = StartRunSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        branch = None
        code = data.validated_data.get("branch")
        if code:
            branch = Branch.objects.restrict(request.user, "view").filter(code=code).first()
            if branch is None:
                raise ValidationError({"branch": ["No such branch."]})
        elif not request.user.all_branches:  # type: ignore[union-attr]
            raise ValidationError(
                {"branch": ["A company-wide run needs company-wide access; give your branch."]}
            )
        try:
            run = runs.start_run(period=data.validated_data["period"], branch=branch, actor=request.user)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        run.refresh_from_db()
        return Response(BillingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register("billing-runs", BillingRunViewSet, basename="billing-run")
urlpatterns = router.urls
