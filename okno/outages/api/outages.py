"""API of outages: list and detail, register (unplanned) or schedule (planned), and the lifecycle actions.

Every change calls :mod:`okno.outages.actions`; a bad value answers 400 with field errors, a state
that does not allow the change (or a stale ``version``) 409.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from okno.org.api.permissions import OknoPermission
from okno.outages import actions, mass
from okno.outages.choices import OFF_STATUSES, Cause, OutageKind
from okno.outages.models import Announcement, EtrChange, GridNode, Outage, OutageNode


class NodeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = GridNode
        fields = ["id", "code", "name", "kind", "voltage_kv", "settlement"]


class OutageNodeSerializer(serializers.ModelSerializer):
    node = NodeBriefSerializer(read_only=True)

    class Meta:
        model = OutageNode
        fields = ["node", "off_at", "restored_at", "customers"]


class EtrChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = EtrChange
        fields = ["etr", "previous", "changed_at", "reason"]


class OutageSerializer(serializers.ModelSerializer):
    branch: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    node = NodeBriefSerializer(read_only=True)
    nodes = OutageNodeSerializer(many=True, read_only=True)

    class Meta:
        model = Outage
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "branch",
            "node",
            "nodes",
            "cause",
            "reason",
            "works_order",
            "planned_start",
            "planned_end",
            "detected_at",
            "started_at",
            "restored_at",
            "etr",
            "published_at",
            "is_momentary",
            "customers_affected",
            "reports",
            "crews",
            "mass_mode_at",
            "version",
        ]


class OutageDetailSerializer(OutageSerializer):
    etr_changes = EtrChangeSerializer(many=True, read_only=True)

    class Meta(OutageSerializer.Meta):
        fields = [*OutageSerializer.Meta.fields, "etr_changes", "note"]


class NodeField(serializers.CharField):
    """A grid node by its code, within the user's branches."""

    def to_internal_value(self, data: Any) -> GridNode:  # type: ignore[override]
        code = super().to_internal_value(data)
        user = self.context["request"].user
        node = GridNode.objects.restrict(user, "view").select_related("branch").filter(code=code).first()
        if node is None:
            raise serializers.ValidationError(f"No grid node with code “{code}”.")
        return node


class CreateOutageSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OutageKind.choices)
    node = NodeField(help_text="Code of the node switched off (a feeder, a substation…).")
    extra_nodes = serializers.ListField(child=NodeField(), required=False, default=list)
    cause = serializers.ChoiceField(choices=Cause.choices, required=False, default=Cause.UNKNOWN)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    started_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    etr = serializers.DateTimeField(required=False, allow_null=True, default=None)
    crews = serializers.IntegerField(required=False, default=0, min_value=0, max_value=500)
    planned_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    planned_end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    works_order = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    merge = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == OutageKind.PLANNED:
            missing = {
                f: ["Required for planned works."] for f in ("planned_start", "planned_end") if not attrs[f]
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class OutageVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, help_text="The version you saw; a stale one answers 409."
    )


class OutageConfirmSerializer(OutageVersionSerializer):
    etr = serializers.DateTimeField(required=False, allow_null=True, default=None)
    cause = serializers.ChoiceField(choices=Cause.choices, required=False, default=Cause.UNKNOWN)


class OutageEtrSerializer(OutageVersionSerializer):
    etr = serializers.DateTimeField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class OutageRestoreSerializer(OutageVersionSerializer):
    nodes = serializers.ListField(
        child=NodeField(), required=False, help_text="Codes of the nodes back on; empty: all of them."
    )
    restored_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class OutageAddNodeSerializer(serializers.Serializer):
    node = NodeField()
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class OutageCancelSerializer(OutageVersionSerializer):
    reason = serializers.CharField(max_length=300)


class OutageCrewsSerializer(serializers.Serializer):
    crews = serializers.IntegerField(min_value=0, max_value=500)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AnnouncementSerializer(serializers.ModelSerializer):
    branch: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    outage: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = Announcement
        fields = ["id", "branch", "outage", "settlements", "text", "text_en", "active_from", "active_until"]


_TAG = ["outages"]


