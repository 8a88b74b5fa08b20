"""Reference data of the registry, read-only: the enumerations, answer templates, deadline policies."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from okno.appeals.choices import AnswerChannel, AppealType, CancelReason, Channel, Status, Topic
from okno.appeals.models import AnswerTemplate, DeadlinePolicy
from okno.org.api.permissions import OknoPermission

ENUMS = {
    "channels": Channel,
    "appeal_types": AppealType,
    "topics": Topic,
    "answer_channels": AnswerChannel,
    "statuses": Status,
    "cancel_reasons": CancelReason,
}


class ChoiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label


class ReferenceSerializer(serializers.Serializer):
    channels = ChoiceSerializer(many=True)
    appeal_types = ChoiceSerializer(many=True)
    topics = ChoiceSerializer(many=True)
    answer_channels = ChoiceSerializer(many=True)
    statuses = ChoiceSerializer(many=True)
    cancel_reasons = ChoiceSerializer(many=True)


class ReferenceView(APIView):
    """Codes and labels (in the request's language) of every enumeration the API takes or returns."""

    permission_classes = [OknoPermission]

    @extend_schema(
        summary="Enumerations: channels, types, topics, answer channels, statuses, cancel reasons",
        responses=ReferenceSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                key: [{"code": code, "label": str(label)} for code, label in enum.choices]
                for key, enum in ENUMS.items()
            }
        )


class AnswerTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnswerTemplate
        fields = ["id", "code", "title", "topic", "body"]


class DeadlinePolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadlinePolicy
        fields = [
            "id",
            "name",
            "kind",
            "topic",
            "customer_kind",
            "channel",
            "unit",
            "amount",
            "registration_days",
            "warn_before_hours",
            "legal_basis",
            "active",
        ]


class AnswerTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """Active answer templates (placeholders {customer}, {number}, {received}, {address})."""

    serializer_class = AnswerTemplateSerializer
    permission_classes = [OknoPermission]
    required_perms = {"*": "appeal.view"}
    pagination_class = None
    filter_backends: list = []
    queryset = AnswerTemplate.objects.none()

    def get_queryset(self) -> QuerySet[AnswerTemplate]:
        return AnswerTemplate.objects.filter(active=True).order_by("topic", "title", "id")


class DeadlinePolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """Deadline policies (the most specific active one applies to an appeal)."""

    serializer_class = DeadlinePolicySerializer
    permission_classes = [OknoPermission]
    pagination_class = None
    filter_backends: list = []
    queryset = DeadlinePolicy.objects.none()

    def get_queryset(self) -> QuerySet[DeadlinePolicy]:
        return DeadlinePolicy.objects.order_by("name", "id")
