"""Forms of the customer pages: they parse input; okno.customers.actions does the work."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from okno.customers.choices import CustomerKind
from okno.customers.numbers import normalize_account_number
from okno.org.models import GridDistrict


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices, initial=CustomerKind.INDIVIDUAL)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=100)
    first_name = forms.CharField(label=_("First name"), required=False, max_length=100)
    patronymic = forms.CharField(label=_("Patronymic"), required=False, max_length=100)
    organisation = forms.CharField(label=_("Organisation name"), required=False, max_length=300)
    inn = forms.CharField(label=_("INN"), required=False, max_length=12)
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    # Optional account at a service point.
    account_number = forms.CharField(label=_("Account number"), required=False, max_length=20)
    contract_number = forms.CharField(label=_("Contract number"), required=False, max_length=50)
    grid_district = forms.ModelChoiceField(
        label=_("Grid district"), queryset=GridDistrict.objects.none(), required=False
    )
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    settlement = forms.CharField(label=_("Settlement"), required=False, max_length=100)
    street = forms.CharField(label=_("Street"), required=False, max_length=150)
    house = forms.CharField(label=_("House"), required=False, max_length=20)
    flat = forms.CharField(label=_("Flat"), required=False, max_length=20)

    ACCOUNT_FIELDS = (
        "account_number",
        "contract_number",
        "grid_district",
        "region",
        "settlement",
        "street",
        "house",
        "flat",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = GridDistrict.objects.select_related("branch")
        if not user.all_branches:
            qs = qs.filter(branch_id__in=user.branch_ids)
        cast(forms.ModelChoiceField, self.fields["grid_district"]).queryset = qs

    def clean_account_number(self) -> str:
        return normalize_account_number(self.cleaned_data.get("account_number") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("account_number"):
            for name in ("grid_district", "settlement", "house"):
                if not data.get(name):
                    self.add_error(name, _("Needed to open the account."))
        return data

    def customer_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            k: d.get(k) or ""
            for k in ("kind", "last_name", "first_name", "patronymic", "organisation", "inn", "note")
        }
