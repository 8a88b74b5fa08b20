"""API routes: payments, bank registries, the acquiring callback and an account's ledger.

* ``GET /api/v1/payments/?account=&status=`` (``payment.view``), ``GET /api/v1/payments/{id}/``;
* ``POST /api/v1/payments/`` — a payment at the office cash desk (``payment.add``);
* ``POST /api/v1/payments/{id}/match/`` — match an unidentified payment to an account (``payment.match``);
* ``POST /api/v1/payment-registries/`` — upload a bank registry, multipart ``file`` (``payment.import``);
* ``POST /api/v1/payments/acquiring/callback`` — the card acquirer's notice: no login, signed with
  ``X-Okno-Signature: hex(HMAC-SHA256(BillingSettings.acquiring_secret, raw body))``;
* ``GET /api/v1/accounts/{number}/ledger/?as_of=`` — entries, balance and debt by period
  (``ledgerentry.view``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import django_filters as filters
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from okno.billing import ledger, payments
from okno.billing.models import BillingSettings, LedgerEntry, Payment, PaymentAllocation, PaymentRegistry, rub
from okno.billing.periods import parse_period
from okno.core.audit import log_access
from okno.customers.models import Account
from okno.customers.numbers import normalize_account_number
from okno.org.api.permissions import OknoPermission, client_ip


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


# --- serializers -------------------------------------------------------------------------------


class AllocationSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField(help_text="Roubles.")

    class Meta:
        model = PaymentAllocation
        fields = ["period", "amount_kop", "amount"]

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_amount(self, obj: PaymentAllocation) -> str:
        return str(rub(obj.amount_kop))


class PaymentSerializer(serializers.ModelSerializer):
    account: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    amount = _money(read_only=True, help_text="Roubles.")
    source = serializers.CharField(  # type: ignore[assignment]  # a field named like Field.source
        read_only=True, help_text="registry, acquiring, cashier or system."
    )
    status = serializers.CharField(read_only=True, help_text="allocated, unidentified or returned.")
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "account",
            "account_text",
            "payer",
            "amount_kop",
            "amount",
            "paid_on",
            "received_at",
            "source",
            "provider",
            "external_id",
            "period",
            "status",
            "registry",
            "registry_line",
            "matched_at",
            "allocations",
        ]
        read_only_fields = fields


class CashierPaymentSerializer(serializers.Serializer):
    account = serializers.CharField(help_text="Account number.")
    amount = _money(min_value=Decimal("0.01"), help_text="Roubles, e.g. 1234.56.")
    period = serializers.CharField(required=False, allow_blank=True, help_text="YYYY-MM the payer names.")
    payer = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_period(self, value: str) -> dt.date | None:
        if not value:
            return None
        try:
            return parse_period(value)
        except ValueError:
            raise serializers.ValidationError(_("Give the period as YYYY-MM.")) from None


class MatchSerializer(serializers.Serializer):
    account = serializers.CharField(help_text="Number of the account the payment is for.")


class RegistrySerializer(serializers.ModelSerializer):
    repeated = serializers.SerializerMethodField(
        help_text="True: this file was imported before; nothing added."
    )

    class Meta:
        model = PaymentRegistry
        fields = [
            "id",
            "name",
            "bank",
            "sha256",
            "imported_at",
            "lines",
            "accepted",
            "unidentified",
            "duplicates",
            "rejected",
            "total_kop",
            "errors",
            "repeated",
        ]
        read_only_fields = fields

    def get_repeated(self, obj: PaymentRegistry) -> bool:
        return bool(getattr(obj, "repeated", False))


class RegistryUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV: date;account;amount;period;payment_id (UTF-8 or Windows-1251)."
    )
    bank = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PaymentFilter(filters.FilterSet):
    account = filters.CharFilter(label=gettext_lazy("Account number"), method="filter_account")
    status = filters.ChoiceFilter(label=gettext_lazy("Status"), choices=Payment.Status.choices)

    class Meta:
        model = Payment
        fields: list[str] = []

    def filter_account(self, qs, name, value):
        return qs.filter(account__number=normalize_account_number(value))


# --- payments ----------------------------------------------------------------------------------


def _payments(user: Any) -> QuerySet[Payment]:
    return (
        Payment.objects.restrict(user, "view")
        .select_related("account")
        .prefetch_related(
            Prefetch("allocations", queryset=PaymentAllocation.objects.order_by("period", "id"))
        )
    )


def _account(user: Any, number: str, field: str = "account") -> Account:
    account = (
        Account.objects.restrict(user, "view")
        .select_related("service_point__branch")
        .filter(number=normalize_account_number(number))
        .first()
    )
    if account is None:
        raise ValidationError({field: [_("Account %(n)s not found.") % {"n": number}]})
    return account


@extend_schema_view(
    list=extend_schema(summary="List payments (filter by account number or status)"),
    retrieve=extend_schema(summary="A payment with its allocation to periods"),
    create=extend_schema(
        summary="Take a payment at the office cash desk",
        request=CashierPaymentSerializer,
        responses={201: PaymentSerializer},
    ),
)
class PaymentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [OknoPermission]
    required_perms = {
        "list": "payment.view",
        "retrieve": "payment.view",
        "create": "payment.add",
        "match": "payment.match",
    }
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    queryset = Payment.objects.none()

    def get_queryset(self) -> QuerySet[Payment]:
        return _payments(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = CashierPaymentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        account = _account(request.user, data["account"])
        payment = payments.register_payment(
            amount_kop=int(data["amount"] * 100),
            paid_on=timezone.localdate(timezone=account.service_point.branch.tz),
            source=Payment.Source.CASHIER,
            account=account,
            period=data.get("period"),
            payer=data.get("payer", ""),
            actor=request.user,
        )
        return Response(
            PaymentSerializer(self.get_queryset().get(pk=payment.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Match an unidentified payment to an account",
        request=MatchSerializer,
        responses={200: PaymentSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def match(self, request: Request, pk: str | None = None) -> Response:
        payment = self.get_object()
        body = MatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = _account(request.user, body.validated_data["account"])
        payments.match_payment(payment, account=account, actor=request.user)
        return Response(PaymentSerializer(self.get_queryset().get(pk=payment.pk)).data)


class RegistryView(APIView):
    permission_classes = [OknoPermission]
    required_perms = {"post": "payment.import"}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Import a bank registry of payments (the same file twice adds nothing)",
        request={"multipart/form-data": RegistryUploadSerializer},
        responses={201: RegistrySerializer, 200: RegistrySerializer},
    )
    def post(self, request: Request) -> Response:
        body = RegistryUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        registry = payments.import_registry(
            data=upload.read(),
            name=upload.name or "registry.csv",
            actor=request.user,
            bank=body.validated_data.get("bank", ""),
        )
        code = status.HTTP_200_OK if getattr(registry, "repeated", False) else status.HTTP_201_CREATED
        return Response(RegistrySerializer(registry).data, status=code)


_CALLBACK_ANSWER = inline_serializer(
    "AcquiringCallbackAnswer",
    {
        "payment": serializers.IntegerField(allow_null=True),
        "status": serializers.CharField(help_text="allocated, unidentified or ignored."),
        "duplicate": serializers.BooleanField(),
    },
)


class AcquiringCallbackView(APIView):
    """No session or token: the request is authenticated by its HMAC signature."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Card acquiring callback (signed, idempotent by the provider's payment id)",
        description="Body: `{payment_id, account, amount, paid_at, period?, status, order?}`; amount in "
        "roubles; `order` names the cabinet's payment order, which is marked paid (or declined). "
        "Header `X-Okno-Signature: hex(HMAC-SHA256(secret, raw body))`; a bad signature answers 403. "
        "A replay answers 200 with the same payment; a status other than `succeeded` is ignored.",
        request=inline_serializer(
            "AcquiringCallback",
            {
                "payment_id": serializers.CharField(),
                "account": serializers.CharField(),
                "amount": serializers.CharField(help_text="Roubles, e.g. 1234.56."),
                "paid_at": serializers.DateTimeField(),
                "period": serializers.CharField(required=False, help_text="YYYY-MM"),
                "status": serializers.CharField(
                    help_text="succeeded; declined or failed marks the named order declined; "
                    "anything else is ignored."
                ),
                "order": serializers.CharField(
                    required=False,
                    help_text="The cabinet's payment order token, when it started the payment.",
                ),
            },
        ),
        parameters=[
            OpenApiParameter("X-Okno-Signature", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
        ],
        responses={200: _CALLBACK_ANSWER, 201: _CALLBACK_ANSWER},
    )
    def post(self, request: Request) -> Response:
        raw = request.body
        secret = BillingSettings.current().acquiring_secret
        if not payments.verify_acquiring_signature(secret, raw, request.headers.get("X-Okno-Signature", "")):
            raise PermissionDenied(_("Bad signature."))
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ValidationError({"body": [_("A JSON object is expected.")]}) from None
        if not isinstance(payload, dict):
            raise ValidationError({"body": [_("A JSON object is expected.")]})
        payment, created = payments.acquiring_payment(payload)
        if payment is None:
            return Response({"payment": None, "status": "ignored", "duplicate": False})
        return Response(
            {"payment": payment.pk, "status": payment.status, "duplicate": not created},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(exclude=True)
class AcquiringCallbackSlashView(AcquiringCallbackView):
    """The same callback with a trailing slash (acquirers are configured either way)."""


# --- the ledger of an account ------------------------------------------------------------------


class LedgerEntrySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(
        read_only=True, help_text="charge, recalculation, penalty, payment or adjustment."
    )
    amount = _money(read_only=True, help_text="Roubles; positive is owed, negative paid.")
    balance_kop = serializers.IntegerField(read_only=True, help_text="Running balance after this entry.")

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "entry_date",
            "kind",
            "period",
            "due_date",
            "amount_kop",
            "amount",
            "balance_kop",
            "payment",
            "note",
        ]
        read_only_fields = fields


