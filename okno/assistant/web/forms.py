"""Forms of the chat pages: what a customer types, what an operator answers."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

#: The longest text taken from one message; the engine answers texts over its own limit itself.
MAX_INPUT = 10_000


class MessageForm(forms.Form):
    """A customer's message (a choice button sends its value in the same field)."""

    text = forms.CharField(
        label=_("Your message"),
        required=False,
        strip=False,
        max_length=MAX_INPUT,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )


class ReplyForm(forms.Form):
    """An operator's answer in the staff inbox."""

    text = forms.CharField(
        label=_("Answer"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
