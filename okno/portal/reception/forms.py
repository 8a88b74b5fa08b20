"""The internet reception's forms: every form is a channel into the appeals registry.

A form only parses and checks what a person typed; :mod:`okno.portal.reception.registration` hands the
values to :func:`okno.appeals.actions.register_appeal`. Each form class says what it registers
(``kind``, ``topic``), whether contacts are required (a theft report may be anonymous) and whether files
may be attached, and builds the appeal's text from its fields (:meth:`ReceptionForm.build_text`).

Accessibility: every input has a label (no colon suffix, the label stands above the field); help text
and errors are linked with ``aria-describedby`` (``<id>_helptext``, ``<id>_error``, as
``portal/reception/_field.html`` renders them) and an invalid field gets ``aria-invalid``.

The text the appeal gets is composed in the site's default language (Russian in production): it is
read by staff, whatever language the person used the site in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.appeals.choices import RELIABILITY_TOPICS, AnswerChannel, AppealType, Topic
from okno.customers.numbers import is_valid_account_number, is_valid_inn, is_valid_phone, normalize_phone
from okno.portal.fields import MultipleFileField
from okno.portal.reception.places import Place

MAX_TEXT = 10_000
MAX_FILES = 5
#: All files of one form together (each file is also limited by ``OKNO_MAX_ATTACHMENT_BYTES``).
MAX_TOTAL_BYTES = 20 * 1024 * 1024
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "consent")
CONSENT_REQUIRED = gettext_lazy(
    "We can accept your contacts only with your consent to the processing of personal data."
)
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"]
#: How far in the future a time of an event may be (clocks differ a little).
CLOCK_SKEW = dt.timedelta(minutes=5)


def max_total_bytes() -> int:
    return int(getattr(settings, "OKNO_RECEPTION_MAX_TOTAL_BYTES", MAX_TOTAL_BYTES))


def is_valid_ogrn(value: str) -> bool:
    """OGRN (13 digits, organisations) or OGRNIP (15 digits, sole proprietors) check digit."""
    if not value.isdigit():
        return False
    if len(value) == 13:
        return int(value[:12]) % 11 % 10 == int(value[12])
    if len(value) == 15:
        return int(value[:14]) % 13 % 10 == int(value[14])
    return False


def _text_field(label: Any, *, required: bool = True, help_text: Any = "", rows: int = 6) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "max_length": gettext_lazy(
                "The text is too long: at most %(limit_value)d characters are accepted (it has %(show_value)d). "
                "Shorten it or attach a document."
            )
        },
    )


def _address_field(*, required: bool = True, label: Any = None, help_text: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or gettext_lazy("Address"),
        required=required,
        max_length=400,
        help_text=help_text
        if help_text is not None
        else gettext_lazy("Settlement, street and house, for example: Северск, ул. Ленина, 10"),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )


def _when_field(label: Any, *, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Local time at the address, for example 21.11.2026 18:30."),
    )


class KilowattField(forms.DecimalField):
    """Capacity in kW; accepts a decimal comma and spaces between thousands."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace("\xa0", "").replace(" ", "").replace(",", ".")
        return super().to_python(value)