class PeriodDebtSerializer(serializers.Serializer):
    period = serializers.DateField()
    due_date = serializers.DateField(allow_null=True)
    charged_kop = serializers.IntegerField()
    paid_kop = serializers.IntegerField()
    open_kop = serializers.IntegerField()
    overdue = serializers.BooleanField()


class AccountLedgerSerializer(serializers.Serializer):
    account = serializers.CharField()
    as_of = serializers.DateField()
    balance_kop = serializers.IntegerField(help_text="Positive: owed; negative: an advance.")
    overdue_kop = serializers.IntegerField()
    penalty_kop = serializers.IntegerField(help_text="Penalties posted to the ledger up to as_of.")
    debts = PeriodDebtSerializer(many=True)
    entries = LedgerEntrySerializer(many=True)


class AccountLedgerView(APIView):
    permission_classes = [OknoPermission]
    required_perms = {"get": "ledgerentry.view"}

    @extend_schema(
        summary="An account's ledger: entries with the running balance, overdue debt and debt by period",
        parameters=[
            OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="Account number"),
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="As of this date (default: today)."),
        ],
        responses={200: AccountLedgerSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        account = get_object_or_404(
            Account.objects.restrict(request.user, "view").select_related("service_point__branch"),
            number=normalize_account_number(number),
        )
        text = request.query_params.get("as_of", "").strip()
        try:
            as_of = (
                dt.date.fromisoformat(text)
                if text
                else timezone.localdate(timezone=account.service_point.branch.tz)
            )
        except ValueError:
            raise ValidationError({"as_of": [_("Give the date as YYYY-MM-DD.")]}) from None
        log_access(
            actor=request.user,
            customer_id=account.customer_id,
            context_name="api:account-ledger",
            remote_addr=client_ip(request),
        )
        return Response(AccountLedgerSerializer(ledger_data(account, as_of)).data)


def ledger_data(account: Account, as_of: dt.date) -> dict[str, Any]:
    entries = list(
        LedgerEntry.objects.filter(account=account, entry_date__lte=as_of).order_by("entry_date", "id")
    )
    running = 0
    for entry in entries:
        running += entry.amount_kop
        entry.balance_kop = running  # type: ignore[attr-defined]
    return {
        "account": account.number,
        "as_of": as_of,
        "balance_kop": running,
        "overdue_kop": ledger.overdue_kop(account.pk, as_of),
        "penalty_kop": sum(e.amount_kop for e in entries if e.kind == LedgerEntry.Kind.PENALTY),
        "debts": [
            {**vars(d), "overdue": d.open_kop > 0 and d.due_date is not None and d.due_date < as_of}
            for d in ledger.period_debts(account.pk, as_of)
        ],
        "entries": entries,
    }


_payment_routes = PaymentViewSet.as_view
urlpatterns = [
    path("payments/acquiring/callback", AcquiringCallbackView.as_view(), name="acquiring-callback"),
    path(
        "payments/acquiring/callback/", AcquiringCallbackSlashView.as_view(), name="acquiring-callback-slash"
    ),
    path("payments/", _payment_routes({"get": "list", "post": "create"}), name="payment-list"),
    path("payments/<int:pk>/", _payment_routes({"get": "retrieve"}), name="payment-detail"),
    path("payments/<int:pk>/match/", _payment_routes({"post": "match"}), name="payment-match"),
    path("payment-registries/", RegistryView.as_view(), name="payment-registries"),
    path("accounts/<str:number>/ledger/", AccountLedgerView.as_view(), name="account-ledger"),
]
