"""Notifications API: subscriptions (staff), the delivery log (staff), public subscribe and confirm."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from okno.core.api import problem
from okno.customers.models import Account, Address, Customer
from okno.notify import actions
from okno.notify.api.filters import NoticeFilter, SubscriptionFilter
from okno.notify.api.serializers import (
    ConfirmSerializer,
    NoticeSerializer,
    PublicSubscribeSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)
from okno.notify.choices import Source
from okno.notify.models import Notice, NotifySettings, Subscription
from okno.org.api.permissions import OknoPermission, client_ip

CONTACTS = ("language", "preferred_channel", "email", "phone", "push", "messenger")


@extend_schema_view(
    list=extend_schema(summary="List outage notice subscriptions"),
    retrieve=extend_schema(summary="A subscription"),
    create=extend_schema(
        summary="Subscribe a customer (by account or building)",
        request=SubscriptionCreateSerializer,
        responses={201: SubscriptionSerializer},
    ),
    partial_update=extend_schema(
        summary="Change channels, contacts, language or switch off",
        request=SubscriptionUpdateSerializer,
        responses={200: SubscriptionSerializer},
    ),
    destroy=extend_schema(summary="Unsubscribe (the row and the withdrawal stay on record)"),
)
class SubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [OknoPermission]
    required_perms = {"*": "subscription.change"}
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilter
    queryset = Subscription.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Subscription]:
        return Subscription.objects.restrict(self.request.user, "change").select_related("account")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = SubscriptionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        account = customer = address = None
        if data.get("account"):
            account = (
                Account.objects.restrict(user, "view")
                .select_related("service_point")
                .filter(pk=data["account"])
                .first()
            )
            if account is None:
                raise ValidationError({"account": [_("No such account.")]})
        if data.get("customer"):
            customer = Customer.objects.restrict(user, "view").filter(pk=data["customer"]).first()
            if customer is None:
                raise ValidationError({"customer": [_("No such customer.")]})
        if account is None:
            address = actions.find_building(data["settlement"], data.get("street", ""), data["house"])
            if address is None:
                raise ValidationError(
                    {"house": [_("No such building among the addresses we serve.")]},
                )
        sub = actions.subscribe(
            actor=user,
            source=Source.OPERATOR,
            customer=customer,
            account=account,
            address=address,
            **{k: data[k] for k in CONTACTS if k in data and data[k] is not None},
        )
        return Response(SubscriptionSerializer(sub).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sub = self.get_object()
        body = SubscriptionUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        sub = actions.update_subscription(sub, actor=request.user, **body.validated_data)
        return Response(SubscriptionSerializer(sub).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actions.unsubscribe(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="The delivery log: notices with status, filtered by status, channel, event"),
    retrieve=extend_schema(summary="A notice with its attempts"),
)
class NoticeViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [OknoPermission]
    required_perms = {"*": "notice.view"}
    serializer_class = NoticeSerializer
    filterset_class = NoticeFilter
    queryset = Notice.objects.none()

    def get_queryset(self) -> QuerySet[Notice]:
        return (
            Notice.objects.restrict(self.request.user, "view")
            .select_related("event")
            .prefetch_related("attempts_log")
        )


def over_rate(request: Request) -> bool:
    """A per-IP counter per clock hour in the cache (shared by the workers when the cache is)."""
    limit = NotifySettings.current().public_per_hour
    key = f"notify:subscribe:{client_ip(request) or '-'}:{int(time.time() // 3600)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > limit


class PublicSubscribeView(APIView):
    """Anyone subscribes a building to outage notices; the subscription waits for confirmation."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # no session: no CSRF, and no staff rights leak into it

    @extend_schema(
        summary="Subscribe to outage notices for a building (public, double opt-in, rate-limited per IP)",
        request=PublicSubscribeSerializer,
        responses={202: None},
    )
    def post(self, request: Request) -> Response:
        if over_rate(request):
            return problem(
                429, "Too many requests", _("Too many subscriptions from this address; try later.")
            )
        body = PublicSubscribeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        address: Address | None = actions.find_building(
            data["settlement"], data.get("street", ""), data["house"]
        )
        if address is None:
            suggestions = actions.suggest_buildings(data["settlement"], data.get("street", ""))
            return problem(
                400,
                "Invalid input",
                "",
                {"house": [_("We do not know this building. Check the address.")]},
                suggestions=suggestions,
            )
        sub = actions.subscribe(
            actor=None,
            source=Source.PUBLIC,
            address=address,
            **{k: data[k] for k in CONTACTS if k in data and data[k] is not None},
        )
        channel = "email" if sub.email else "sms" if sub.phone else ""
        answer: dict[str, Any] = {"confirmation_sent_by": channel, "confirmed": sub.confirmed_at is not None}
        if channel == "sms":  # the form posts the code back with this token (the code proves the phone)
            answer["token"] = sub.token
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class PublicConfirmView(APIView):
    """Double opt-in by the token of the link and (for SMS) the code."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(summary="Confirm a public subscription", request=ConfirmSerializer, responses={200: None})
    def post(self, request: Request) -> Response:
        if over_rate(request):
            return problem(429, "Too many requests", _("Too many attempts from this address; try later."))
        body = ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sub = Subscription.objects.filter(token=body.validated_data["token"]).first()
        if sub is None or not actions.confirm(sub, code=body.validated_data.get("code") or None):
            raise ValidationError({"code": [_("The link or the code is wrong.")]})
        return Response({"confirmed": True})
