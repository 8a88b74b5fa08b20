"""Forms of the operator UI. They only parse and validate input; the views hand the values to actions."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from okno.appeals.choices import AnswerChannel, AppealType, CancelReason, Channel, Topic
from okno.appeals.deadlines import MAX_EXTENSION_DAYS
from okno.appeals.models import Answer, AnswerTemplate, Appeal
from okno.customers.models import Account, Address, Customer
from okno.org.choices import Role
from okno.org.models import Branch, Department, User

DATETIME_LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def departments_in_scope(user: Any) -> Any:
    return Department.objects.restrict(user, "view").select_related("branch")


def branches_in_scope(user: Any) -> Any:
    return Branch.objects.restrict(user, "view")


def _blank(choices: Any, label: str = "—") -> list[tuple[str, Any]]:
    return [("", label), *choices]


# ---------------------------------------------------------------- quick registration


class RegisterForm(forms.Form):
    """One screen for phone and office: who, what, and optionally the answer given during the call."""

    q = forms.CharField(required=False, widget=forms.HiddenInput)
    pick = forms.CharField(
        label=_("Customer"),
        required=False,
        help_text=_("Pick a customer and an account, or fill in the contact below."),
    )
    contact_name = forms.CharField(
        label=_("Name of the person (anonymous contact)"), required=False, max_length=300
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"), required=False, max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    kind = forms.ChoiceField(label=_("Type"), choices=AppealType.choices)
    topic = forms.ChoiceField(label=_("Topic"), choices=Topic.choices)
    text = forms.CharField(label=_("What the customer says"), widget=forms.Textarea(attrs={"rows": 5}))
    address_text = forms.CharField(label=_("Address (as given)"), required=False, max_length=400)
    address_id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    # The type and topic the assistant last filled in (views/register.py ``prefill``, appeals/suggest.js):
    # a value that differs from these and from the defaults was chosen by the operator and is kept.
    prefilled_kind = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)
    prefilled_topic = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)
    preferred_answer_channel = forms.ChoiceField(
        label=_("Answer wanted"),
        choices=_blank(AnswerChannel.choices, str(_("By the channel of the appeal"))),
        required=False,
    )
    contract_number = forms.CharField(label=_("Contract number"), required=False, max_length=50)
    violation_place = forms.CharField(
        label=_("Place of the violation (device address)"), required=False, max_length=400
    )
    violation_at = forms.DateTimeField(
        label=_("Time of the violation"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=DATETIME_LOCAL,
    )
    demand = forms.CharField(label=_("Demand"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    received_at = forms.DateTimeField(
        label=_("Received at (for letters and e-mails received earlier; empty means now)"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=DATETIME_LOCAL,
    )
    answered_now = forms.BooleanField(label=_("Answered during the call"), required=False)
    answer_text = forms.CharField(
        label=_("Answer given"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.customer: Customer | None = None
        self.account: Account | None = None
        self.address: Address | None = None
        if not self.is_bound:
            self.initial.setdefault(
                "channel", Channel.CONTACT_CENTER if user.all_branches else Channel.OFFICE
            )
            self.initial.setdefault("kind", AppealType.INFO_REQUEST)
            self.initial.setdefault("topic", Topic.OTHER)

    def clean_pick(self) -> str:
        value = (self.cleaned_data.get("pick") or "").strip()
        if not value:
            return ""
        kind, _sep, raw_id = value.partition(":")
        if not raw_id.isdigit() or kind not in ("account", "customer"):
            raise forms.ValidationError(_("Pick a customer from the list."))
        if kind == "account":
            self.account = (
                Account.objects.restrict(self.user, "view")
                .select_related("customer", "service_point__address")
                .filter(pk=int(raw_id))
                .first()
            )
            if self.account is None:
                raise forms.ValidationError(_("Pick a customer from the list."))
            self.customer = self.account.customer
        else:
            self.customer = Customer.objects.restrict(self.user, "view").filter(pk=int(raw_id)).first()
            if self.customer is None:
                raise forms.ValidationError(_("Pick a customer from the list."))
        return value

    def clean_address_id(self) -> int | None:
        value = self.cleaned_data.get("address_id")
        if value:
            self.address = Address.objects.filter(pk=value).first()
            if self.address is None:
                raise forms.ValidationError(_("The address chosen no longer exists; choose it again."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("answered_now") and not (data.get("answer_text") or "").strip():
            self.add_error("answer_text", _("Write the answer given during the call."))
        if self.address is not None and (data.get("address_text") or "").strip() != self.address.short():
            self.address = None  # the operator typed another address after it was suggested
        return data

    def action_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "channel": d["channel"],
            "kind": d["kind"],
            "topic": d["topic"],
            "text": d["text"],
            "customer": self.customer,
            "account": self.account,
            "address": self.address,
            "address_text": d.get("address_text") or "",
            "contact_name": d.get("contact_name") or "",
            "contact_phone": d.get("contact_phone") or "",
            "contact_email": d.get("contact_email") or "",
            "preferred_answer_channel": d.get("preferred_answer_channel") or "",
            "contract_number": d.get("contract_number") or "",
            "violation_place": d.get("violation_place") or "",
            "violation_at": d.get("violation_at"),
            "demand": d.get("demand") or "",
            "received_at": d.get("received_at"),
        }


# ---------------------------------------------------------------- card actions


def _model_choice(form: forms.Form, name: str) -> forms.ModelChoiceField:
    return cast(forms.ModelChoiceField, form.fields[name])


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.short_name} — {obj.department.name}" if obj.department_id else obj.short_name


class AnswerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.outgoing_number} ({obj.get_channel_display()})"


class VersionedForm(forms.Form):
    """Every action form carries the version of the appeal the operator saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, appeal: Appeal, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", appeal.version)
        super().__init__(*args, **kwargs)
        self.appeal = appeal
        self.user = user


