"""Customers and accounts: search, create, detail with the personal-data access log, contact history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from okno.core.audit import log_access, log_access_many
from okno.customers import actions
from okno.customers.api.filters import AccountFilter, CustomerFilter
from okno.customers.api.serializers import (
    AccountSerializer,
    ContactEventSerializer,
    CustomerCreateSerializer,
    CustomerDetailSerializer,
    CustomerListSerializer,
)
from okno.customers.models import Account, Customer
from okno.customers.numbers import normalize_account_number
from okno.customers.queries import search_customers, visible_history
from okno.org.api.permissions import OknoPermission, client_ip

SEARCH_LIMIT = 50


class HistoryPagination(CursorPagination):
    ordering = ("-occurred_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema_view(
    list=extend_schema(
        summary="List or search customers",
        description="Without `q`: a cursor-paginated list. With `q`: the best matches of the fuzzy search "
        "(account number, phone, INN, name or address), at most 50, in one page.",
    ),
    retrieve=extend_schema(summary="A customer with contacts and accounts (recorded in the access log)"),
    create=extend_schema(
        summary="Create a customer",
        request=CustomerCreateSerializer,
        responses={201: CustomerDetailSerializer},
    ),
)
class CustomerViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [OknoPermission]
    required_perms = {
        "list": "customer.view",
        "retrieve": "customer.view",
        "history": "customer.view",
        "create": "customer.add",
    }
    filterset_class = CustomerFilter
    queryset = Customer.objects.none()

    def get_queryset(self) -> QuerySet[Customer]:
        qs = Customer.objects.restrict(self.request.user, "view")
        if self.action == "retrieve":
            accounts = Account.objects.restrict(self.request.user, "view").select_related(
                "service_point__address"
            )
            qs = qs.prefetch_related(
                "contacts", Prefetch("accounts", queryset=accounts, to_attr="visible_accounts")
            )
        return qs

    def get_serializer_class(self) -> type:
        if self.action == "retrieve":
            return CustomerDetailSerializer
        if self.action == "create":
            return CustomerCreateSerializer
        if self.action == "history":
            return ContactEventSerializer
        return CustomerListSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.query_params.get("q", "").strip()
        if query:
            found = search_customers(request.user, query, limit=SEARCH_LIMIT)
            self._log_shown(request, [c.pk for c in found], "api:customer-search")
            data = CustomerListSerializer(found, many=True).data
            return Response({"next": None, "previous": None, "results": data})
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self._log_shown(request, [c.pk for c in page or []], "api:customer-list")
        return self.get_paginated_response(CustomerListSerializer(page, many=True).data)

    @staticmethod
    def _log_shown(request: Request, ids: Sequence[int], context_name: str) -> None:
        log_access_many(
            actor=request.user, customer_ids=ids, context_name=context_name, remote_addr=client_ip(request)
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        log_access(
            actor=request.user,
            customer_id=customer.pk,
            context_name="api:customer",
            remote_addr=client_ip(request),
        )
        return Response(CustomerDetailSerializer(customer).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = CustomerCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        customer = actions.create_customer(actor=request.user, **body.validated_data)
        customer = self.get_queryset().prefetch_related("contacts").get(pk=customer.pk)
        customer.visible_accounts = []  # type: ignore[attr-defined]
        return Response(CustomerDetailSerializer(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The customer's contact history (appeals, answers, calls, notifications)", filters=False
    )
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination, filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        customer = self.get_object()
        log_access(
            actor=request.user,
            customer_id=customer.pk,
            context_name="api:customer-history",
            remote_addr=client_ip(request),
        )
        events = visible_history(request.user, customer).order_by("-occurred_at", "-id")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(ContactEventSerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="List accounts (filter by number or customer)"),
    retrieve=extend_schema(summary="An account (recorded in the access log)"),
)
class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [OknoPermission]
    required_perms = {"list": "account.view", "retrieve": "account.view", "lookup": "account.view"}
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    queryset = Account.objects.none()

    def get_queryset(self) -> QuerySet[Account]:
        return Account.objects.restrict(self.request.user, "view").select_related(
            "customer", "service_point__address"
        )

    def _shown(self, request: Request, account: Account) -> Response:
        log_access(
            actor=request.user,
            customer_id=account.customer_id,
            context_name="api:account",
            remote_addr=client_ip(request),
        )
        return Response(AccountSerializer(account).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._shown(request, self.get_object())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        log_access_many(
            actor=request.user,
            customer_ids=[a.customer_id for a in page or []],
            context_name="api:account-list",
            remote_addr=client_ip(request),
        )
        return self.get_paginated_response(AccountSerializer(page, many=True).data)

    @extend_schema(
        summary="Find an account by its number",
        parameters=[
            OpenApiParameter("number", OpenApiTypes.STR, required=True, description="Account number")
        ],
        filters=False,
        responses={200: AccountSerializer},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def lookup(self, request: Request) -> Response:
        number = normalize_account_number(request.query_params.get("number", ""))
        account = self.get_queryset().filter(number=number).first() if number else None
        if account is None:
            raise NotFound(_("Account %(n)s not found.") % {"n": number or "—"})
        return self._shown(request, account)
