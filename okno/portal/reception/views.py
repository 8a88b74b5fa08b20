"""The internet reception's pages: the index of forms, one view per form, and the "registered" page.

A POST goes: honeypot (a filled ``website`` field: pretend success, save nothing) → the form's checks
(errors next to the fields, 400, values kept) → the rate limit per IP address across all forms
(:data:`LIMIT` registrations per hour, 429) → the address resolved (:mod:`.places`) → registration
(:mod:`.registration`) → a redirect to ``done/<token>/``. The token is a signed, time-limited value
(:mod:`django.core.signing`) naming the appeal, so the page cannot be reached by counting ids.

"Report no power" also has a *Check the address* button: it shows, without registering anything, whether
an outage is known there and when power is expected back (the lookup of the outage page).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from okno.appeals.models import Appeal
from okno.outages.lookup import AMBIGUOUS, NOT_FOUND, LookupResult
from okno.outages.models import Outage
from okno.portal import abuse
from okno.portal.reception import forms as reception_forms
from okno.portal.reception.places import Place, resolve
from okno.portal.reception.registration import BadFile, register
from okno.portal.reception.uploads import limit_uploads, over_quota

THROTTLE_SCOPE = "reception"
#: Address look-ups (and reports) on the "no power" form one IP address may make an hour.
CHECK_LIMIT = 120
#: Registrations one IP address may make per window, across all forms (``OKNO_RECEPTION_LIMIT``).
LIMIT = 10
WINDOW_S = 3600
DONE_SALT = "okno.portal.reception.done"
#: How long the "registered" page can be opened again from its link.
DONE_MAX_AGE_S = 7 * 24 * 3600
TEMPLATE = "portal/reception/form.html"
#: What a form's fields may add to its files in a request body (the text is at most 10,000 characters).
BODY_ALLOWANCE = 1024 * 1024


def limit() -> int:
    return int(getattr(settings, "OKNO_RECEPTION_LIMIT", LIMIT))


def done_token(appeal: Appeal) -> str:
    return signing.dumps({"a": appeal.pk}, salt=DONE_SALT, compress=True)


def _appeal_of(token: str) -> Appeal:
    try:
        data = signing.loads(token, salt=DONE_SALT, max_age=DONE_MAX_AGE_S)
    except signing.BadSignature:  # also SignatureExpired
        raise Http404 from None
    pk = data.get("a") if isinstance(data, dict) else None
    appeal = Appeal.objects.select_related("branch").filter(pk=pk).first() if isinstance(pk, int) else None
    if appeal is None:
        raise Http404
    return appeal


# ---------------------------------------------------------------- pages


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    groups = [
        (_("Questions and appeals"), ["question", "appeal"]),
        (_("Power supply"), ["no_power", "quality_complaint", "theft"]),
        (
            _("Grid connection and metering"),
            ["connection_individual", "connection_legal", "reissue", "metering"],
        ),
    ]
    rows = [(title, [(slug, reception_forms.FORMS[slug]) for slug in slugs]) for title, slugs in groups]
    return render(request, "portal/reception/index.html", {"groups": rows})


def too_large(request: HttpRequest) -> HttpResponse | None:
    """Refuse a request body far over the files' total limit before Django reads (and stores) it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= reception_forms.max_total_bytes() + BODY_ALLOWANCE:
        return None
    return _too_large_page(request)


def _too_large_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/reception/too_large.html",
        {"mb": reception_forms.max_total_bytes() // (1024 * 1024)},
        status=413,
    )


def _received(request: HttpRequest) -> HttpResponse:
    """What a bot that filled in the honeypot sees: a thank-you, and nothing is saved."""
    return render(request, "portal/reception/received.html", {})


