"""API routes: an account's invoices and an invoice's PDF (built on demand when missing)."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from okno.billing.invoices import PeriodNotBillable, invoice_pdf, invoice_period
from okno.billing.models import Invoice
from okno.core.audit import log_access
from okno.customers.models import Account
from okno.org.api.permissions import OknoPermission, client_ip

NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Account number")


class PDFRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; errors still come as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data, default=str).encode()


class InvoiceSerializer(serializers.ModelSerializer):
    period = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "period",
            "amount_kop",
            "debt_kop",
            "penalty_kop",
            "total_kop",
            "due_date",
            "qr_payload",
            "created_at",
            "pdf_url",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_period(self, obj: Invoice) -> str:
        return f"{obj.period:%Y-%m}"

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_url(self, obj: Invoice) -> str:
        return reverse(
            "api:account-invoice-pdf",
            kwargs={"number": obj.account.number, "period": f"{obj.period:%Y-%m}"},
            request=self.context.get("request"),
        )


class InvoicePagination(CursorPagination):
    ordering = ("-period", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


def _account(request: Request, number: str) -> Account:
    return get_object_or_404(Account.objects.restrict(request.user, "view"), number=number)


class AccountInvoicesView(generics.ListAPIView):
    """``/accounts/{number}/invoices/``: the account's invoices, newest period first."""

    serializer_class = InvoiceSerializer
    permission_classes = [OknoPermission]
    required_perms = {"get": "invoice.view"}
    pagination_class = InvoicePagination
    filter_backends: list = []
    queryset = Invoice.objects.none()

    def get_queryset(self) -> QuerySet[Invoice]:
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        account = _account(self.request, self.kwargs["number"])
        return (
            Invoice.objects.restrict(self.request.user, "view")
            .filter(account=account)
            .select_related("account")
        )

    @extend_schema(summary="The account's invoices", parameters=[NUMBER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class AccountInvoicePdfView(APIView):
    """``/accounts/{number}/invoices/{period}.pdf``: the invoice's PDF; built and stored if missing."""

    permission_classes = [OknoPermission]
    required_perms = {"get": "invoice.view"}
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        summary="An invoice as a PDF (built on demand when missing)",
        operation_id="v1_accounts_invoices_pdf",
        parameters=[
            NUMBER,
            OpenApiParameter("period", OpenApiTypes.STR, OpenApiParameter.PATH, description="YYYY-MM"),
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="A period after the current month (no bill yet)"),
            404: OpenApiResponse(description="No such account in your scope, or a malformed period"),
        },
    )
    def get(self, request: Request, number: str, period: str) -> HttpResponse:
        account = _account(request, number)
        try:
            day = invoice_period(account, period)
        except PeriodNotBillable as error:
            raise ValidationError({"period": [str(error)]}) from None
        except ValueError:
            raise Http404 from None
        invoice, pdf = invoice_pdf(account, day)
        log_access(
            actor=request.user,
            customer_id=account.customer_id,
            context_name="api:invoice-pdf",
            remote_addr=client_ip(request),
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response


urlpatterns = [
    path("accounts/<str:number>/invoices/", AccountInvoicesView.as_view(), name="account-invoices"),
    path(
        "accounts/<str:number>/invoices/<str:period>.pdf",
        AccountInvoicePdfView.as_view(),
        name="account-invoice-pdf",
    ),
]
