"""The kiosk's two forms: identification and a meter reading. They only parse input; billing decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.billing.models import Meter

#: The id of the list of errors that concern the whole form (templates use it).
FORM_ERRORS_ID = "form-errors"
# Big on-screen fields: digits only, no autofill or spelling help on a shared terminal.
_NUMERIC = {"inputmode": "numeric", "autocomplete": "off", "autocorrect": "off", "spellcheck": "false"}


def point_at_form_errors(form: forms.Form) -> None:
    """Make every field refer to the form's error list (and still to its help text)."""
    for name, field in form.fields.items():
        ids = [FORM_ERRORS_ID]
        if field.help_text:
            ids.append(f"{form[name].auto_id}_helptext")
        field.widget.attrs.update({"aria-invalid": "true", "aria-describedby": " ".join(ids)})


class KioskForm(forms.Form):
    """Labels without the colon Django adds: they stand above big fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class IdentifyForm(KioskForm):
    number = forms.CharField(
        label=gettext_lazy("Account number"),
        max_length=40,
        widget=forms.TextInput(attrs={**_NUMERIC, "pattern": "[0-9 \\-]*", "data-keypad": "digits"}),
    )
    check_value = forms.CharField(
        label=gettext_lazy("Check value"),
        help_text=gettext_lazy(
            "The amount to pay on your last invoice (for example 1234,56). "
            "No invoice yet: the serial number of your meter."
        ),
        max_length=64,
        # Decimal for the amount; a serial may hold letters, so the physical keyboard stays usable.
        widget=forms.TextInput(attrs={**_NUMERIC, "inputmode": "decimal", "data-keypad": "decimal"}),
    )


class ReadingForm(KioskForm):
    """One field per zone of the account's meter in service, in kWh as the display shows it."""

    def __init__(self, *args: Any, meter: Meter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meter = meter
        for z in range(1, meter.zones + 1):
            label = (
                _("Reading, kWh")
                if meter.zones == 1
                else _("Zone T%(zone)s (%(name)s), kWh") % {"zone": z, "name": meter.zone_name(z)}
            )
            self.fields[f"t{z}"] = forms.CharField(
                label=label,
                max_length=20,
                widget=forms.TextInput(attrs={**_NUMERIC, "inputmode": "decimal", "data-keypad": "decimal"}),
            )

    def values(self) -> list[str]:
        return [self.cleaned_data[f"t{z}"] for z in range(1, self.meter.zones + 1)]

    def refuse(self, message: str) -> None:
        """Show billing's reason: on the field of a one-zone meter, else above the fields, which then
        point at it (``aria-describedby``) so a screen reader reads it with each of them."""
        if self.meter.zones == 1:
            self.add_error("t1", message)
            return
        self.add_error(None, message)
        point_at_form_errors(self)
