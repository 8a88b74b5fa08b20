"""Open311 GeoReport v2 endpoints (JSON only): services, requests list, one request, POST a request.

Errors follow the GeoReport spec: a JSON list ``[{"code": 400, "description": "..."}]``. POST needs
``api_key``: a REST API token of a staff member allowed to register appeals; it reads no session
cookie, so it is exempt from CSRF.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from okno.appeals import actions
from okno.appeals.choices import AppealType, Topic
from okno.appeals.models import Answer, Appeal, AppealEvent
from okno.appeals.open311 import mapping
from okno.core.audit import log_access, log_access_many
from okno.customers.models import Account
from okno.customers.numbers import normalize_account_number


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _error(code: int, description: str) -> JsonResponse:
    return _json([{"code": code, "description": description}], status=code)


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _reader(request: HttpRequest) -> Any:
    """The staff member behind the request (session, ``Authorization: Token``, or ``api_key``), or None."""
    key = request.GET.get("api_key", "")
    if key:
        token = Token.objects.select_related("user").filter(key=key).first()
        if token is None or not token.user.is_active:
            raise Open311Error(403, _("The api_key is not valid."))
        return token.user
    try:
        found = TokenAuthentication().authenticate(request)  # type: ignore[arg-type]
    except AuthenticationFailed as exc:
        raise Open311Error(403, str(exc.detail)) from exc
    if found is not None:
        return found[0]
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _personal(user: Any, appeal: Appeal) -> bool:
    return user is not None and user.has_okno_perm("appeal.view") and user.in_scope(appeal.branch_id)


def _rows(user: Any) -> QuerySet[Appeal]:
    qs = Appeal.objects.select_related("branch").annotate(
        updated_at=Subquery(
            AppealEvent.objects.filter(appeal=OuterRef("pk")).order_by("-time", "-id").values("time")[:1]
        )
    )
    if user is not None and user.has_okno_perm("appeal.view"):
        qs = qs.select_related("address").annotate(
            last_answer=Subquery(
                Answer.objects.filter(appeal=OuterRef("pk")).order_by("-created_at", "-id").values("text")[:1]
            )
        )
    return qs


@require_GET
def services(request: HttpRequest) -> JsonResponse:
    return _json(mapping.services())


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_json(request: HttpRequest) -> JsonResponse:
    try:
        if request.method == "POST":
            return _post(request)
        return _list(request)
    except Open311Error as exc:
        return _error(exc.code, exc.description)


def _list(request: HttpRequest) -> JsonResponse:
    user = _reader(request)
    qs = _rows(user)
    params = request.GET
    ids = [v.strip() for v in params.get("service_request_id", "").split(",") if v.strip()]
    if ids:  # the spec: other parameters are ignored when ids are given
        qs = qs.filter(number__in=ids[: mapping.MAX_REQUESTS])
    else:
        codes = [v.strip() for v in params.get("service_code", "").split(",") if v.strip()]
        unknown = [c for c in codes if c not in Topic.values]
        if unknown:
            raise Open311Error(400, _("Unknown service_code: %(c)s.") % {"c": ", ".join(unknown)})
        if codes:
            qs = qs.filter(topic__in=codes)
        if params.get("status"):
            statuses = mapping.statuses_for(params["status"])
            if statuses is None:
                raise Open311Error(400, _("status is open or closed."))
            qs = qs.filter(status__in=statuses)
        try:
            start = mapping.parse_when(params.get("start_date", ""))
            end = mapping.parse_when(params.get("end_date", ""), end=True)
            if start is None and end is None:
                start = timezone.now() - dt.timedelta(days=mapping.DEFAULT_DAYS)
            elif start is None and end is not None:
                start = end - dt.timedelta(days=mapping.DEFAULT_DAYS)
        except (ValueError, OverflowError) as exc:
            raise Open311Error(400, _("Dates are in ISO 8601: %(v)s.") % {"v": exc}) from exc
        qs = qs.filter(received_at__gte=start)
        if end is not None:
            qs = qs.filter(received_at__lte=end)
    rows = list(qs.order_by("-received_at", "-id")[: mapping.MAX_REQUESTS])
    shown = [(a, _personal(user, a)) for a in rows]
    log_access_many(
        actor=user,
        customer_ids=[a.customer_id for a, personal in shown if personal and a.customer_id],
        context_name="open311:requests",
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    return _json([mapping.request_row(a, personal=personal) for a, personal in shown])


@require_GET
def request_detail(request: HttpRequest, number: str) -> JsonResponse:
    try:
        user = _reader(request)
        appeal = _rows(user).filter(number=number).first()
        if appeal is None:
            raise Open311Error(404, _("Request %(n)s not found.") % {"n": number})
        personal = _personal(user, appeal)
        if personal and appeal.customer_id:
            log_access(
                actor=user,
                customer_id=appeal.customer_id,
                context_name="open311:request",
                remote_addr=request.META.get("REMOTE_ADDR"),
            )
        return _json([mapping.request_row(appeal, personal=personal)])
    except Open311Error as exc:
        return _error(exc.code, exc.description)


def _post_data(request: HttpRequest) -> Any:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise Open311Error(400, _("The body is not valid JSON.")) from exc
        if not isinstance(data, dict):
            raise Open311Error(400, _("The body is not valid JSON."))
        return data
    return request.POST


def _post(request: HttpRequest) -> JsonResponse:
    data = _post_data(request)
    key = str(data.get("api_key") or request.GET.get("api_key", ""))
    token = Token.objects.select_related("user").filter(key=key).first() if key else None
    if token is None or not token.user.is_active:
        raise Open311Error(403, _("A valid api_key is required."))
    user = token.user
    if not user.has_okno_perm("appeal.register"):
        raise Open311Error(403, _("This api_key may not submit requests."))
    if not str(data.get("service_code", "")).strip():
        raise Open311Error(400, _("service_code is required."))
    attributes = mapping.attributes_of(data)
    fields = mapping.registration_fields(data, attributes)
    if fields["topic"] not in Topic.values:
        raise Open311Error(400, _("Unknown service_code: %(c)s.") % {"c": fields["topic"]})
    if fields["kind"] not in AppealType.values:
        raise Open311Error(400, _("Unknown attribute[kind]: %(k)s.") % {"k": fields["kind"]})
    account = None
    account_id = attributes.get("account_id") or str(data.get("account_id") or "")
    if account_id:
        number = normalize_account_number(account_id)
        qs = Account.objects.restrict(user, "view").select_related("customer", "service_point__address")
        account = qs.filter(number=number).first()
        if account is None:
            raise Open311Error(400, _("Account %(n)s not found.") % {"n": account_id})
    try:
        appeal = actions.register_appeal(actor=user, account=account, **fields)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        text = "; ".join(
            f"{field}: {' '.join(msgs)}" if field else " ".join(msgs) for field, msgs in errors.items()
        )
        raise Open311Error(400, text) from exc
    deadline = timezone.localtime(appeal.deadline_at, appeal.branch.tz)
    notice = _("Appeal %(n)s is registered; the answer is due by %(d)s.") % {
        "n": appeal.number,
        "d": f"{deadline:%d.%m.%Y}",
    }
    return _json(
        [
            {
                "service_request_id": appeal.number,
                "service_notice": notice,
                "account_id": account.number if account is not None else None,
                "expected_datetime": deadline.isoformat(timespec="seconds"),
            }
        ],
        status=201,
    )
