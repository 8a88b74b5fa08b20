"""Forms of the cabinet's sign-up, login, password reset, account linking and profile.

Every form is plain HTML that works without JavaScript: each input has a label; a field's help text
and errors are linked to it with ``aria-describedby`` (``<id>_helptext``, ``<id>_error``, as
``portal/cabinet/signup_field.html`` renders them) and the field gets ``aria-invalid``. Password and
code fields never render their value back.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from okno.customers.cabinet import Login, parse_login
from okno.customers.models import CabinetUser

CHECK_VALUE_HELP = _(
    "The amount to pay on your last bill, in roubles, for example 1234.56 or 1 234,56. If no bill has "
    "been issued for the account yet, the serial number of your electricity meter (printed on the meter)."
)
ACCOUNT_HELP = _("10 digits, as printed on your bill.")
LOGIN_HELP = _("Your e-mail address or mobile phone number, for example +7 912 345-67-89.")


class AccessibleForm(forms.Form):
    """Links errors to their fields (``aria-describedby``, ``aria-invalid``) once validated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        super().full_clean()
        for name, field in self.fields.items():
            if name in self.errors:
                bound = self[name]
                ids = [f"{bound.auto_id}_error"]
                if field.help_text:
                    ids.insert(0, f"{bound.auto_id}_helptext")
                field.widget.attrs["aria-describedby"] = " ".join(ids)
                field.widget.attrs["aria-invalid"] = "true"


def _login_field(label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _("E-mail or phone"),
        max_length=254,
        help_text=LOGIN_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "email"}),
    )


def _clean_login(value: str) -> Login:
    login = parse_login(value)
    if not login.kind:
        raise ValidationError(_("Enter an e-mail address or a phone number with the country code."))
    if login.kind == "email":
        try:
            forms.EmailField().clean(login.value)
        except ValidationError:
            raise ValidationError(_("Enter a valid e-mail address.")) from None
    return login


def _password(label: Any, autocomplete: str = "new-password", help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=128,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}, render_value=False),
    )


def _code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Code"),
        max_length=12,
        help_text=_("The 6 digits we sent you. The code is valid for 10 minutes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


# Rendered in the language of the request, not of the import.
_password_help = lazy(password_validators_help_text_html, str)


class NewPasswordMixin(forms.Form):
    """Two password fields checked against AUTH_PASSWORD_VALIDATORS (for the user ``password_user``)."""

    password1 = _password(_("Password"), help_text=_password_help())
    password2 = _password(_("Password again"))
    password_user: CabinetUser | None = None

    def clean_password2(self) -> str:
        p1 = self.cleaned_data.get("password1") or ""
        p2 = self.cleaned_data.get("password2") or ""
        if p1 and p2 and p1 != p2:
            raise ValidationError(_("The two passwords are not the same."))
        return p2

    def _validate_new_password(self, user: CabinetUser | None) -> None:
        p1 = self.cleaned_data.get("password1")
        if p1 and "password1" not in self.errors and "password2" not in self.errors:
            try:
                validate_password(p1, user)  # type: ignore[arg-type]  # any object with attributes
            except ValidationError as exc:
                self.add_error("password1", exc)


class LoginForm(AccessibleForm):
    login = _login_field()
    password = _password(_("Password"), autocomplete="current-password")


class ProofFields(AccessibleForm):
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=30,
        help_text=ACCOUNT_HELP,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    check_value = forms.CharField(
        label=_("Check value"),
        max_length=64,
        help_text=CHECK_VALUE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class SignupForm(NewPasswordMixin, ProofFields):
    login = _login_field(_("E-mail or phone for logging in"))
    consent = forms.BooleanField(
        label=_(
            "I consent to the processing of my personal data for serving my account in the personal cabinet"
        ),
        help_text=_(
            "Required by Federal Law 152-FZ; you can withdraw the consent in the cabinet's settings."
        ),
        error_messages={"required": _("The cabinet cannot be opened without this consent.")},
    )
    field_order = ["account_number", "check_value", "login", "password1", "password2", "consent"]

    def clean_login(self) -> Login:
        return _clean_login(self.cleaned_data.get("login", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        login = data.get("login")
        probe = CabinetUser(email=login.value if isinstance(login, Login) and login.kind == "email" else "")
        self._validate_new_password(probe)
        return data


class CodeForm(AccessibleForm):
    code = _code_field()

    def clean_code(self) -> str:
        return "".join((self.cleaned_data.get("code") or "").split())


class ResetForm(AccessibleForm):
    login = _login_field()

    def clean_login(self) -> Login:
        return _clean_login(self.cleaned_data.get("login", ""))


class ResetVerifyForm(NewPasswordMixin, CodeForm):
    field_order = ["code", "password1", "password2"]

    def __init__(self, *args: Any, user: CabinetUser | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.password_user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._validate_new_password(self.password_user)
        return data


class AddAccountForm(ProofFields):
    pass


class PasswordChangeForm(NewPasswordMixin, AccessibleForm):
    current = _password(_("Current password"), autocomplete="current-password")
    field_order = ["current", "password1", "password2"]

    def __init__(self, *args: Any, user: CabinetUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.password_user = user
        self.fields["password1"].label = _("New password")
        self.fields["password2"].label = _("New password again")

    def clean_current(self) -> str:
        current = self.cleaned_data.get("current") or ""
        assert self.password_user is not None
        if not self.password_user.check_password(current):
            raise ValidationError(_("The current password is not correct."))
        return current

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._validate_new_password(self.password_user)
        return data


class ContactChangeForm(AccessibleForm):
    login = _login_field(_("New e-mail or phone"))

    def clean_login(self) -> Login:
        return _clean_login(self.cleaned_data.get("login", ""))
