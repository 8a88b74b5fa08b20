"""Web routes: debt cases (list, a case with its orders) and the manual steps (delivered, done)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.billing import debt
from okno.billing.models import DebtCase, DebtOrder, rub
from okno.core.access import require_perm
from okno.core.errors import Conflict

PAGE = 200


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "debtcase.view")
    status = request.GET.get("status", "")
    cases = DebtCase.objects.restrict(request.user, "view").select_related("account__customer")
    if status in DebtCase.Status.values:
        cases = cases.filter(status=status)
    elif not status:
        cases = cases.exclude(status=DebtCase.Status.CLOSED)
    return render(
        request,
        "billing/debt/list.html",
        {
            "rows": [
                (c, rub(c.debt_kop), rub(c.threshold_kop)) for c in cases.order_by("-opened_on", "-id")[:PAGE]
            ],
            "status": status,
            "statuses": DebtCase.Status.choices,
        },
    )


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "debtcase.view")
    case = get_object_or_404(
        DebtCase.objects.restrict(request.user, "view").select_related(
            "account__customer", "account__service_point__address"
        ),
        pk=pk,
    )
    return render(
        request,
        "billing/debt/detail.html",
        {
            "case": case,
            "orders": [
                (o, rub(o.debt_kop))
                for o in case.orders.select_related("created_by").order_by("issued_on", "id")
            ],
            "debt": rub(case.debt_kop),
            "threshold": rub(case.threshold_kop),
            "can_change": request.user.has_okno_perm(debt.PERMISSION),  # type: ignore[union-attr]
            "today": timezone.localdate(),
        },
    )


def _step(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require_perm(request.user, debt.PERMISSION)
    order = get_object_or_404(
        DebtOrder.objects.filter(case__in=DebtCase.objects.restrict(request.user, "view")).select_related(
            "case"
        ),
        pk=pk,
    )
    try:
        on = dt.date.fromisoformat(request.POST.get("on", ""))
    except ValueError:
        messages.error(request, _("Enter the date as YYYY-MM-DD."))
        return redirect("billing:debt_case", pk=order.case_id)
    try:
        if action == "delivered":
            debt.mark_delivered(order, on, request.user)
            messages.success(request, _("Delivery of %(number)s recorded.") % {"number": order.number})
        else:
            debt.mark_done(order, on, request.user)
            messages.success(request, _("%(number)s marked as done.") % {"number": order.number})
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("billing:debt_case", pk=order.case_id)


@login_required
@require_POST
def order_delivered(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, "delivered")


@login_required
@require_POST
def order_done(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, "done")


urlpatterns = [
    path("debt/", case_list, name="debt_cases"),
    path("debt/<int:pk>/", case_detail, name="debt_case"),
    path("debt/orders/<int:pk>/delivered/", order_delivered, name="debt_order_delivered"),
    path("debt/orders/<int:pk>/done/", order_done, name="debt_order_done"),
]
