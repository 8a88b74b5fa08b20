"""The public "Есть свет!" form: subscribe a building to outage notices, without an account or JavaScript.

The form goes through the same validation, rate limit and double opt-in as the public API
(``POST /api/v1/notify/subscribe/``): an e-mail subscriber confirms by the link sent to them, an SMS
subscriber types the code sent to the phone on the confirmation page this form leads to.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from okno.customers.models import Address
from okno.notify import actions
from okno.notify.api.serializers import PublicSubscribeSerializer
from okno.notify.api.views import over_rate
from okno.notify.choices import Source

FIELDS = ("settlement", "street", "house", "email", "phone", "language")


def _settlements() -> list[str]:
    return list(Address.objects.order_by("settlement").values_list("settlement", flat=True).distinct()[:500])


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    form: dict[str, Any] = {k: request.POST.get(k, "").strip() for k in FIELDS}
    form["consent"] = request.POST.get("consent") == "1"
    errors: dict[str, list[str]] = {}
    suggestions: list[str] = []
    sent_to = ""
    if request.method == "POST":
        if request.POST.get("website"):  # the honeypot: people leave it empty, bots fill it in
            return render(request, "outages/public/subscribe.html", {"form": {}, "sent_to": "email"})
        if over_rate(request):  # type: ignore[arg-type]
            errors["general"] = [_("Too many subscriptions from this address; try later.")]
        else:
            data = {k: v for k, v in form.items() if v not in ("", None)}
            data["consent"] = form["consent"]
            body = PublicSubscribeSerializer(data=data)
            if not body.is_valid():
                errors = {
                    ("general" if k == "non_field_errors" else k): [str(m) for m in v]
                    for k, v in body.errors.items()
                }
            else:
                valid = body.validated_data
                address = actions.find_building(valid["settlement"], valid.get("street", ""), valid["house"])
                if address is None:
                    errors["house"] = [_("We do not know this building. Check the address.")]
                    suggestions = actions.suggest_buildings(valid["settlement"], valid.get("street", ""))
                else:
                    contacts = {k: valid[k] for k in ("email", "phone", "language") if valid.get(k)}
                    sub = actions.subscribe(actor=None, source=Source.PUBLIC, address=address, **contacts)
                    if sub.email:
                        sent_to = "email"
                    else:
                        return redirect("notify:confirm", token=sub.token)
    return render(
        request,
        "outages/public/subscribe.html",
        {
            "form": form,
            "errors": errors,
            "suggestions": suggestions,
            "sent_to": sent_to,
            "settlements": _settlements(),
        },
        status=400 if errors else 200,
    )