class AssignForm(VersionedForm):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    assignee = StaffChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    reason = forms.CharField(label=_("Comment"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = departments_in_scope(self.user)
        _model_choice(self, "department").queryset = departments
        _model_choice(self, "assignee").queryset = (
            User.objects.filter(
                is_active=True,
                is_system=False,
                department__in=departments,
                role__in=[Role.SPECIALIST, Role.HEAD_OF_DEPARTMENT],
            )
            .select_related("department")
            .order_by("last_name", "first_name")
        )
        self.initial.setdefault("department", self.appeal.department_id)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("department") and not data.get("assignee"):
            self.add_error("assignee", _("Choose a department or a person."))
        return data


class ReasonForm(VersionedForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class OptionalReasonForm(VersionedForm):
    reason = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(VersionedForm):
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=AnswerTemplate.objects.filter(active=True),
        required=False,
        widget=forms.HiddenInput,
    )
    text = forms.CharField(label=_("Answer text"), widget=forms.Textarea(attrs={"rows": 8}))
    channel = forms.ChoiceField(label=_("Answer channel"), choices=AnswerChannel.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("channel", self.appeal.preferred_answer_channel)


class DeliverForm(VersionedForm):
    answer = AnswerChoiceField(label=_("Answer"), queryset=Answer.objects.none())
    delivered_at = forms.DateTimeField(
        label=_("Delivered at"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=DATETIME_LOCAL,
        help_text=_("Leave empty for now."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pending = Answer.objects.filter(appeal=self.appeal, delivered_at__isnull=True).order_by("-created_at")
        _model_choice(self, "answer").queryset = pending
        first = pending.first()
        if first is not None:
            self.initial.setdefault("answer", first.pk)


class CancelForm(VersionedForm):
    code = forms.ChoiceField(label=_("Reason"), choices=CancelReason.choices)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    duplicate_number = forms.CharField(
        label=_("Number of the appeal it duplicates"), required=False, max_length=20
    )

    def clean_duplicate_number(self) -> Appeal | None:
        number = (self.cleaned_data.get("duplicate_number") or "").strip()
        if not number:
            return None
        from okno.appeals.queries import visible_appeals

        found = visible_appeals(self.user).filter(number=number).first()
        if found is None:
            raise forms.ValidationError(_("No appeal with number %(n)s.") % {"n": number})
        return found


class ExtendForm(VersionedForm):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=MAX_EXTENSION_DAYS)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class EscalateForm(VersionedForm):
    text = forms.CharField(label=_("What the customer contests"), widget=forms.Textarea(attrs={"rows": 3}))
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.OFFICE)


class RateForm(VersionedForm):
    score = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReclassifyForm(VersionedForm):
    """Confirm or change the type and topic (pre-filled with the assistant's suggestion while the
    appeal waits for it), and link the account named in the text."""

    kind = forms.ChoiceField(label=_("Type"), choices=AppealType.choices)
    topic = forms.ChoiceField(label=_("Topic"), choices=Topic.choices)
    link_account = forms.BooleanField(label=_("Link the account named in the text"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        a = self.appeal
        waiting = a.awaits_classification
        self.initial.setdefault("kind", a.suggested_kind if waiting and a.suggested_kind else a.kind)
        self.initial.setdefault("topic", a.suggested_topic if waiting and a.suggested_topic else a.topic)
        in_scope = (
            a.suggested_account_id is not None
            and a.account_id is None
            and Account.objects.restrict(self.user, "view").filter(pk=a.suggested_account_id).exists()
        )
        if not in_scope:  # nothing to link, or an account the operator may not see: no offer
            del self.fields["link_account"]
        else:
            account = a.suggested_account
            self.fields["link_account"].label = _("Link account %(n)s named in the text") % {
                "n": account.number if account else ""
            }


class CommentForm(VersionedForm):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


class AttachmentForm(VersionedForm):
    file = forms.FileField(label=_("File"))
