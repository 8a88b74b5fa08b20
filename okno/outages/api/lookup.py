"""``GET /api/v1/outages/at?address=…|account=…|phone=…|address_id=…`` — is there power at an address.

Who may ask what (docs/outages/topology-and-lookup.md, "API"):

* ``address`` and ``address_id`` are public: anyone, signed in or not (the public page and the IVR).
  The answer names the building and the outages on the grid — nothing about who lives there.
* ``account`` and ``phone`` tell which address belongs to a person, so they need a signed-in user
  (token or session) with ``outage.view``: anonymous callers get 401 and users without the permission
  403, *before* anything is looked up, so the status never reveals whether an account or phone
  exists. Staff see only the addresses of their branches (another branch's account answers
  ``not_found``), and each customer shown is written to the personal-data access log.

Exactly one parameter: none or several answer 400 problem+json. Found or not, the answer is 200 with
``status`` ``ok`` | ``not_found`` | ``ambiguous`` (a lookup that finds nothing is an answer, not an error).
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from okno.core.audit import log_access_many
from okno.org.api.permissions import client_ip
from okno.outages import lookup

PARAMS = ("address", "account", "phone", "address_id")
PRIVATE = ("account", "phone")


class OutageAtSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField(help_text="planned or unplanned.")
    status = serializers.CharField(help_text="active, partially_restored or scheduled.")
    off_now = serializers.BooleanField(help_text="Power is off now (false: works announced ahead).")
    cause = serializers.CharField()
    node_code = serializers.CharField()
    node_name = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    etr = serializers.DateTimeField(allow_null=True, help_text="Estimated restoration time.")
    planned_start = serializers.DateTimeField(allow_null=True)
    planned_end = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    partially_restored = serializers.BooleanField()


class MatchAtSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Address id: ask again with address_id to choose this one.")
    text = serializers.CharField()
    account = serializers.CharField(required=False, help_text="Account lookups by staff only.")
    power_on = serializers.BooleanField(
        allow_null=True, help_text="Null: the building is not in the topology."
    )
    outages = OutageAtSerializer(many=True)


class PowerAtSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="ok, not_found or ambiguous.")
    power_on = serializers.BooleanField(
        allow_null=True,
        help_text="False if an outage cuts any of the addresses now; null when not known or ambiguous.",
    )
    matches = MatchAtSerializer(many=True)
    outages = OutageAtSerializer(many=True, help_text="All outages of all matches, power-off ones first.")
    suggestions = serializers.ListField(child=serializers.CharField(), help_text="For not_found addresses.")


def answer_data(result: lookup.LookupResult, *, staff: bool) -> dict[str, Any]:
    """The JSON-ready dict of ``GET outages/at``; ``staff`` adds account numbers to the matches."""
    matches = []
    for a in result.answers:
        item: dict[str, Any] = {
            "id": a.match.id,
            "text": a.match.text,
            "power_on": a.power_on,
            "outages": [o.as_dict() for o in a.outages],
        }
        if staff and a.match.account:
            item["account"] = a.match.account
        matches.append(item)
    return {
        "status": result.status,
        "power_on": result.power_on,
        "matches": matches,
        "outages": [o.as_dict() for o in result.outages],
        "suggestions": result.suggestions,
    }


def _scoped(result: lookup.LookupResult, user: Any) -> lookup.LookupResult:
    """Only the addresses of the user's branches (company-wide staff see every one)."""
    if user.all_branches:
        return result
    answers = [a for a in result.answers if a.match.branch_id is None or user.in_scope(a.match.branch_id)]
    if len(answers) == len(result.answers):
        return result
    status = lookup.OK if answers else lookup.NOT_FOUND
    return lookup.build_result(status, answers, result.query)


_P = [
    OpenApiParameter(
        "address", OpenApiTypes.STR, description="Free text: 'Северск, ул. Ленина, д. 10'. Public."
    ),
    OpenApiParameter("account", OpenApiTypes.STR, description="Account number. Staff with outage.view only."),
    OpenApiParameter(
        "phone", OpenApiTypes.STR, description="Phone in any format. Staff with outage.view only."
    ),
    OpenApiParameter(
        "address_id", OpenApiTypes.INT, description="An id from a previous answer's matches. Public."
    ),
]


class PowerAtView(APIView):
    permission_classes = [AllowAny]  # checked per parameter below

    @extend_schema(
        summary="Is there power at an address, an account's or a phone's service points",
        description=__doc__,
        parameters=_P,
        responses={
            200: PowerAtSerializer,
            400: OpenApiResponse(description="No parameter or several (problem+json)."),
            401: OpenApiResponse(description="account or phone without signing in."),
            403: OpenApiResponse(description="account or phone without outage.view."),
        },
    )
    def get(self, request: Request) -> Response:
        given = {p: request.query_params.get(p, "").strip() for p in PARAMS}
        given = {p: v for p, v in given.items() if v}
        if len(given) != 1:
            message = _("Give exactly one of address, account, phone or address_id.")
            raise ValidationError({p: [message] for p in (given or {"non_field_errors": ""})})
        ((param, value),) = given.items()
        user = request.user
        staff = bool(user and user.is_authenticated and user.has_okno_perm("outage.view"))
        if param in PRIVATE and not staff:
            if not (user and user.is_authenticated):
                raise NotAuthenticated(_("Looking up by account or phone needs a signed-in user."))
            raise PermissionDenied(_("Looking up by account or phone needs the outage.view permission."))
        if param == "address_id":
            if not (value.isascii() and value.isdigit()):
                raise ValidationError({"address_id": [_("A whole number.")]})
            result = lookup.power_at(address_id=int(value))
        else:
            result = lookup.power_at(
                address=value[:300] if param == "address" else "",
                account=value[:50] if param == "account" else "",
                phone=value[:50] if param == "phone" else "",
            )
        if param in PRIVATE:
            result = _scoped(result, user)
            log_access_many(
                actor=user,
                customer_ids=[m.customer_id for m in result.matches if m.customer_id],
                context_name=f"api:outages-at:{param}",
                remote_addr=client_ip(request),
            )
        return Response(PowerAtSerializer(answer_data(result, staff=staff)).data)


urlpatterns = [
    path("outages/at", PowerAtView.as_view(), name="outages-at"),
]