@extend_schema_view(
    list=extend_schema(
        summary="List outages",
        tags=_TAG,
        parameters=[
            OpenApiParameter("status", str, description="Comma-separated statuses."),
            OpenApiParameter("kind", str, enum=OutageKind.values),
            OpenApiParameter("active", bool, description="Only outages with power off now."),
            OpenApiParameter("branch", str, description="Branch code."),
        ],
    ),
    retrieve=extend_schema(summary="An outage with its nodes and ETR history", tags=_TAG),
    create=extend_schema(
        summary="Register an unplanned outage or schedule planned works",
        tags=_TAG,
        request=CreateOutageSerializer,
        responses={201: OutageDetailSerializer},
    ),
)
class OutageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [OknoPermission]
    required_perms = {
        "list": "outage.view",
        "retrieve": "outage.view",
        "create": "outage.add",
        "*": "outage.change",
    }
    serializer_class = OutageSerializer
    queryset = Outage.objects.none()
    lookup_value_regex = r"\d+"  # /outages/at is the address lookup

    def get_queryset(self) -> QuerySet[Outage]:
        qs = (
            Outage.objects.restrict(self.request.user, "view")
            .select_related("branch", "node")
            .prefetch_related("nodes__node")
        )
        params = self.request.query_params
        if params.get("status"):
            qs = qs.filter(status__in=params["status"].split(","))
        if params.get("kind"):
            qs = qs.filter(kind=params["kind"])
        if params.get("active") in ("1", "true", "True"):
            qs = qs.filter(status__in=OFF_STATUSES)
        if params.get("branch"):
            qs = qs.filter(branch__code=params["branch"])
        return qs.order_by("-detected_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return OutageSerializer if self.action == "list" else OutageDetailSerializer

    def _show(self, outage: Outage, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().prefetch_related("etr_changes").get(pk=outage.pk)
        return Response(OutageDetailSerializer(fresh).data, status=code)

    def _body(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        body = serializer_class(data=self.request.data, context={"request": self.request})
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._body(CreateOutageSerializer)
        user = request.user
        if data["kind"] == OutageKind.UNPLANNED:
            outage = actions.register_unplanned(
                node=data["node"],
                extra_nodes=data["extra_nodes"],
                actor=user,
                cause=data["cause"],
                started_at=data["started_at"],
                etr=data["etr"],
                reason=data["reason"],
                crews=data["crews"],
            )
        else:
            outage = actions.schedule_planned(
                node=data["node"],
                extra_nodes=data["extra_nodes"],
                planned_start=data["planned_start"],
                planned_end=data["planned_end"],
                reason=data["reason"],
                works_order=data["works_order"],
                merge=data["merge"],
                actor=user,
            )
        return self._show(outage, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Confirm an outage proposed from reports", tags=_TAG, request=OutageConfirmSerializer
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        data = self._body(OutageConfirmSerializer)
        outage = actions.confirm(
            self.get_object(),
            actor=request.user,
            etr=data["etr"],
            cause=data["cause"],
            expected_version=data.get("version"),
        )
        return self._show(outage)

    @extend_schema(summary="Change the estimated restoration time", tags=_TAG, request=OutageEtrSerializer)
    @action(detail=True, methods=["post"])
    def etr(self, request: Request, pk: str) -> Response:
        data = self._body(OutageEtrSerializer)
        outage = actions.change_etr(
            self.get_object(),
            etr=data["etr"],
            reason=data["reason"],
            actor=request.user,
            expected_version=data.get("version"),
        )
        return self._show(outage)

    @extend_schema(
        summary="Restore all nodes, or some (partial restoration)", tags=_TAG, request=OutageRestoreSerializer
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str) -> Response:
        data = self._body(OutageRestoreSerializer)
        outage = self.get_object()
        if data.get("nodes"):
            outage = actions.restore_nodes(
                outage,
                node_ids=[n.pk for n in data["nodes"]],
                actor=request.user,
                at=data["restored_at"],
                expected_version=data.get("version"),
            )
        else:
            outage = actions.restore(
                outage, actor=request.user, at=data["restored_at"], expected_version=data.get("version")
            )
        return self._show(outage)

    @extend_schema(summary="The outage spreads to another node", tags=_TAG, request=OutageAddNodeSerializer)
    @action(detail=True, methods=["post"], url_path="add-node")
    def add_node(self, request: Request, pk: str) -> Response:
        data = self._body(OutageAddNodeSerializer)
        outage = actions.add_node(self.get_object(), node=data["node"], actor=request.user, at=data["at"])
        return self._show(outage)

    @extend_schema(summary="Cancel a proposal or planned works", tags=_TAG, request=OutageCancelSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        data = self._body(OutageCancelSerializer)
        outage = actions.cancel(
            self.get_object(), actor=request.user, reason=data["reason"], expected_version=data.get("version")
        )
        return self._show(outage)

    @extend_schema(
        summary="Crews on site and the dispatcher's note", tags=_TAG, request=OutageCrewsSerializer
    )
    @action(detail=True, methods=["post"])
    def crews(self, request: Request, pk: str) -> Response:
        data = self._body(OutageCrewsSerializer)
        outage = actions.set_crews(
            self.get_object(), crews=data["crews"], note=data["note"], actor=request.user
        )
        return self._show(outage)


@extend_schema_view(
    list=extend_schema(
        summary="Announcements for callers now (mass-outage mode), for the contact centre",
        tags=_TAG,
        parameters=[OpenApiParameter("settlement", str), OpenApiParameter("branch", str)],
    )
)
class AnnouncementViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [OknoPermission]
    required_perms = {"list": "outage.view"}
    serializer_class = AnnouncementSerializer
    queryset = Announcement.objects.none()
    pagination_class = None

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        branch_id = None
        code = request.query_params.get("branch")
        if code:
            from okno.org.models import Branch

            branch = Branch.objects.restrict(request.user, "view").filter(code=code).first()
            if branch is None:
                raise ValidationError({"branch": ["No such branch."]})
            branch_id = branch.pk
        rows = mass.active_announcements(
            branch_id=branch_id, settlement=request.query_params.get("settlement", "")
        )
        user = request.user
        if not user.all_branches:  # type: ignore[union-attr]
            rows = [a for a in rows if a.branch_id in user.branch_ids]  # type: ignore[union-attr]
        return Response(AnnouncementSerializer(rows, many=True).data)


router = SimpleRouter()
router.register("outages", OutageViewSet, basename="outage")
router.register("outage-announcements", AnnouncementViewSet, basename="outage-announcement")
urlpatterns = router.urls
