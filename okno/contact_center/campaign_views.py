"""``/cc/campaigns/``: outbound campaigns for staff with ``campaign.change`` — the list, making one from a
kind, its results (counts by status and by outcome, survey answers, the targets) with start, pause and
finish, and the targets as CSV. The rules are :mod:`okno.contact_center.campaigns`'s.

The targets shown and exported are those of customers in the user's branches (and targets without a
customer, such as callbacks from unknown numbers); the counts are the whole campaign's.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from okno.appeals.views.register import local_tz
from okno.contact_center import campaigns
from okno.contact_center.choices import CampaignKind, CampaignStatus, TargetStatus
from okno.contact_center.models import Campaign, CampaignTarget, Queue
from okno.org.models import Branch

CSV_COLUMNS = [
    "number",
    "customer",
    "account",
    "time_zone",
    "status",
    "attempts",
    "result",
    "answer",
    "next_attempt_at",
    "context",
]


def _require(request: HttpRequest) -> None:
    if not request.user.has_okno_perm(campaigns.PERMISSION):  # type: ignore[union-attr]
        raise PermissionDenied


def _visible_targets(user: Any, campaign: Campaign) -> QuerySet[CampaignTarget]:
    targets = campaign.targets.select_related("customer", "account").order_by("pk")
    if user.all_branches or user.is_superuser:
        return targets
    return targets.filter(
        Q(customer__isnull=True)
        | Q(customer__branch__isnull=True)
        | Q(customer__branch_id__in=user.branch_ids)
    )


class CampaignForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CampaignKind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    outage = forms.ChoiceField(
        label=gettext_lazy("Planned outage"),
        required=False,
        help_text=gettext_lazy("For a planned-outage notice: the scheduled works to announce."),
    )
    branch = forms.ChoiceField(
        label=gettext_lazy("Branch"),
        required=False,
        help_text=gettext_lazy("For debt reminders and surveys: whose customers to call."),
    )
    min_debt_rub = forms.DecimalField(
        label=gettext_lazy("Also debtors owing at least, ₽"),
        required=False,
        min_value=Decimal("0.01"),
        decimal_places=2,
        help_text=gettext_lazy("Debt reminders: empty — only accounts with an open debt case."),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Appeals answered in the last, days"),
        min_value=1,
        max_value=90,
        initial=campaigns.DEFAULT_SURVEY_DAYS,
        required=False,
        help_text=gettext_lazy("Surveys only."),
    )
    queue = forms.ChoiceField(
        label=gettext_lazy("Queue"),
        required=False,
        help_text=gettext_lazy("Callbacks: only this queue's; answered callbacks go to their own queue."),
    )
    window_start = forms.TimeField(label=gettext_lazy("Calling window from"), initial="09:00")
    window_end = forms.TimeField(
        label=gettext_lazy("Calling window to"),
        initial="20:00",
        help_text=gettext_lazy("In each customer's local time (the branch of their service point)."),
    )
    max_attempts = forms.IntegerField(label=gettext_lazy("Attempts"), min_value=1, max_value=10, initial=3)
    retry_after_min = forms.IntegerField(
        label=gettext_lazy("Retry after, min"), min_value=1, max_value=7 * 24 * 60, initial=60
    )
    message = forms.CharField(
        label=gettext_lazy("Message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Empty: the standard text of the kind. Placeholders: {account}, {address}, {start}, {end}, "
            "{debt}, {appeal}."
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from okno.outages.choices import OutageKind, OutageStatus
        from okno.outages.models import Outage

        self.user = user
        outages = Outage.objects.filter(kind=OutageKind.PLANNED, status=OutageStatus.SCHEDULED).order_by(
            "planned_start", "pk"
        )
        if not (user.all_branches or user.is_superuser):
            outages = outages.filter(branch_id__in=user.branch_ids)
        tz = local_tz(user)
        self._choice("outage").choices = [("", "—")] + [
            (
                str(o.pk),
                f"{o.number} · {o.node.name} · {timezone.localtime(o.planned_start, tz):%d.%m.%Y %H:%M}",
            )
            if o.planned_start
            else (str(o.pk), o.number)
            for o in outages.select_related("node")[:200]
        ]
        branches = Branch.objects.order_by("name")
        if not (user.all_branches or user.is_superuser):
            branches = branches.filter(pk__in=user.branch_ids)
            self._choice("branch").choices = [(str(b.pk), b.name) for b in branches]
        else:
            self._choice("branch").choices = [("", gettext_lazy("All branches"))] + [
                (str(b.pk), b.name) for b in branches
            ]
        self._choice("queue").choices = [("", gettext_lazy("All queues"))] + [
            (str(q.pk), q.name) for q in Queue.objects.order_by("name")
        ]
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def is_valid(self) -> bool:
        valid = super().is_valid()
        self.mark_errors()
        return valid

    def mark_errors(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}_error"


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    _require(request)
    listed = (
        Campaign.objects.select_related("created_by")
        .annotate(
            n_total=Count("targets"),
            n_reached=Count("targets", filter=Q(targets__status=TargetStatus.DONE)),
            n_attempts=Coalesce(Sum("targets__attempts"), 0),
        )
        .order_by("-created_at", "-pk")[:200]
    )
    rows = [
        {"campaign": c, "results": {"total": c.n_total, "reached": c.n_reached, "attempts": c.n_attempts}}
        for c in listed
    ]
    return render(request, "contact_center/campaigns/list.html", {"rows": rows})


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    _require(request)
    user = request.user
    form = CampaignForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        outage = None
        if d.get("outage"):
            from okno.outages.models import Outage

            outage = Outage.objects.filter(pk=d["outage"]).first()
        min_debt = d.get("min_debt_rub")
        try:
            campaign = campaigns.create_campaign(
                kind=d["kind"],
                name=d["name"],
                actor=user,
                window_start=d["window_start"],
                window_end=d["window_end"],
                max_attempts=d["max_attempts"],
                retry_after_min=d["retry_after_min"],
                queue=Queue.objects.filter(pk=d["queue"]).first() if d.get("queue") else None,
                message=d.get("message") or "",
                outage=outage,
                branch_id=int(d["branch"]) if d.get("branch") else None,
                min_debt_kop=int(min_debt * 100) if min_debt is not None else None,
                days=d.get("days") or campaigns.DEFAULT_SURVEY_DAYS,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
            form.mark_errors()
        else:
            messages.success(
                request,
                _("Campaign “%(name)s” made with %(n)s numbers to call. Start it when ready.")
                % {"name": campaign.name, "n": campaign.targets.count()},
            )
            return redirect("cc:campaign", pk=campaign.pk)
    return render(request, "contact_center/campaigns/create.html", {"form": form})


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    campaign = get_object_or_404(Campaign.objects.select_related("queue", "created_by"), pk=pk)
    targets = _visible_targets(request.user, campaign)
    status = request.GET.get("status", "")
    if status in TargetStatus.values:
        targets = targets.filter(status=status)
    page = Paginator(targets, 100).get_page(request.GET.get("page"))
    result_labels = dict(campaigns.TargetResult.choices)
    tz = local_tz(request.user)
    rows = [
        {
            "t": t,
            "result": result_labels.get(t.result, t.result),
            "next": timezone.localtime(t.next_attempt_at, tz),
        }
        for t in page.object_list
    ]
    results = campaigns.results(campaign)
    by_result = [
        (result_labels.get(code, code) if code else _("Not called yet"), n)
        for code, n in sorted(results["by_result"].items())
    ]
    by_status = [(TargetStatus(code).label, code, n) for code, n in results["by_status"].items()]
    return render(
        request,
        "contact_center/campaigns/detail.html",
        {
            "campaign": campaign,
            "results": results,
            "by_status": by_status,
            "by_result": by_result,
            "rows": rows,
            "page": page,
            "status": status,
            "statuses": TargetStatus.choices,
            "can_start": campaign.status in (CampaignStatus.DRAFT, CampaignStatus.PAUSED),
            "can_pause": campaign.status == CampaignStatus.RUNNING,
            "can_finish": campaign.status != CampaignStatus.FINISHED,
            "is_survey": campaign.kind == CampaignKind.SURVEY,
        },
    )


_STATE_ACTIONS = {"start": campaigns.start, "pause": campaigns.pause, "finish": campaigns.finish}


@login_required
@require_POST
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    func = _STATE_ACTIONS.get(action)
    if func is None:
        raise PermissionDenied
    try:
        func(campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Campaign “%(name)s”: %(status)s.")
            % {"name": campaign.name, "status": str(CampaignStatus(campaign.status).label).lower()},
        )
    return redirect("cc:campaign", pk=campaign.pk)


@login_required
def campaign_csv(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    tz = local_tz(request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 with the mark
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for t in _visible_targets(request.user, campaign).iterator(chunk_size=2000):
        context = {k: v for k, v in t.context.items() if k in ("account", "outage", "debt", "appeal", "also")}
        writer.writerow(
            [
                t.number,
                t.customer.display_name if t.customer_id and t.customer else "",
                t.account.number if t.account_id and t.account else "",
                t.time_zone,
                t.status,
                t.attempts,
                t.result,
                t.answer,
                timezone.localtime(t.next_attempt_at, tz).strftime("%Y-%m-%d %H:%M"),
                "; ".join(f"{k}={v}" for k, v in context.items()),
            ]
        )
    return response
