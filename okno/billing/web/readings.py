"""Web routes: reading entry, meter installation and replacement, the review queue of held readings,
corrections and the bulk upload of reading files.

Forms parse input; :mod:`okno.billing.readings` and :mod:`okno.billing.imports` do the work. A refused
reading is shown as a form error and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.billing import imports, readings
from okno.billing.models import Meter, Reading, ReadingImport
from okno.billing.web.common import account_for
from okno.core.access import require_perm
from okno.core.errors import Conflict


def _show_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    for name, msgs in errors.items():
        target = (aliases or {}).get(name, name)
        for message in msgs:
            form.add_error(target if target in form.fields else None, message)


def _values(form: forms.Form, prefix: str, zones: int) -> list[str]:
    return [form.cleaned_data[f"{prefix}{z}"] for z in range(1, zones + 1)]


def _zone_fields(form: forms.Form, prefix: str, zones: int, label: Any, meter: Meter | None = None) -> None:
    for z in range(1, zones + 1):
        name = meter.zone_name(z) if meter is not None else f"T{z}"
        form.fields[f"{prefix}{z}"] = forms.CharField(
            label=f"{label} T{z} ({name}), " + _("kWh"),
            max_length=20,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )


# --- reading entry -----------------------------------------------------------------------------


class ReadingForm(forms.Form):
    taken_on = forms.DateField(label=gettext_lazy("Taken on"), widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ChoiceField(
        label=gettext_lazy("Received"),
        choices=[
            (Reading.Channel.OFFICE, gettext_lazy("Office")),
            (Reading.Channel.PHONE, gettext_lazy("Phone (operator)")),
        ],
    )

    def __init__(self, *args: Any, meter: Meter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _zone_fields(self, "t", meter.zones, _("Reading"), meter)


@login_required
def reading_new(request: HttpRequest, number: str) -> HttpResponse:
    require_perm(request.user, "reading.add")
    account = account_for(request, number, "ui:readings")
    meter = Meter.objects.filter(account=account).exclude(status=Meter.Status.REMOVED).first()
    history = readings.current_readings(account).order_by("-taken_on", "-id")[:24]
    code = 200
    form = None
    if meter is not None:
        today = timezone.localtime(timezone.now(), account.service_point.branch.tz).date()
        if request.method == "POST":
            form = ReadingForm(request.POST, meter=meter)
            if form.is_valid():
                try:
                    reading = readings.submit_reading(
                        account=account,
                        values=_values(form, "t", meter.zones),
                        channel=form.cleaned_data["channel"],
                        actor=request.user,
                        taken_on=form.cleaned_data["taken_on"],
                        meter=meter,
                    )
                except readings.ReadingRefused as exc:
                    form.add_error("taken_on" if exc.field == "taken_on" else None, exc.text)
                else:
                    if reading.status == Reading.Status.HELD:
                        messages.warning(
                            request, _("The reading differs much from the average and is held for review.")
                        )
                    else:
                        messages.success(
                            request,
                            _("Reading accepted for %(period)s.") % {"period": f"{reading.period:%m.%Y}"},
                        )
                    return redirect("billing:reading_new", number=account.number)
            code = 400
        else:
            form = ReadingForm(meter=meter, initial={"taken_on": today, "channel": Reading.Channel.OFFICE})
    return render(
        request,
        "billing/readings/new.html",
        {"account": account, "meter": meter, "form": form, "history": history},
        status=code,
    )


# --- meters ------------------------------------------------------------------------------------


class MeterForm(forms.Form):
    model = forms.CharField(label=gettext_lazy("Type"), max_length=100)
    serial = forms.CharField(label=gettext_lazy("Serial number"), max_length=40)
    zones = forms.TypedChoiceField(
        label=gettext_lazy("Tariff zones"), choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int
    )
    integer_digits = forms.IntegerField(
        label=gettext_lazy("Integer digits"), min_value=1, max_value=9, initial=6
    )
    fraction_digits = forms.IntegerField(
        label=gettext_lazy("Fractional digits"), min_value=0, max_value=3, initial=1
    )
    sealed_on = forms.DateField(
        label=gettext_lazy("Sealed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    verified_on = forms.DateField(
        label=gettext_lazy("Last verification"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    verification_interval_years = forms.IntegerField(
        label=gettext_lazy("Verification interval, years"), min_value=1, max_value=50, initial=16
    )
    location = forms.CharField(label=gettext_lazy("Location"), max_length=100, required=False)
    is_smart = forms.BooleanField(label=gettext_lazy("Smart meter"), required=False)
    initial_readings = forms.CharField(
        label=gettext_lazy("Initial readings, kWh"),
        max_length=70,
        help_text=gettext_lazy("One value per zone, separated by spaces (T1 T2 T3)."),
    )

    def meter_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        keys = (
            "model",
            "serial",
            "zones",
            "integer_digits",
            "fraction_digits",
            "sealed_on",
            "verified_on",
            "verification_interval_years",
            "location",
            "is_smart",
        )
        return {k: d[k] for k in keys} | {"initial_values": d["initial_readings"].split()}


class InstallForm(MeterForm):
    installed_on = forms.DateField(
        label=gettext_lazy("Installed on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ReplaceForm(MeterForm):
    on = forms.DateField(label=gettext_lazy("Replaced on"), widget=forms.DateInput(attrs={"type": "date"}))
    final = forms.CharField(
        label=gettext_lazy("Final readings of the old meter, kWh"),
        max_length=70,
        help_text=gettext_lazy("One value per zone of the old meter, separated by spaces."),
    )


METER_ALIASES = {"values": "initial_readings", "initial_values": "initial_readings", "account": "serial"}


@login_required
def meter_install(request: HttpRequest, number: str) -> HttpResponse:
    require_perm(request.user, "meter.change")
    account = account_for(request, number, "ui:readings")
    if request.method == "POST":
        form = InstallForm(request.POST)
        if form.is_valid():
            try:
                readings.install_meter(
                    account=account,
                    actor=request.user,
                    installed_on=form.cleaned_data["installed_on"],
                    **form.meter_fields(),
                )
            except ValidationError as exc:
                _show_errors(form, exc, METER_ALIASES)
            else:
                messages.success(request, _("Meter installed."))
                return redirect("billing:reading_new", number=account.number)
        code = 400
    else:
        form = InstallForm(initial={"zones": 1})
        code = 200
    return render(
        request,
        "billing/readings/meter_form.html",
        {"account": account, "form": form, "title": _("Install a meter")},
        status=code,
    )


@login_required
def meter_replace(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "meter.change")
    meter = get_object_or_404(Meter.objects.restrict(request.user, "view").select_related("account"), pk=pk)
    account = account_for(request, meter.account.number, "ui:readings")
    if request.method == "POST":
        form = ReplaceForm(request.POST)
        if form.is_valid():
            try:
                readings.replace_meter(
                    meter=meter,
                    actor=request.user,
                    on=form.cleaned_data["on"],
                    final_values=form.cleaned_data["final"].split(),
                    **form.meter_fields(),
                )
            except readings.ReadingRefused as exc:
                # "values" are the old meter's final readings; "initial_values" the new meter's.
                field = {"values": "final", "initial_values": "initial_readings"}.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.text)
            except ValidationError as exc:
                _show_errors(form, exc, METER_ALIASES)
            else:
                messages.success(request, _("Meter replaced."))
                return redirect("billing:reading_new", number=account.number)
        code = 400
    else:
        form = ReplaceForm(
            initial={
                "zones": meter.zones,
                "integer_digits": meter.integer_digits,
                "fraction_digits": meter.fraction_digits,
                "location": meter.location,
            }
        )
        code = 200
    return render(
        request,
        "billing/readings/meter_form.html",
        {"account": account, "form": form, "meter": meter, "title": _("Replace meter %(m)s") % {"m": meter}},
        status=code,
    )


# --- review and correction ---------------------------------------------------------------------


@login_required
def readings_held(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "reading.review")
    held = (
        Reading.objects.restrict(request.user, "view")
        .filter(status=Reading.Status.HELD)
        .select_related("account", "meter")
        .order_by("submitted_at", "id")[:200]
    )
    return render(request, "billing/readings/held.html", {"held": held})


@login_required
def reading_review(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "reading.review")
    if request.method != "POST":
        return redirect("billing:readings_held")
    reading = get_object_or_404(Reading.objects.restrict(request.user, "view"), pk=pk)
    accept = request.POST.get("decision") == "accept"
    try:
        readings.review_reading(
            reading, accept=accept, actor=request.user, note=request.POST.get("note", "")[:300]
        )
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Reading accepted.") if accept else _("Reading rejected."))
    return redirect("billing:readings_held")


class CorrectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)

    def __init__(self, *args: Any, meter: Meter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _zone_fields(self, "t", meter.zones, _("Reading"), meter)
        self.order_fields([*(f"t{z}" for z in range(1, meter.zones + 1)), "reason"])


@login_required
def reading_correct(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "reading.review")
    reading = get_object_or_404(
        Reading.objects.restrict(request.user, "view").select_related("account", "meter"), pk=pk
    )
    meter = reading.meter
    if request.method == "POST":
        form = CorrectForm(request.POST, meter=meter)
        if form.is_valid():
            try:
                readings.correct_reading(
                    reading,
                    values=_values(form, "t", meter.zones),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except readings.ReadingRefused as exc:
                form.add_error(None, exc.text)
            except ValidationError as exc:
                _show_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Reading corrected."))
                return redirect("billing:reading_new", number=reading.account.number)
        code = 400
    else:
        initial = {f"t{i}": str(v) for i, v in enumerate(reading.values_kwh(), start=1)}
        form = CorrectForm(meter=meter, initial=initial)
        code = 200
    return render(request, "billing/readings/correct.html", {"reading": reading, "form": form}, status=code)


# --- bulk upload -------------------------------------------------------------------------------


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of file"), choices=ReadingImport.Kind.choices)
    file = forms.FileField(label=gettext_lazy("File"))
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Agent, controller…"),
    )


@login_required
def reading_import(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "reading.import")
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            imp, created = imports.import_readings_once(
                data=upload.read(),
                name=upload.name,
                kind=form.cleaned_data["kind"],
                actor=request.user,
                source=form.cleaned_data["source"],
            )
            if created:
                messages.success(request, _("File imported."))
            else:
                messages.warning(request, _("This file was imported before; nothing was added."))
            return redirect("billing:reading_import_detail", pk=imp.pk)
        code = 400
    else:
        form = ImportForm()
        code = 200
    recent = ReadingImport.objects.select_related("imported_by")[:20]
    return render(request, "billing/readings/import.html", {"form": form, "recent": recent}, status=code)


@login_required
def reading_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "reading.import")
    imp = get_object_or_404(ReadingImport, pk=pk)
    return render(request, "billing/readings/import_detail.html", {"imp": imp})


urlpatterns = [
    path("accounts/<str:number>/readings/new/", reading_new, name="reading_new"),
    path("accounts/<str:number>/meters/new/", meter_install, name="meter_install"),
    path("meters/<int:pk>/replace/", meter_replace, name="meter_replace"),
    path("readings/held/", readings_held, name="readings_held"),
    path("readings/<int:pk>/review/", reading_review, name="reading_review"),
    path("readings/<int:pk>/correct/", reading_correct, name="reading_correct"),
    path("readings/import/", reading_import, name="reading_import"),
    path("readings/imports/<int:pk>/", reading_import_detail, name="reading_import_detail"),
]
