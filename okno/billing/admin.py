"""Django admin of billing reference data (categories, tariffs, zone hours, norms, discounts, key rates,
penalty and due-day rules, payee details, settings) and read-only views of runs and imported files.

The models keep integer units (Wh, kopecks, 1/10 000 ₽); the forms here show roubles and kWh and
convert exactly (a price has at most four decimals, a volume three). Saves are recorded in the change
log by the signals :mod:`okno.billing.apps` registers; ``Tariff.clean`` errors show on the form.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from okno.billing.models import (
    BillingRun,
    BillingSettings,
    ConsumerCategory,
    ConsumptionNorm,
    Discount,
    DueDayRule,
    KeyRate,
    PayeeDetails,
    PaymentRegistry,
    PenaltyRule,
    ReadingImport,
    Tariff,
    TariffRate,
    ZoneHours,
    kwh,
    price,
)
from okno.core.admin import ReadOnlyAdmin


class UnitsForm(forms.ModelForm):
    """A model form whose ``units`` fields edit an integer model field in a larger unit.

    ``units = {"form field": ("model field", scale)}``: the form shows ``value / scale`` and stores
    ``value × scale`` (a form field has as many decimals as the scale has zeros, so it is exact)."""

    units: ClassVar[dict[str, tuple[str, int]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (attr, scale) in self.units.items():
            value = getattr(self.instance, attr, None)
            if value is not None and name not in self.initial:
                self.initial[name] = Decimal(value) / scale

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, (attr, scale) in self.units.items():
            if name in self.errors:
                continue
            value = data.get(name)
            if value is None:
                setattr(self.instance, attr, None)
                continue
            scaled = value * scale
            if scaled != scaled.to_integral_value():  # pragma: no cover - decimal_places prevents it
                self.add_error(name, gettext("Too many decimal places."))
                continue
            setattr(self.instance, attr, int(scaled))
        return data

    def _update_errors(self, errors: ValidationError) -> None:
        # Model.clean() names the integer fields (``tier1_limit_wh``); show its errors on the fields
        # of this form that edit them (``tier1_limit_kwh``).
        if hasattr(errors, "error_dict"):
            rename = {attr: name for name, (attr, _scale) in self.units.items()}
            errors = ValidationError({rename.get(k, k): v for k, v in errors.error_dict.items()})
        super()._update_errors(errors)  # type: ignore[misc]


def _rub_e4_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=12, decimal_places=4, min_value=Decimal(0), **kwargs)


def _kwh_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=15, decimal_places=3, min_value=Decimal(0), **kwargs)


# --- tariffs ---------------------------------------------------------------------------------------


class TariffRateForm(UnitsForm):
    units = {"price_rub": ("price_e4", 10_000)}
    price_rub = _rub_e4_field(_("price, ₽ per kWh"), help_text=_("Up to four decimals, e.g. 6.43."))

    class Meta:
        model = TariffRate
        fields = ["zone", "tier"]


class TariffRateFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        zones = getattr(self.instance, "zones", None)
        if not zones:
            return
        seen: set[int] = set()
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            zone = form.cleaned_data.get("zone")
            if zone is None:
                continue
            if zone > zones:
                raise ValidationError(
                    gettext("A tariff of %(zones)s zones has no zone T%(zone)s.")
                    % {"zones": zones, "zone": zone}
                )
            if form.cleaned_data.get("tier") == 1:
                seen.add(zone)
        missing = [f"T{z}" for z in range(1, zones + 1) if z not in seen]
        if missing:
            raise ValidationError(
                gettext("Give the first-tier price of every zone; missing: %(zones)s.")
                % {"zones": ", ".join(missing)}
            )


class TariffRateInline(admin.TabularInline):
    model = TariffRate
    form = TariffRateForm
    formset = TariffRateFormSet
    fields = ("zone", "tier", "price_rub")
    extra = 0
    min_num = 1


class TariffForm(UnitsForm):
    units = {"tier1_limit_kwh": ("tier1_limit_wh", 1000), "tier2_limit_kwh": ("tier2_limit_wh", 1000)}
    tier1_limit_kwh = _kwh_field(
        _("first tier up to, kWh a month"), required=False, help_text=_("Empty: no volume tiers.")
    )
    tier2_limit_kwh = _kwh_field(_("second tier up to, kWh a month"), required=False)

    class Meta:
        model = Tariff
        fields = ["region", "category", "zones", "valid_from", "valid_to", "decision"]


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    form = TariffForm
    fields = (
        "region",
        "category",
        "zones",
        "valid_from",
        "valid_to",
        "tier1_limit_kwh",
        "tier2_limit_kwh",
        "decision",
    )
    list_display = ("region", "category", "zones", "valid_from", "valid_to", "prices")
    list_filter = ("category", "zones", "region")
    search_fields = ("region", "decision")
    date_hierarchy = "valid_from"
    inlines = [TariffRateInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tariff]:
        return (
            super()
            .get_queryset(request)
            .select_related("category")
            .prefetch_related(Prefetch("rates", queryset=TariffRate.objects.order_by("zone", "tier")))
        )

    @admin.display(description=_("prices, ₽ per kWh"))
    def prices(self, obj: Tariff) -> str:
        return " / ".join(
            f"T{r.zone}{f'.{r.tier}' if r.tier > 1 else ''} {price(r.price_e4)}" for r in obj.rates.all()
        )


@admin.register(ConsumerCategory)
class ConsumerCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(ZoneHours)
class ZoneHoursAdmin(admin.ModelAdmin):
    list_display = ("zones", "zone", "start_hour", "end_hour")
    list_filter = ("zones",)


class ConsumptionNormForm(UnitsForm):
    units = {"kwh_per_resident": ("wh_per_resident", 1000)}
    kwh_per_resident = _kwh_field(_("kWh per resident a month"))

    class Meta:
        model = ConsumptionNorm
        fields = ["region", "category", "valid_from"]


@admin.register(ConsumptionNorm)
class ConsumptionNormAdmin(admin.ModelAdmin):
    form = ConsumptionNormForm
    fields = ("region", "category", "valid_from", "kwh_per_resident")
    list_display = ("region", "category", "valid_from", "norm_kwh")
    list_filter = ("category", "region")

    @admin.display(description=_("kWh per resident a month"), ordering="wh_per_resident")
    def norm_kwh(self, obj: ConsumptionNorm) -> Decimal | None:
        return kwh(obj.wh_per_resident)


class DiscountForm(UnitsForm):
    units = {"limit_kwh": ("limit_wh", 1000)}
    limit_kwh = _kwh_field(
        _("applies to, kWh a month"), required=False, help_text=_("Empty: the whole volume.")
    )

    class Meta:
        model = Discount
        fields = ["code", "name", "percent"]


@admin.register(Discount)
class DiscountAdmin(admin.ModelAdmin):
    form = DiscountForm
    fields = ("code", "name", "percent", "limit_kwh")
    list_display = ("code", "name", "percent", "limit")
    search_fields = ("code", "name")

    @admin.display(description=_("applies to, kWh a month"))
    def limit(self, obj: Discount) -> Decimal | str | None:
        return kwh(obj.limit_wh) if obj.limit_wh is not None else "—"


# --- rules with effective dates --------------------------------------------------------------------


@admin.register(KeyRate)
class KeyRateAdmin(admin.ModelAdmin):
    list_display = ("valid_from", "rate")
    date_hierarchy = "valid_from"


@admin.register(PenaltyRule)
class PenaltyRuleAdmin(admin.ModelAdmin):
    list_display = (
        "valid_from",
        "cap_rate",
        "grace_days",
        "first_divisor",
        "second_from_day",
        "second_divisor",
        "suspended",
    )


@admin.register(DueDayRule)
class DueDayRuleAdmin(admin.ModelAdmin):
    list_display = ("valid_from", "day")


@admin.register(PayeeDetails)
class PayeeDetailsAdmin(admin.ModelAdmin):
    list_display = ("name", "branch", "inn", "bic", "settlement_account")
    list_filter = ("branch",)


@admin.register(BillingSettings)
class BillingSettingsAdmin(admin.ModelAdmin):
    """One row of company-wide settings: it can be edited, not added twice or deleted."""

    list_display = ("__str__", "submission_last_day", "jump_factor", "average_months", "debtor_months")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not BillingSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- read-only records of work done ----------------------------------------------------------------


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = ("period", "branch", "status", "progress", "started_by", "started_at", "finished_at")
    list_filter = ("status", "branch")
    date_hierarchy = "period"


@admin.register(ReadingImport)
class ReadingImportAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "imported_at", "imported_by", "lines", "accepted", "held", "rejected")
    list_filter = ("kind",)
    search_fields = ("name", "sha256", "source")


@admin.register(PaymentRegistry)
class PaymentRegistryAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "bank",
        "imported_at",
        "lines",
        "accepted",
        "unidentified",
        "duplicates",
        "rejected",
        "total",
    )
    search_fields = ("name", "sha256", "bank")

    @admin.display(description=_("total, ₽"), ordering="total_kop")
    def total(self, obj: PaymentRegistry) -> Decimal | None:
        from okno.billing.models import rub

        return rub(obj.total_kop)
