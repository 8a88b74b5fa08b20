"""My queue and the department queue: filtered, paginated, overdue rows highlighted."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.appeals import queries
from okno.appeals.choices import OPEN_STATUSES
from okno.appeals.filters import AppealFilter
from okno.appeals.forms import branches_in_scope, departments_in_scope
from okno.appeals.models import Appeal
from okno.appeals.views.common import deadline_state

PAGE_SIZE = 50


def _queue(request: HttpRequest, base: QuerySet[Appeal], title: str, kind: str) -> HttpResponse:
    user = request.user
    if not user.has_okno_perm("appeal.view"):  # type: ignore[union-attr]
        if user.has_okno_perm("accesslog.view"):  # type: ignore[union-attr]
            return redirect("core:access_log")
        raise PermissionDenied
    flt = AppealFilter(request.GET or None, queryset=base, request=request)
    flt.form.fields["branch"].queryset = branches_in_scope(user)
    flt.form.fields["department"].queryset = departments_in_scope(user)
    qs = (flt.qs if flt.is_bound else base).select_related("account", "suggested_account", "address")
    paginator = Paginator(qs, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    now = timezone.now()
    for appeal in page.object_list:
        appeal.deadline_ui = deadline_state(appeal, now)  # type: ignore[attr-defined]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "appeals/queue.html",
        {
            "title": title,
            "queue_kind": kind,
            "filter": flt,
            "page_obj": page,
            "querystring_base": (params.urlencode() + "&") if params else "",
            "total": paginator.count,
        },
    )


@login_required
def my_queue(request: HttpRequest) -> HttpResponse:
    return _queue(request, queries.my_queue(request.user), str(_("My queue")), "my")


@login_required
def department_queue(request: HttpRequest) -> HttpResponse:
    base = queries.department_queue(request.user)
    if not any(key != "page" for key in request.GET):  # no filters chosen: the open ones
        base = base.filter(status__in=OPEN_STATUSES)
    return _queue(request, base, str(_("Department queue")), "department")
