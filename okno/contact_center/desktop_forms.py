"""Forms of the agent desktop. They parse and validate only; the views hand the values to the engine
(:mod:`okno.contact_center.engine`) and to :func:`okno.appeals.actions.register_appeal`.

The appeal form is the operators' quick-registration form (:class:`okno.appeals.forms.RegisterForm`)
with the channel fixed to the contact centre and the call it belongs to carried along.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from okno.appeals.choices import Channel
from okno.appeals.forms import RegisterForm
from okno.appeals.models import Appeal
from okno.contact_center.choices import AgentState
from okno.contact_center.models import Call, WrapUpCode

# The states an agent chooses for themselves; "on a call" and "wrap-up" are the engine's to set.
CHOOSABLE_STATES = (AgentState.AVAILABLE, AgentState.BREAK, AgentState.OFFLINE)


class AgentStateForm(forms.Form):
    state = forms.ChoiceField(label=_("My state"), choices=[(s.value, s.label) for s in CHOOSABLE_STATES])


class DesktopRegisterForm(RegisterForm):
    """Quick registration during a call: always the contact-centre channel, tied to the agent's call."""

    call = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, call: Call | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["channel"].widget = forms.HiddenInput()
        self.fields["channel"].required = False
        if not self.is_bound:
            self.initial["channel"] = Channel.CONTACT_CENTER
            if call is not None:
                self.initial["call"] = call.uid
                self.initial.setdefault("contact_phone", call.caller)

    def clean_channel(self) -> str:
        return Channel.CONTACT_CENTER


def appeals_of_call(call: Call, user: Any) -> QuerySet[Appeal]:
    """The contact-centre appeals the agent registered since the call was answered, latest first."""
    since = call.answered_at or call.started_at
    return Appeal.objects.filter(
        registered_by=user, channel=Channel.CONTACT_CENTER, registered_at__gte=since
    ).order_by("-registered_at", "-id")


class AppealChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.number} — {obj.get_topic_display()}"


class WrapUpForm(forms.Form):
    """The wrap-up code of the call and, when several appeals were registered during it, which one the
    call is linked to (by default the latest)."""

    code = forms.ModelChoiceField(
        label=_("Wrap-up code"),
        queryset=WrapUpCode.objects.none(),
        to_field_name="code",
        empty_label=None,
    )
    appeal = AppealChoiceField(
        label=_("Appeal registered during the call"),
        queryset=Appeal.objects.none(),
        required=False,
        empty_label=None,
    )

    def __init__(self, *args: Any, call: Call, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call = call
        code_field = self.fields["code"]
        assert isinstance(code_field, forms.ModelChoiceField)
        code_field.queryset = WrapUpCode.objects.filter(is_active=True)
        appeal_field = self.fields["appeal"]
        assert isinstance(appeal_field, forms.ModelChoiceField)
        self.appeals = list(appeals_of_call(call, user)[:20])
        appeal_field.queryset = appeals_of_call(call, user)
        if self.appeals and not self.is_bound:
            self.initial["appeal"] = self.appeals[0].pk
        if call.appeal_id is not None and not self.is_bound:
            self.initial["appeal"] = call.appeal_id

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("appeal") is None and self.appeals:
            data["appeal"] = self.appeals[0]  # an appeal registered during the call belongs to it
        return data