class ReceptionForm(forms.Form):
    """Fields and checks shared by every form of the reception: contacts, consent, files, text limits."""

    #: The URL name (and the template's id for the page).
    slug: ClassVar[str] = ""
    title: ClassVar[Any] = ""
    intro: ClassVar[Any] = ""
    kind: ClassVar[str] = AppealType.INFO_REQUEST
    topic: ClassVar[str] = Topic.OTHER
    contacts_required: ClassVar[bool] = True
    with_files: ClassVar[bool] = False
    #: The form field with the address typed (``None``: the form has none).
    address_field: ClassVar[str | None] = "address"
    #: register_appeal's field names → this form's fields, for errors the action reports.
    error_fields: ClassVar[dict[str, str]] = {}
    submit_label: ClassVar[Any] = gettext_lazy("Send")
    #: What the assistant may decide when the person left the topic as "other" (:mod:`.registration`):
    #: "" nothing (the form says what it registers), "kind_and_topic", or "topic" (the type is chosen).
    assisted: ClassVar[str] = ""
    #: Templates read the class's title and intro on the index page: do not instantiate it there.
    do_not_call_in_templates: ClassVar[bool] = True

    contact_name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_email = forms.EmailField(
        label=gettext_lazy("E-mail"),
        required=False,
        max_length=254,
        help_text=gettext_lazy("We send the registration number and the answer to it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contact_phone = forms.CharField(
        label=gettext_lazy("Phone"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("For example +7 912 345-67-89."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "I agree to the processing of my personal data given in this form to consider my appeal "
            "(Federal Law 152-FZ)."
        ),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if self.with_files:
            self.fields["attachments"] = MultipleFileField(
                label=gettext_lazy("Files"),
                required=False,
                help_text=_(
                    "Up to %(n)s files (photos, PDF, text or office documents), each up to %(mb)s MB, "
                    "%(total)s MB in all."
                )
                % {
                    "n": MAX_FILES,
                    "mb": int(settings.OKNO_MAX_ATTACHMENT_BYTES) // (1024 * 1024),
                    "total": max_total_bytes() // (1024 * 1024),
                },
            )
        if self.contacts_required:
            self.fields["contact_name"].required = True
            self.fields["consent"].required = True
        self.fields["consent"].error_messages["required"] = CONSENT_REQUIRED
        subject = [n for n in self.fields if n not in CONTACT_FIELDS and n != "attachments"]
        self.order_fields([*subject, "attachments", *CONTACT_FIELDS])

    # -- rendering helpers

    def subject_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n not in CONTACT_FIELDS and n != "attachments"]

    def contact_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in CONTACT_FIELDS if n != "consent"]

    def files_field(self) -> forms.BoundField | None:
        return self["attachments"] if "attachments" in self.fields else None

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

    # -- checks

    def clean_contact_phone(self) -> str:
        value = self.cleaned_data.get("contact_phone", "").strip()
        if value and not is_valid_phone(value):
            raise ValidationError(_("Enter a phone number with its area code, for example +7 912 345-67-89."))
        return normalize_phone(value) if value else ""

    def clean_attachments(self) -> list:
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_FILES:
            raise ValidationError(_("At most %(n)s files can be attached.") % {"n": MAX_FILES})
        total = sum(f.size or 0 for f in files)
        if total > max_total_bytes():
            raise ValidationError(
                _("The files together are larger than %(mb)s MB.")
                % {"mb": max_total_bytes() // (1024 * 1024)}
            )
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = (data.get("contact_name") or "").strip()
        email = data.get("contact_email") or ""
        phone = data.get("contact_phone") or ""
        typo = self.has_error("contact_email") or self.has_error("contact_phone")
        if self.contacts_required and not (email or phone or typo):
            self.add_error(
                "contact_email", _("Give an e-mail address or a phone number so that we can answer you.")
            )
        given = name or email or phone or typo
        if given and not data.get("consent") and not self.has_error("consent"):
            self.add_error("consent", CONSENT_REQUIRED)
        return data

    # -- what is registered

    def address_text(self) -> str:
        if self.address_field is None:
            return ""
        return (self.cleaned_data.get(self.address_field) or "").strip()

    def build_text(self) -> str:
        """The appeal's text (subclasses add their structured fields)."""
        return (self.cleaned_data.get("text") or "").strip()

    def registration(self, place: Place) -> dict[str, Any]:
        """Keyword arguments of ``register_appeal`` (without channel, actor, address and branch)."""
        data = self.cleaned_data
        email = data.get("contact_email") or ""
        phone = data.get("contact_phone") or ""
        preferred = AnswerChannel.EMAIL if email else (AnswerChannel.PHONE if phone else "")
        name = (data.get("contact_name") or "").strip()
        with translation.override(settings.LANGUAGE_CODE):
            text = self.build_text()
            if not name and not self.contacts_required:
                name = _("Anonymous")
        return {
            "kind": self.kind,
            "topic": self.topic,
            "text": text,
            "address_text": place.text[:400],
            "contact_name": name,
            "contact_email": email,
            "contact_phone": phone,
            "preferred_answer_channel": preferred,
        }

    @staticmethod
    def local_time(value: dt.datetime | None, place: Place, field: str) -> dt.datetime | None:
        """A typed wall-clock time read in the zone of the address's branch; not in the future."""
        if value is None:
            return None
        local = timezone.make_aware(timezone.make_naive(value), place.tz)
        if local > timezone.now() + CLOCK_SKEW:
            raise ValidationError({field: [_("This time is in the future.")]})
        return local


def _lines(*pairs: tuple[Any, Any]) -> str:
    return "\n".join(f"{label}: {value}" for label, value in pairs if value not in (None, ""))


# ---------------------------------------------------------------- questions and appeals

QUESTION_TOPICS = [
    (t.value, t.label)
    for t in (
        Topic.BILLING,
        Topic.METERING,
        Topic.GRID_CONNECTION,
        Topic.OUTAGE,
        Topic.POWER_QUALITY,
        Topic.CONTRACT,
        Topic.SERVICE_QUALITY,
        Topic.OTHER,
    )
]


class QuestionForm(ReceptionForm):
    slug = "question"
    title = gettext_lazy("Ask a question")
    intro = gettext_lazy(
        "A specialist of the right department answers your question in writing, by e-mail or by phone, "
        "within the time set by the regulations."
    )
    kind = AppealType.INFO_REQUEST
    submit_label = gettext_lazy("Send the question")
    assisted = "kind_and_topic"

    topic_choice = forms.ChoiceField(
        label=gettext_lazy("Topic"), choices=QUESTION_TOPICS, initial=Topic.OTHER
    )
    text = _text_field(gettext_lazy("Your question"))
    address = _address_field(
        required=False,
        label=gettext_lazy("Settlement or address (optional)"),
        help_text=gettext_lazy("Helps us send the question to the branch that serves you."),
    )

    def registration(self, place: Place) -> dict[str, Any]:
        kwargs = super().registration(place)
        kwargs["topic"] = self.cleaned_data["topic_choice"]
        return kwargs


APPEAL_KINDS = [
    (t.value, t.label)
    for t in (
        AppealType.COMPLAINT,
        AppealType.APPLICATION,
        AppealType.REPORT,
        AppealType.SUGGESTION,
        AppealType.FEEDBACK,
        AppealType.INFO_REQUEST,
    )
]


class AppealForm(ReceptionForm):
    slug = "appeal"
    title = gettext_lazy("Send an appeal")
    intro = gettext_lazy(
        "A complaint, an application, a suggestion or a thank-you: it is registered at once, and you get "
        "its number and the date by which we answer."
    )
    with_files = True
    error_fields: ClassVar[dict[str, str]] = {"violation_place": "address"}
    submit_label = gettext_lazy("Send the appeal")
    assisted = "topic"

    kind_choice = forms.ChoiceField(label=gettext_lazy("Type of appeal"), choices=APPEAL_KINDS)
    topic_choice = forms.ChoiceField(label=gettext_lazy("Topic"), choices=Topic.choices, initial=Topic.OTHER)
    text = _text_field(gettext_lazy("Your appeal"), rows=8)
    address = _address_field(
        required=False,
        help_text=gettext_lazy(
            "The address your appeal is about (for a complaint about power supply: where it happened)."
        ),
    )
    contract_number = forms.CharField(
        label=gettext_lazy("Contract or account number"), required=False, max_length=50
    )
    violation_at = _when_field(gettext_lazy("When it happened"), required=False)
    demand = forms.CharField(
        label=gettext_lazy("What you ask us to do"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    complaint_names = ("contract_number", "violation_at", "demand")

    def subject_fields(self) -> list[forms.BoundField]:
        return [f for f in super().subject_fields() if f.name not in self.complaint_names]

    def complaint_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.complaint_names]

    def registration(self, place: Place) -> dict[str, Any]:
        kwargs = super().registration(place)
        data = self.cleaned_data
        kwargs["kind"] = data["kind_choice"]
        kwargs["topic"] = data["topic_choice"]
        if kwargs["kind"] == AppealType.COMPLAINT and kwargs["topic"] in RELIABILITY_TOPICS:
            kwargs.update(
                contract_number=data.get("contract_number") or "",
                violation_place=self.address_text(),
                violation_at=self.local_time(data.get("violation_at"), place, "violation_at"),
                demand=(data.get("demand") or "").strip(),
            )
        else:
            with translation.override(settings.LANGUAGE_CODE):
                extra = _lines(
                    (_("Contract or account number"), data.get("contract_number")),
                    (_("What the customer asks"), (data.get("demand") or "").strip()),
                )
            if extra:
                kwargs["text"] = f"{kwargs['text']}\n\n{extra}"
        return kwargs


# ---------------------------------------------------------------- power quality, theft, no power


class QualityProblem:
    VOLTAGE_LOW = "voltage_low"
    VOLTAGE_HIGH = "voltage_high"
    FLICKER = "flicker"
    INTERRUPTIONS = "interruptions"

    choices: ClassVar[list[tuple[str, Any]]] = [
        (VOLTAGE_LOW, gettext_lazy("Voltage too low (lamps dim, appliances do not start)")),
        (VOLTAGE_HIGH, gettext_lazy("Voltage too high (appliances fail, lamps burn out)")),
        (FLICKER, gettext_lazy("Flicker (lights blink)")),
        (INTERRUPTIONS, gettext_lazy("Short interruptions of supply")),
    ]


class QualityComplaintForm(ReceptionForm):
    slug = "quality_complaint"
    title = gettext_lazy("Complaint about the quality of power")
    intro = gettext_lazy(
        "Voltage too low or too high, flicker, short interruptions: tell us where and when. The rules of "
        "the retail electricity market require the contract or account number, the address of the "
        "appliance, the time and what you ask us to do."
    )
    kind = AppealType.COMPLAINT
    topic = Topic.POWER_QUALITY
    with_files = True
    error_fields: ClassVar[dict[str, str]] = {"violation_place": "address", "text": "problem"}
    submit_label = gettext_lazy("Send the complaint")

    address = _address_field(
        help_text=gettext_lazy("Where the appliance is: settlement, street, house, flat.")
    )
    problem = forms.ChoiceField(
        label=gettext_lazy("What is wrong"), choices=QualityProblem.choices, widget=forms.RadioSelect
    )
    violation_at = _when_field(gettext_lazy("When it happened (or started)"), required=True)
    ongoing = forms.BooleanField(label=gettext_lazy("It is still happening"), required=False)
    contract_number = forms.CharField(
        label=gettext_lazy("Contract or account number"),
        max_length=50,
        help_text=gettext_lazy("As printed on your bill or contract."),
    )
    text = _text_field(gettext_lazy("Describe the problem (optional)"), required=False, rows=4)
    demand = forms.CharField(
        label=gettext_lazy("What you ask us to do"),
        max_length=2000,
        initial="",
        help_text=gettext_lazy("For example: check the voltage at my house and restore its quality."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def build_text(self) -> str:
        data = self.cleaned_data
        problem = dict(QualityProblem.choices).get(data.get("problem", ""), "")
        lines = [
            _lines(
                (_("Problem"), problem),
                (_("Still happening"), _("yes") if data.get("ongoing") else _("no")),
            )
        ]
        if (data.get("text") or "").strip():
            lines.append(data["text"].strip())
        return "\n\n".join(lines)

    def registration(self, place: Place) -> dict[str, Any]:
        kwargs = super().registration(place)
        data = self.cleaned_data
        kwargs.update(
            contract_number=data["contract_number"].strip(),
            violation_place=self.address_text(),
            violation_at=self.local_time(data.get("violation_at"), place, "violation_at"),
            demand=data["demand"].strip(),
        )
        return kwargs


class TheftForm(ReceptionForm):
    slug = "theft"
    title = gettext_lazy("Report electricity theft")
    intro = gettext_lazy(
        "Illegal connections and tampered meters raise losses that everyone pays for. You may report "
        "anonymously: contacts are not required. If you leave them, we can tell you the result and, where "
        "the company pays a reward for a confirmed report, how to receive it."
    )
    kind = AppealType.REPORT
    topic = Topic.THEFT
    contacts_required = False
    with_files = True
    submit_label = gettext_lazy("Send the report")

    address = _address_field(help_text=gettext_lazy("Where the electricity is stolen."))
    text = _text_field(
        gettext_lazy("What you saw"),
        help_text=gettext_lazy("For example: a cable thrown over the line, a meter bypassed."),
    )
    seen_at = _when_field(gettext_lazy("When you saw it (optional)"), required=False)

    def registration(self, place: Place) -> dict[str, Any]:
        kwargs = super().registration(place)
        seen = self.local_time(self.cleaned_data.get("seen_at"), place, "seen_at")
        if seen is not None:
            with translation.override(settings.LANGUAGE_CODE):
                kwargs["text"] += "\n\n" + _lines((_("Seen at"), f"{seen:%d.%m.%Y %H:%M}"))
        return kwargs


class NoPowerForm(ReceptionForm):
    slug = "no_power"
    title = gettext_lazy("Report no power at an address")
    intro = gettext_lazy(
        "Check your address first: if an outage there is already known, you see when power is expected "
        "back. Your report helps the dispatcher find a fault that is not known yet."
    )
    kind = AppealType.REPORT
    topic = Topic.OUTAGE
    submit_label = gettext_lazy("Report no power")

    address = _address_field()
    building = forms.TypedChoiceField(
        label=gettext_lazy("Which building?"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("Several buildings match the address: choose yours."),
    )
    text = _text_field(
        gettext_lazy("Details (optional)"),
        required=False,
        rows=3,
        help_text=gettext_lazy("For example: the whole street is dark; sparks on the pole."),
    )

    def __init__(self, *args: Any, candidates: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = candidates or []
        self.fields["building"].choices = [(str(pk), text) for pk, text in self.candidates]  # type: ignore[attr-defined]
        if not self.candidates:
            self.fields["building"].widget = forms.HiddenInput()

    def subject_fields(self) -> list[forms.BoundField]:
        return [f for f in super().subject_fields() if f.name != "building" or self.candidates]

    def build_text(self) -> str:
        details = (self.cleaned_data.get("text") or "").strip()
        head = _("No power at %(address)s.") % {"address": self.address_text()}
        return f"{head}\n\n{details}" if details else head


# ---------------------------------------------------------------- grid connection and metering

VOLTAGES_INDIVIDUAL = [("0.23", gettext_lazy("0.23 kV (single phase)")), ("0.4", gettext_lazy("0.4 kV"))]
VOLTAGES_LEGAL = [
    *VOLTAGES_INDIVIDUAL,
    ("6", gettext_lazy("6 kV")),
    ("10", gettext_lazy("10 kV")),
    ("20", gettext_lazy("20 kV")),
    ("35", gettext_lazy("35 kV")),
    ("110", gettext_lazy("110 kV")),
]
CATEGORIES = [
    ("III", gettext_lazy("III (one source of supply)")),
    ("II", gettext_lazy("II (two sources, interruption until switched by staff)")),
    ("I", gettext_lazy("I (two independent sources, automatic switch-over)")),
]
CONNECTION_REASONS = [
    ("new", gettext_lazy("New connection")),
    ("increase", gettext_lazy("Increase of the capacity connected before")),
    ("change", gettext_lazy("Change of the reliability category, connection points or type of activity")),
    ("temporary", gettext_lazy("Temporary connection (up to 12 months)")),
]
#: The household connection of an individual (the simplified procedure of the connection rules).
INDIVIDUAL_MAX_KW = Decimal("15")
LEGAL_MAX_KW = Decimal("100000")


def _capacity_field(max_kw: Decimal, help_text: Any) -> KilowattField:
    return KilowattField(
        label=gettext_lazy("Maximum capacity, kW"),
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=max_kw,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class _ConnectionForm(ReceptionForm):
    kind = AppealType.APPLICATION
    topic = Topic.GRID_CONNECTION
    with_files = True
    submit_label = gettext_lazy("Send the application")
    applicant: ClassVar[Any] = ""

    def connection_lines(self) -> list[tuple[Any, Any]]:
        data = self.cleaned_data
        voltages = dict(VOLTAGES_LEGAL)
        return [
            (_("Reason"), dict(CONNECTION_REASONS).get(data.get("reason", ""), "")),
            (_("Address of the connected installation"), self.address_text()),
            (_("Cadastral number of the land plot"), data.get("cadastral_number")),
            (_("Maximum capacity, kW"), data.get("capacity")),
            (_("Voltage"), voltages.get(data.get("voltage", ""), "")),
            (_("Reliability category"), data.get("category")),
        ]

    def build_text(self) -> str:
        head = _("Application for grid connection (%(who)s).") % {"who": self.applicant}
        body = _lines(*self.connection_lines())
        comment = (self.cleaned_data.get("text") or "").strip()
        return "\n\n".join(p for p in (head, body, comment) if p)


class ConnectionIndividualForm(_ConnectionForm):
    slug = "connection_individual"
    title = gettext_lazy("Grid connection: application of an individual")
    intro = gettext_lazy(
        "For a house, a cottage or a garage of an individual, up to 15 kW for household use. Attach the "
        "plan of the installation and the documents on the land plot or building."
    )
    applicant = gettext_lazy("individual")

    reason = forms.ChoiceField(label=gettext_lazy("What you apply for"), choices=CONNECTION_REASONS)
    address = _address_field(label=gettext_lazy("Address of the installation to connect"))
    cadastral_number = forms.CharField(
        label=gettext_lazy("Cadastral number of the land plot (optional)"), required=False, max_length=40
    )
    capacity = _capacity_field(
        INDIVIDUAL_MAX_KW,
        gettext_lazy("Up to 15 kW; for more, apply with the form for legal entities and entrepreneurs."),
    )
    voltage = forms.ChoiceField(label=gettext_lazy("Voltage"), choices=VOLTAGES_INDIVIDUAL, initial="0.4")
    category = forms.ChoiceField(
        label=gettext_lazy("Reliability category"), choices=CATEGORIES[:2], initial="III"
    )
    inn = forms.CharField(label=gettext_lazy("INN (optional)"), required=False, max_length=12)
    text = _text_field(gettext_lazy("Comment (optional)"), required=False, rows=3)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_name"].label = gettext_lazy("Full name of the applicant")
        self.fields["capacity"].error_messages["max_value"] = _(
            "An individual's household connection is up to 15 kW; for more, use the form for legal "
            "entities and entrepreneurs."
        )

    def clean_inn(self) -> str:
        value = self.cleaned_data.get("inn", "").strip()
        if value and not (len(value) == 12 and is_valid_inn(value)):
            raise ValidationError(_("An individual's INN has 12 digits with valid check digits."))
        return value

    def connection_lines(self) -> list[tuple[Any, Any]]:
        return [*super().connection_lines(), (_("INN"), self.cleaned_data.get("inn"))]


class ConnectionLegalForm(_ConnectionForm):
    slug = "connection_legal"
    title = gettext_lazy("Grid connection: application of a legal entity or an entrepreneur")
    intro = gettext_lazy(
        "For the installations of an organisation or a sole proprietor. Attach the plan of the "
        "installation, the documents on the land plot or building and the list of the installations."
    )
    applicant = gettext_lazy("legal entity or entrepreneur")

    organisation = forms.CharField(
        label=gettext_lazy("Organisation or entrepreneur"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    inn = forms.CharField(
        label=gettext_lazy("INN"),
        max_length=12,
        help_text=gettext_lazy("10 digits, or 12 for an entrepreneur."),
    )
    ogrn = forms.CharField(
        label=gettext_lazy("OGRN or OGRNIP"),
        max_length=15,
        help_text=gettext_lazy("13 digits, or 15 for an entrepreneur."),
    )
    reason = forms.ChoiceField(label=gettext_lazy("What you apply for"), choices=CONNECTION_REASONS)
    address = _address_field(label=gettext_lazy("Address of the installation to connect"))
    cadastral_number = forms.CharField(
        label=gettext_lazy("Cadastral number of the land plot (optional)"), required=False, max_length=40
    )
    capacity = _capacity_field(LEGAL_MAX_KW, "")
    voltage = forms.ChoiceField(label=gettext_lazy("Voltage"), choices=VOLTAGES_LEGAL, initial="0.4")
    category = forms.ChoiceField(
        label=gettext_lazy("Reliability category"), choices=CATEGORIES, initial="III"
    )
    text = _text_field(gettext_lazy("Comment (optional)"), required=False, rows=3)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_name"].label = gettext_lazy("Contact person")

    def clean_inn(self) -> str:
        value = self.cleaned_data.get("inn", "").strip()
        if not is_valid_inn(value):
            raise ValidationError(_("This INN is not valid: check the digits."))
        return value

    def clean_ogrn(self) -> str:
        value = self.cleaned_data.get("ogrn", "").strip()
        if not is_valid_ogrn(value):
            raise ValidationError(_("This OGRN is not valid: check the digits."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        inn, ogrn = data.get("inn"), data.get("ogrn")
        if inn and ogrn and (len(inn) == 10) != (len(ogrn) == 13):
            self.add_error(
                "ogrn",
                _(
                    "An organisation has a 10-digit INN and a 13-digit OGRN; an entrepreneur 12 and 15 digits."
                ),
            )
        return data

    def connection_lines(self) -> list[tuple[Any, Any]]:
        data = self.cleaned_data
        return [
            (_("Applicant"), data.get("organisation")),
            (_("INN"), data.get("inn")),
            (_("OGRN"), data.get("ogrn")),
            *super().connection_lines(),
        ]


METERING_SERVICES = [
    ("install", gettext_lazy("Install a meter")),
    ("replace", gettext_lazy("Replace a meter")),
    ("check", gettext_lazy("Check a meter (inspection, sealing)")),
]


class MeteringForm(ReceptionForm):
    slug = "metering"
    title = gettext_lazy("Metering services")
    intro = gettext_lazy("Installation, replacement or check of an electricity meter at your address.")
    kind = AppealType.APPLICATION
    topic = Topic.METERING
    submit_label = gettext_lazy("Send the application")

    service = forms.ChoiceField(
        label=gettext_lazy("Service"), choices=METERING_SERVICES, widget=forms.RadioSelect
    )
    address = _address_field(label=gettext_lazy("Address of the meter"))
    account_number = forms.CharField(
        label=gettext_lazy("Account number (optional)"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("10 digits, as printed on your bill."),
    )
    meter_serial = forms.CharField(
        label=gettext_lazy("Serial number of the meter (optional)"), required=False, max_length=40
    )
    text = _text_field(gettext_lazy("Comment (optional)"), required=False, rows=3)

    def clean_account_number(self) -> str:
        value = (self.cleaned_data.get("account_number") or "").replace(" ", "").replace("-", "")
        if value and not is_valid_account_number(value):
            raise ValidationError(_("An account number has 10 digits; check the number on your bill."))
        return value

    def build_text(self) -> str:
        data = self.cleaned_data
        body = _lines(
            (_("Service"), dict(METERING_SERVICES).get(data.get("service", ""), "")),
            (_("Address"), self.address_text()),
            (_("Account number"), data.get("account_number")),
            (_("Meter serial number"), data.get("meter_serial")),
        )
        comment = (data.get("text") or "").strip()
        return f"{body}\n\n{comment}" if comment else body

    def registration(self, place: Place) -> dict[str, Any]:
        kwargs = super().registration(place)
        # Stored as typed, never looked up: a public form must not tie an appeal to someone's account.
        kwargs["contract_number"] = self.cleaned_data.get("account_number") or ""
        return kwargs


REISSUE_DOCUMENTS = [
    ("act", gettext_lazy("Act of grid connection")),
    ("specs", gettext_lazy("Technical specifications")),
    ("delimitation", gettext_lazy("Act of delimitation of balance ownership")),
    ("other", gettext_lazy("Other connection document")),
]
REISSUE_REASONS = [
    ("owner", gettext_lazy("Change of the owner of the installation")),
    ("lost", gettext_lazy("The documents are lost")),
    ("data", gettext_lazy("Change of the applicant's name or details")),
    ("redistribution", gettext_lazy("Redistribution of capacity")),
]


class ReissueForm(ReceptionForm):
    slug = "reissue"
    title = gettext_lazy("Re-issue of connection documents")
    intro = gettext_lazy(
        "New copies of the documents on grid connection for a new owner, after a loss or a change of "
        "details. Attach the documents that prove the ownership or the change."
    )
    kind = AppealType.APPLICATION
    topic = Topic.GRID_CONNECTION
    with_files = True
    submit_label = gettext_lazy("Send the application")

    document = forms.ChoiceField(label=gettext_lazy("Document"), choices=REISSUE_DOCUMENTS)
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=REISSUE_REASONS)
    address = _address_field(label=gettext_lazy("Address of the connected installation"))
    text = _text_field(gettext_lazy("Comment (optional)"), required=False, rows=3)

    def build_text(self) -> str:
        data = self.cleaned_data
        head = _("Application for re-issue of connection documents.")
        body = _lines(
            (_("Document"), dict(REISSUE_DOCUMENTS).get(data.get("document", ""), "")),
            (_("Reason"), dict(REISSUE_REASONS).get(data.get("reason", ""), "")),
            (_("Address of the connected installation"), self.address_text()),
        )
        comment = (data.get("text") or "").strip()
        return "\n\n".join(p for p in (head, body, comment) if p)


FORMS: dict[str, type[ReceptionForm]] = {
    f.slug: f
    for f in (
        QuestionForm,
        AppealForm,
        QualityComplaintForm,
        TheftForm,
        NoPowerForm,
        ConnectionIndividualForm,
        ConnectionLegalForm,
        MeteringForm,
        ReissueForm,
    )
}
