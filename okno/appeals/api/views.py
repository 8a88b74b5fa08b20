"""The appeals API: list, registration, detail and the lifecycle as POST actions.

Every action goes through ``okno.appeals.actions``; this module only resolves input, checks the
role permission of the action (403) and the row scope (404), and renders the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from okno.appeals import actions
from okno.appeals.api import action_serializers as bodies
from okno.appeals.api.serializers import (
    AppealCreatedSerializer,
    AppealCreateSerializer,
    AppealDetailSerializer,
    AppealListSerializer,
    AttachmentSerializer,
)
from okno.appeals.filters import AppealFilter
from okno.appeals.letters import render_answer_pdf
from okno.appeals.models import Answer, Appeal, AppealEvent, Attachment
from okno.core.audit import log_access
from okno.core.errors import StaleVersion
from okno.customers.models import Customer
from okno.org.api.permissions import OknoPermission, client_ip
from okno.org.models import User

SAFE_DOWNLOAD_TYPES = frozenset(actions.MAX_ATTACHMENTS_TYPES)
PROBLEM_RESPONSES = {
    400: OpenApiResponse(description="Invalid input (problem+json with field errors)"),
    403: OpenApiResponse(description="The role lacks the permission"),
    404: OpenApiResponse(description="No such appeal in your scope"),
    409: OpenApiResponse(description="Not allowed in the current status, or stale_version"),
}


def _transition(body: type[serializers.Serializer], summary: str) -> Callable:
    return extend_schema(
        summary=summary,
        request=body,
        responses={200: AppealDetailSerializer, **PROBLEM_RESPONSES},
        filters=False,
    )


def detail_queryset(qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
    return qs.select_related(
        "branch", "department", "assignee", "customer", "account", "address"
    ).prefetch_related(
        Prefetch("events", queryset=AppealEvent.objects.select_related("actor").order_by("time", "id")),
        Prefetch("answers", queryset=Answer.objects.select_related("author").order_by("created_at", "id")),
        "attachments",
    )


@extend_schema_view(
    list=extend_schema(summary="List appeals in your scope (AppealFilter parameters)"),
    retrieve=extend_schema(summary="An appeal with its timeline, answers and attachments"),
)
class AppealViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [OknoPermission]
    filterset_class = AppealFilter
    lookup_value_regex = "[0-9]+"
    queryset = Appeal.objects.none()
    required_perms = {
        "list": "appeal.view",
        "retrieve": "appeal.view",
        "by_number": "appeal.view",
        "create": "appeal.register",
        "assign": "appeal.assign",
        "start": "appeal.transition",
        "wait": "appeal.transition",
        "resume": "appeal.transition",
        "close": "appeal.transition",
        "reopen": "appeal.transition",
        "answer": "appeal.answer",
        "deliver": "appeal.answer",
        "cancel": "appeal.cancel",
        "extend": "appeal.extend",
        "escalate": "appeal.register",
        "rate": "appeal.feedback",
        "comment": "appeal.change",
        "answer_pdf": "appeal.view",
        "attachments": "attachment.view",
        "upload_attachment": "attachment.add",
        "download_attachment": "attachment.view",
    }

    @property
    def actor(self) -> User:
        return cast(User, self.request.user)  # OknoPermission has let only active staff in

    def get_queryset(self) -> QuerySet[Appeal]:
        qs: QuerySet[Appeal] = Appeal.objects.restrict(self.request.user, "view")
        if self.action in ("retrieve", "by_number"):
            qs = detail_queryset(qs)
        return qs

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return AppealListSerializer
        if self.action == "create":
            return AppealCreateSerializer
        return AppealDetailSerializer

    # ---------------------------------------------------------------- reading

    def _detail(self, appeal: Appeal, code: int = status.HTTP_200_OK) -> Response:
        """The appeal as the detail shows it, in its branch's time zone; a personal-data view is logged."""
        request = self.request
        if appeal.customer_id:
            log_access(
                actor=self.actor,
                customer_id=appeal.customer_id,
                context_name="api:appeal",
                remote_addr=client_ip(request),
            )
        with timezone.override(appeal.branch.tz):
            data = AppealDetailSerializer(appeal, context=self.get_serializer_context()).data
        return Response(data, status=code)

    def _reload(self, pk: int) -> Response:
        return self._detail(detail_queryset(Appeal.objects.all()).get(pk=pk))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.get_object())

    @extend_schema(
        summary="An appeal by its registration number", responses={200: AppealDetailSerializer}, filters=False
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"by-number/(?P<number>[0-9]{4}-[0-9]+)",
        filter_backends=[],
        pagination_class=None,
    )
    def by_number(self, request: Request, number: str) -> Response:
        return self._detail(get_object_or_404(self.get_queryset(), number=number))

    # ---------------------------------------------------------------- registration

    @extend_schema(
        summary="Register an appeal",
        request=AppealCreateSerializer,
        responses={201: AppealCreatedSerializer, 400: PROBLEM_RESPONSES[400], 403: PROBLEM_RESPONSES[403]},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = AppealCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        appeal = actions.register_appeal(actor=self.actor, **body.validated_data)
        return self._created(appeal)

    def _created(self, appeal: Appeal) -> Response:
        """The answer of a registration, shaped as ``AppealCreatedSerializer`` but built directly: this is
        the hot path of intake, and a ModelSerializer costs more than the dict it produces."""
        location = reverse("api:appeal-detail", kwargs={"pk": appeal.pk}, request=self.request)
        data = {
            "id": appeal.pk,
            "number": appeal.number,
            "status": appeal.status,
            "deadline_at": timezone.localtime(appeal.deadline_at, appeal.branch.tz).isoformat(),
            "branch": appeal.branch_id,
            "department": appeal.department_id,
            "assignee": appeal.assignee_id,
            "version": appeal.version,
        }
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})

    # ---------------------------------------------------------------- lifecycle

    def _act(
        self, body_class: type[serializers.Serializer], run: Callable[[Appeal, dict[str, Any]], Any]
    ) -> Response:
        appeal = self.get_object()
        body = body_class(data=self.request.data, context={"request": self.request, "appeal": appeal})
        body.is_valid(raise_exception=True)
        run(appeal, dict(body.validated_data))
        return self._reload(appeal.pk)

    @staticmethod
    def _check_version(appeal: Appeal, data: dict[str, Any]) -> None:
        """For escalation, which registers a new appeal rather than changing this one: compare first."""
        expected = data.get("expected_version")
        if expected is not None and expected != appeal.version:
            raise StaleVersion(
                _(
                    "The appeal was changed by someone else (version %(now)s, yours %(yours)s); reload it and try again."
                )
                % {"now": appeal.version, "yours": expected}
            )

    @_transition(bodies.AssignSerializer, "Assign to a department and/or a person")
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        return self._act(bodies.AssignSerializer, lambda a, d: actions.assign(a, actor=self.actor, **d))

    @_transition(bodies.VersionedSerializer, "Start work")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        return self._act(
            bodies.VersionedSerializer, lambda a, d: actions.start_work(a, actor=self.actor, **d)
        )

    @_transition(bodies.ReasonRequiredSerializer, "Wait for the customer (pauses the clock)")
    @action(detail=True, methods=["post"])
    def wait(self, request: Request, pk: str) -> Response:
        return self._act(
            bodies.ReasonRequiredSerializer,
            lambda a, d: actions.wait_for_customer(a, actor=self.actor, **d),
        )

    @_transition(bodies.ReasonOptionalSerializer, "Resume after waiting")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        return self._act(
            bodies.ReasonOptionalSerializer, lambda a, d: actions.resume(a, actor=self.actor, **d)
        )

    @_transition(bodies.AnswerBodySerializer, "Answer the appeal")
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str) -> Response:
        return self._act(
            bodies.AnswerBodySerializer, lambda a, d: actions.answer_appeal(a, actor=self.actor, **d)
        )

    @_transition(bodies.DeliverSerializer, "Record the delivery of an answer")
    @action(detail=True, methods=["post"])
    def deliver(self, request: Request, pk: str) -> Response:
        def run(appeal: Appeal, data: dict[str, Any]) -> None:
            actions.mark_delivered(
                data["answer"],
                actor=self.actor,
                delivered_at=data["delivered_at"],
                expected_version=data.get("expected_version"),
            )

        return self._act(bodies.DeliverSerializer, run)

    @_transition(bodies.ReasonOptionalSerializer, "Close after the answer was delivered")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        return self._act(
            bodies.ReasonOptionalSerializer, lambda a, d: actions.close(a, actor=self.actor, **d)
        )

    @_transition(bodies.ReasonRequiredSerializer, "Reopen an answered or closed appeal")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        return self._act(
            bodies.ReasonRequiredSerializer, lambda a, d: actions.reopen(a, actor=self.actor, **d)
        )

    @_transition(bodies.CancelSerializer, "Cancel (duplicate or not to be considered)")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._act(bodies.CancelSerializer, lambda a, d: actions.cancel(a, actor=self.actor, **d))

    @_transition(bodies.ExtendSerializer, "Extend the deadline once")
    @action(detail=True, methods=["post"])
    def extend(self, request: Request, pk: str) -> Response:
        return self._act(
            bodies.ExtendSerializer, lambda a, d: actions.extend_deadline(a, actor=self.actor, **d)
        )

    @extend_schema(
        summary="Contest the answer: registers a linked complaint one level up",
        request=bodies.EscalateSerializer,
        responses={201: AppealCreatedSerializer, **PROBLEM_RESPONSES},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        body = bodies.EscalateSerializer(data=request.data, context={"request": request, "appeal": appeal})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        self._check_version(appeal, data)
        new = actions.escalate(appeal, actor=self.actor, text=data["text"], channel=data["channel"])
        return self._created(new)

    @_transition(bodies.RateSerializer, "The customer's rating of the answer")
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, pk: str) -> Response:
        def run(appeal: Appeal, data: dict[str, Any]) -> None:
            actions.rate(
                appeal,
                actor=self.actor,
                score=data["score"],
                comment=data["comment"],
                expected_version=data.get("expected_version"),
            )

        return self._act(bodies.RateSerializer, run)

    @_transition(bodies.CommentSerializer, "Add a comment to the timeline")
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        def run(appeal: Appeal, data: dict[str, Any]) -> None:
            actions.comment(
                appeal, actor=self.actor, text=data["text"], expected_version=data.get("expected_version")
            )

        return self._act(bodies.CommentSerializer, run)

    # ---------------------------------------------------------------- documents

    @extend_schema(
        summary="The answer as a PDF letter",
        parameters=[OpenApiParameter("answer_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path=r"answers/(?P<answer_id>[0-9]+)/pdf", filter_backends=[])
    def answer_pdf(self, request: Request, pk: str, answer_id: str) -> HttpResponse:
        appeal = self.get_object()
        answer = get_object_or_404(
            Answer.objects.select_related("appeal__branch__company", "author"),
            appeal_id=appeal.pk,
            pk=int(answer_id),
        )
        self._log_document_view(appeal, "api:answer-pdf")
        response = HttpResponse(render_answer_pdf(answer), content_type="application/pdf")
        name = (answer.outgoing_number or str(answer.pk)).replace("/", "-")
        response["Content-Disposition"] = f'attachment; filename="answer-{name}.pdf"'
        return response

    def _log_document_view(self, appeal: Appeal, context_name: str) -> None:
        if appeal.customer_id:
            log_access(
                actor=self.request.user,
                customer_id=appeal.customer_id,
                context_name=context_name,
                remote_addr=client_ip(self.request),
            )

    def _attachments(self, appeal: Appeal) -> QuerySet[Attachment]:
        qs = Attachment.objects.restrict(self.request.user, "view")
        return qs.filter(appeal_id=appeal.pk).order_by("uploaded_at", "id")

    @extend_schema(
        summary="Attachments of the appeal", responses={200: AttachmentSerializer(many=True)}, filters=False
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def attachments(self, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        ctx = self.get_serializer_context()
        return Response(AttachmentSerializer(self._attachments(appeal), many=True, context=ctx).data)

    @extend_schema(
        summary="Upload an attachment (multipart, field `file`)",
        request={"multipart/form-data": bodies.AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **PROBLEM_RESPONSES},
        filters=False,
    )
    @attachments.mapping.post
    def upload_attachment(self, request: Request, pk: str) -> Response:
        appeal = self.get_object()
        body = bodies.AttachmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        att = actions.add_attachment(appeal, actor=self.actor, upload=body.validated_data["file"])
        return Response(
            AttachmentSerializer(att, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Download an attachment",
        parameters=[OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)/download",
        filter_backends=[],
    )
    def download_attachment(self, request: Request, pk: str, attachment_id: str) -> FileResponse:
        appeal = self.get_object()
        att = get_object_or_404(self._attachments(appeal), pk=int(attachment_id))
        self._log_document_view(appeal, "api:attachment")
        # Served as the type sniffed at upload, always as a download: never rendered inline by the browser.
        content_type = (
            att.content_type if att.content_type in SAFE_DOWNLOAD_TYPES else "application/octet-stream"
        )
        response = FileResponse(
            att.file.open("rb"), as_attachment=True, filename=att.name, content_type=content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class CustomerAppealsView(generics.ListAPIView):
    """``/customers/{id}/appeals/``: the customer's appeals that the user may see (here, not in customers,
    because appeals sit above customers in the app layering)."""

    serializer_class = AppealListSerializer
    permission_classes = [OknoPermission]
    required_perms = {"get": "appeal.view"}
    filterset_class = AppealFilter
    queryset = Appeal.objects.none()

    def get_queryset(self) -> QuerySet[Appeal]:
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):
            return Appeal.objects.none()
        customer = get_object_or_404(Customer.objects.restrict(user, "view"), pk=self.kwargs["customer_id"])
        return Appeal.objects.restrict(user, "view").filter(customer_id=customer.pk)

    @extend_schema(summary="The customer's appeals")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