def _throttled(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/reception/throttled.html",
        {"limit": limit(), "window_min": WINDOW_S // 60},
        status=429,
    )


def _apply_errors(form: reception_forms.ReceptionForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        name = form.error_fields.get(field, field)
        form.add_error(name if name in form.fields else None, messages)


def _register(
    request: HttpRequest,
    form: reception_forms.ReceptionForm,
    place: Place,
    template: str = TEMPLATE,
    **extra: Any,
) -> HttpResponse:
    """The rate limit, then registration; a redirect to the done page or the form again with errors."""
    if abuse.ip_over_limit(request, THROTTLE_SCOPE, limit=limit(), window_s=WINDOW_S):
        return _throttled(request)
    try:
        appeal = register(form, place)
    except BadFile as bad:
        for message in bad.error.messages:
            form.add_error("attachments", f"{bad.name}: {message}")
    except ValidationError as exc:
        _apply_errors(form, exc)
    else:
        return redirect("reception:done", token=done_token(appeal))
    return render(
        request,
        template,
        {"form": form, "honeypot": abuse.HONEYPOT_FIELD, **extra},
        status=400,
    )


def form_view(form_class: type[reception_forms.ReceptionForm]) -> Any:
    """The view of one reception form."""

    @csrf_protect
    def checked(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return render(request, TEMPLATE, {"form": form_class(), "honeypot": abuse.HONEYPOT_FIELD})
        if abuse.is_bot(request):
            return _received(request)
        if over_quota(request):
            return _too_large_page(request)
        form = form_class(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, TEMPLATE, {"form": form, "honeypot": abuse.HONEYPOT_FIELD}, status=400)
        return _register(request, form, resolve(form.address_text()))

    @csrf_exempt  # the upload quota must be set before the CSRF check reads the body; checked() checks
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            if (refused := too_large(request)) is not None:
                return refused
            limit_uploads(request, reception_forms.max_total_bytes())
        return checked(request)

    view.__name__ = form_class.slug
    view.__doc__ = f"{form_class.__name__}: {form_class.kind} / {form_class.topic}."
    return view


# ---------------------------------------------------------------- no power


def outage_rows(result: LookupResult | None) -> list[dict[str, Any]]:
    """The outages a lookup found, with times in their branch's zone (public data only)."""
    if result is None:
        return []
    numbers = {o.number for o in result.outages}
    tzs = {o.number: o.branch.tz for o in Outage.objects.filter(number__in=numbers).select_related("branch")}
    rows = []
    for info in result.outages:
        tz = tzs.get(info.number) or timezone.get_current_timezone()
        rows.append(
            {
                "info": info,
                "started": timezone.localtime(info.started_at, tz) if info.started_at else None,
                "etr": timezone.localtime(info.etr, tz) if info.etr else None,
                "planned_start": timezone.localtime(info.planned_start, tz) if info.planned_start else None,
                "planned_end": timezone.localtime(info.planned_end, tz) if info.planned_end else None,
                "zone": getattr(tz, "key", str(tz)),
            }
        )
    return rows


def _check_context(place: Place | None) -> dict[str, Any]:
    if place is None or place.lookup is None:
        return {"checked": False}
    result = place.lookup
    return {
        "checked": True,
        "check_status": result.status,
        "power_on": result.power_on,
        "outages": outage_rows(result),
        "suggestions": result.suggestions,
        "matches": [m.text for m in result.matches],
    }


NO_POWER_TEMPLATE = "portal/reception/no_power.html"


@require_http_methods(["GET", "POST"])
def no_power(request: HttpRequest) -> HttpResponse:
    """Check an address for a known outage, and report no power there."""
    form_class = reception_forms.NoPowerForm
    if request.method != "POST":
        return render(request, NO_POWER_TEMPLATE, {"form": form_class(), "honeypot": abuse.HONEYPOT_FIELD})
    if abuse.is_bot(request):
        return _received(request)
    # Each look-up reads the grid: a generous limit per IP keeps it from being a way to load the database.
    if abuse.ip_over_limit(request, "reception-check", limit=CHECK_LIMIT):
        return render(
            request, "portal/reception/throttled.html", {"limit": CHECK_LIMIT, "window_min": 60}, status=429
        )
    typed = request.POST.get("address", "").strip()[:400]
    chosen = request.POST.get("building", "")
    building = int(chosen) if chosen.isdigit() else None
    place = resolve(typed, address_id=building) if typed else None
    candidates = place.candidates if place is not None else []
    extra = _check_context(place)
    if request.POST.get("action") == "check":
        # Only look: keep what was typed, show no errors for the fields not filled in yet.
        form = form_class(initial=request.POST.dict(), candidates=candidates)
        return render(request, NO_POWER_TEMPLATE, {"form": form, "honeypot": abuse.HONEYPOT_FIELD, **extra})
    form = form_class(request.POST, candidates=candidates)
    if form.is_valid() and place is not None and place.lookup is not None:
        if place.lookup.status == AMBIGUOUS and place.address is None:
            form.add_error("building", _("Several buildings match this address: choose yours."))
        else:
            return _register(request, form, place, NO_POWER_TEMPLATE, **extra)
    return render(
        request, NO_POWER_TEMPLATE, {"form": form, "honeypot": abuse.HONEYPOT_FIELD, **extra}, status=400
    )


# ---------------------------------------------------------------- done


@never_cache
@require_safe
def done(request: HttpRequest, token: str) -> HttpResponse:
    """The registration number and the deadline of what was just registered (in the branch's zone)."""
    appeal = _appeal_of(token)
    tz = appeal.branch.tz
    outage = None
    if appeal.incident_id:
        found = Outage.objects.select_related("branch").filter(incident_id=appeal.incident_id).first()
        if found is not None:
            outage = {
                "number": found.number,
                "etr": timezone.localtime(found.etr, found.branch.tz) if found.etr else None,
                "zone": getattr(found.branch.tz, "key", str(found.branch.tz)),
                "reason": found.reason or found.get_cause_display(),
            }
    return render(
        request,
        "portal/reception/done.html",
        {
            "appeal": appeal,
            "registered": timezone.localtime(appeal.registered_at, tz),
            "deadline": timezone.localtime(appeal.deadline_at, tz),
            "zone": getattr(tz, "key", str(tz)),
            "outage": outage,
            "emailed": bool(appeal.contact_email),
            "not_found": NOT_FOUND,
        },
    )
