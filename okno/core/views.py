"""Pages of the security officer: who saw a customer's personal data, and the change log."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from okno.core.models import AccessLog, ChangeLog

PAGE_SIZE = 100


class AccessQueryForm(forms.Form):
    customer = forms.IntegerField(label=_("Customer id"), required=False, min_value=1)
    account = forms.CharField(label=_("or account number"), required=False, max_length=20)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        if not data.get("customer") and not data.get("account"):
            raise forms.ValidationError(_("Give a customer id or an account number."))
        if data.get("account") and not data.get("customer"):
            # core sits below customers: look the model up by name instead of importing it.
            account_model = apps.get_model("customers", "Account")
            customer_id = (
                account_model.objects.filter(number=re.sub(r"[\s-]", "", data["account"]))
                .values_list("customer_id", flat=True)
                .first()
            )
            if customer_id is None:
                self.add_error("account", _("No such account."))
            data["customer"] = customer_id
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data


class ChangeQueryForm(forms.Form):
    object_type = forms.CharField(
        label=_("Object type"), required=False, max_length=100, help_text=_("e.g. appeals.appeal")
    )
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    actor = forms.CharField(label=_("Actor (login)"), required=False, max_length=150)


def _bounds(
    day_from: dt.date | None, day_to: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(day_from, dt.time.min, tzinfo=tz) if day_from else None
    end = None
    if day_to is not None:
        end = dt.datetime.combine(day_to, dt.time.max, tzinfo=tz)
    return start, end


def _page(request: HttpRequest, qs) -> tuple:
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, (params.urlencode() + "&") if params else ""


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    """“Who saw customer X's data in a period.”"""
    if not request.user.has_okno_perm("accesslog.view"):  # type: ignore[union-attr]
        raise PermissionDenied
    form = AccessQueryForm(request.GET or None)
    rows = AccessLog.objects.none()
    customer = None
    if form.is_valid():
        rows = AccessLog.objects.filter(customer_id=form.cleaned_data["customer"]).select_related("actor")
        start, end = _bounds(form.cleaned_data.get("date_from"), form.cleaned_data.get("date_to"))
        if start:
            rows = rows.filter(time__gte=start)
        if end:
            rows = rows.filter(time__lte=end)
        customer = (
            apps.get_model("customers", "Customer").objects.filter(pk=form.cleaned_data["customer"]).first()
        )
    page, qs_base = _page(request, rows)
    return render(
        request,
        "core/access_log.html",
        {"form": form, "page_obj": page, "querystring_base": qs_base, "customer": customer},
    )


@login_required
def change_log(request: HttpRequest) -> HttpResponse:
    if not request.user.has_okno_perm("changelog.view"):  # type: ignore[union-attr]
        raise PermissionDenied
    form = ChangeQueryForm(request.GET or None)
    rows = ChangeLog.objects.select_related("actor")
    if form.is_valid():
        d = form.cleaned_data
        if d.get("object_type"):
            rows = rows.filter(object_type=d["object_type"].strip().lower())
        if d.get("object_id"):
            rows = rows.filter(object_id=d["object_id"].strip())
        if d.get("actor"):
            rows = rows.filter(actor_name=d["actor"].strip())
    page, qs_base = _page(request, rows)
    types = ChangeLog.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    return render(
        request,
        "core/change_log.html",
        {"form": form, "page_obj": page, "querystring_base": qs_base, "object_types": list(types)},
    )
