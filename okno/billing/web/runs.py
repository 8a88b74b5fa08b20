"""Web pages of billing runs: the list with a form to start one, and a run's progress and result."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.billing import runs
from okno.billing.models import BillingRun, Method
from okno.billing.periods import add_months, month_start, parse_period
from okno.core.access import require_perm
from okno.core.errors import Conflict
from okno.org.models import Branch


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "charge.view")
    user = request.user
    errors: dict[str, list[str]] = {}
    default_period = add_months(month_start(timezone.localdate()), -1)
    form = {
        "period": request.POST.get("period", f"{default_period:%Y-%m}"),
        "branch": request.POST.get("branch", ""),
    }
    branches = Branch.objects.restrict(user, "view").order_by("name")
    if request.method == "POST":
        require_perm(request.user, "billingrun.add")
        branch = None
        if form["branch"]:
            branch = branches.filter(pk=form["branch"]).first() if form["branch"].isdigit() else None
            if branch is None:
                errors["branch"] = [_("Choose a branch from the list.")]
        elif not user.all_branches:  # type: ignore[union-attr]
            errors["branch"] = [_("Choose your branch: a company-wide run needs company-wide access.")]
        try:
            period = parse_period(form["period"])
        except ValueError:
            errors["period"] = [_("Give the month as YYYY-MM.")]
        if not errors:
            try:
                run = runs.start_run(period=period, branch=branch, actor=user)
            except ValidationError as exc:
                errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            except Conflict as exc:
                errors["period"] = [exc.message]
            else:
                messages.success(request, _("Billing run for %(p)s started.") % {"p": f"{period:%Y-%m}"})
                return redirect("billing:run", pk=run.pk)
    items = BillingRun.objects.restrict(user, "view").select_related("branch", "started_by")[:100]
    return render(
        request,
        "billing/runs/list.html",
        {"runs": items, "form": form, "errors": errors, "branches": branches},
        status=400 if errors else 200,
    )


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "charge.view")
    run = get_object_or_404(BillingRun.objects.restrict(request.user, "view").select_related("branch"), pk=pk)
    labels = dict(Method.choices)
    methods = [(labels.get(m, m), n) for m, n in sorted((run.counts or {}).get("methods", {}).items())]
    return render(
        request,
        "billing/runs/detail.html",
        {
            "run": run,
            "methods": methods,
            "amount": (run.counts or {}).get("amount_kop", 0) / 100,
            "errors": run.errors[:200],
        },
    )


urlpatterns = [
    path("", run_list, name="runs"),
    path("runs/<int:pk>/", run_detail, name="run"),
]
