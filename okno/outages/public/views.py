"""Public pages: the outage list with its map and the "is there power at my address?" form, and the feeds.

No login: the project has no login-forcing middleware, so a view without ``@login_required`` is public.
These views read through :mod:`okno.outages.public.queries`, which never returns personal data, and they
never accept an account or a phone number (only an address) — anonymous callers must not learn whose
account is where.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.encoding import iri_to_uri
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from okno.org.models import Company
from okno.outages.choices import OutageKind
from okno.outages.models import Outage
from okno.outages.public import mapdata, mapsvg, queries
from okno.outages.public.queries import PublicOutage

PER_PAGE = 25
FEED_MAX_AGE = 60
FEED_SCHEMA = "okno.outages.public/1"


class FilterForm(forms.Form):
    """The GET filter of the page: settlement and the days of planned works (and the branch mapped)."""

    settlement = forms.CharField(label=gettext_lazy("Settlement"), required=False, max_length=100)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    branch = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("The end date is before the start date."))
        elif first and last and (last - first).days > queries.MAX_RANGE_DAYS:
            self.add_error(
                "date_to",
                _("Choose at most %(days)d days.") % {"days": queries.MAX_RANGE_DAYS},
            )
        return data


class LookupForm(forms.Form):
    address = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Settlement, street and house, for example: Северск, ул. Ленина, 10"),
    )


def _lookup(address: str) -> dict[str, Any]:
    """Ask the shared lookup (the same answer the IVR and the API give) — by address only."""
    from okno.outages.lookup import power_at  # one lookup for every channel (okno/outages/lookup.py)

    result = power_at(address=address)
    numbers = {o.number for o in result.outages}
    tzs = {o.number: o.branch.tz for o in Outage.objects.filter(number__in=numbers).select_related("branch")}
    answers = []
    for answer in result.answers:
        rows = []
        for info in answer.outages:
            tz = tzs.get(info.number) or timezone.get_current_timezone()
            rows.append(
                {
                    "number": info.number,
                    "anchor": queries.anchor_of(info.number),
                    "kind": info.kind,
                    "off_now": info.off_now,
                    "partially_restored": info.partially_restored,
                    "kind_label": OutageKind(info.kind).label
                    if info.kind in OutageKind.values
                    else info.kind,
                    "started": queries.local(info.started_at, tz),
                    "etr": queries.local(info.etr, tz),
                    "planned_start": queries.local(info.planned_start, tz),
                    "planned_end": queries.local(info.planned_end, tz),
                    "zone": queries.utc_offset(tz, timezone.now()) + ", " + getattr(tz, "key", str(tz)),
                    "reason": info.reason,
                }
            )
        answers.append({"text": answer.match.text, "power_on": answer.power_on, "outages": rows})
    return {"status": result.status, "answers": answers, "suggestions": result.suggestions}


def _map(shown: list[PublicOutage], wanted_branch: int | None) -> tuple[Any, Any, list[PublicOutage]]:
    """The SVG map of one branch, the branch, and the shown outages it could not place."""
    branch = mapdata.map_branch(shown, wanted_branch)
    if branch is None:
        return None, None, shown
    base = mapdata.map_base(branch)
    if base is None:
        return None, branch, shown
    markers: list[mapsvg.Marker] = []
    unplaced: list[PublicOutage] = []
    for o in shown:
        marker = mapdata.marker_of(o) if o.branch_id == branch.pk else None
        if marker is None:
            unplaced.append(o)
        else:
            markers.append(marker)
    unplanned = sum(1 for m in markers if m.kind == OutageKind.UNPLANNED)
    svg = mapsvg.render(
        base,
        markers,
        title=_("Map of outages: %(branch)s") % {"branch": branch.name},
        description=_(
            "The grid of %(branch)s. Unplanned outages (red circles): %(unplanned)d; planned works "
            "(amber diamonds): %(planned)d. The same outages are listed with their addresses below the map."
        )
        % {"unplanned": unplanned, "planned": len(markers) - unplanned, "branch": branch.name},
    )
    return svg, branch, unplaced


@require_safe
def outage_page(request: HttpRequest) -> HttpResponse:
    """Unplanned outages now, planned works by settlement and date, debt disconnections, map and lookup."""
    form = FilterForm(request.GET or None)
    data: dict[str, Any] = {}
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
        else:
            status = 400
    settlement = (data.get("settlement") or "").strip()
    today = timezone.localdate()
    date_from: dt.date = data.get("date_from") or today
    date_to: dt.date = data.get("date_to") or date_from + dt.timedelta(days=queries.DEFAULT_DAYS)

    all_unplanned = queries.unplanned_now()
    all_planned = queries.planned(date_from=date_from, date_to=date_to)
    options = queries.settlement_options(all_unplanned + all_planned)
    if settlement and settlement not in options:
        options.append(settlement)
    unplanned = [o for o in all_unplanned if o.in_settlement(settlement)] if settlement else all_unplanned
    planned = [o for o in all_planned if o.in_settlement(settlement)] if settlement else all_planned
    page_obj = Paginator(planned, PER_PAGE).get_page(request.GET.get("page"))
    shown = unplanned + list(page_obj.object_list)
    svg, map_branch, unplaced = _map(shown, data.get("branch"))

    lookup_form = LookupForm(request.GET if "address" in request.GET else None)
    lookup = None
    if lookup_form.is_bound and lookup_form.is_valid() and lookup_form.cleaned_data["address"]:
        lookup = _lookup(lookup_form.cleaned_data["address"])

    keep = {k: v for k, v in request.GET.items() if k != "page" and v}
    keep_but_branch = {k: v for k, v in keep.items() if k != "branch"}
    return render(
        request,
        "outages/public/page.html",
        {
            "form": form,
            "lookup_form": lookup_form,
            "lookup": lookup,
            "settlement": settlement,
            "settlements": options,
            "date_from": date_from,
            "date_to": date_to,
            "unplanned": unplanned,
            "planned": page_obj.object_list,
            "planned_total": len(planned),
            "page_obj": page_obj,
            "querystring_base": urlencode(keep) + "&" if keep else "",
            "branch_query_base": urlencode(keep_but_branch) + "&" if keep_but_branch else "",
            "debt": queries.debt_disconnections(date_from, date_to, settlement=settlement),
            "map_svg": svg,
            "map_branch": map_branch,
            "unplaced": unplaced,
            "other_branches": mapdata.mapped_branches(exclude=map_branch),
            "now": queries.local(timezone.now(), timezone.get_current_timezone()),
            "now_zone": queries.utc_offset(timezone.get_current_timezone(), timezone.now()),
            "feed_query": urlencode({"settlement": settlement}) if settlement else "",
        },
        status=status,
    )


# --- feeds --------------------------------------------------------------------------------------------


def _feed_filters(request: HttpRequest) -> tuple[str, str, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    settlement = request.GET.get("settlement", "").strip()
    kind = request.GET.get("kind", "").strip()
    if len(settlement) > 100:
        errors["settlement"] = [_("At most 100 characters.")]
    if kind and kind not in OutageKind.values:
        errors["kind"] = [_("Unknown kind; use one of: %(kinds)s.") % {"kinds": ", ".join(OutageKind.values)}]
    return settlement, kind, errors


def _cached(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
    return response


def outage_json(o: PublicOutage, page_url: str) -> dict[str, Any]:
    """One outage in the JSON feed (schema in docs/outages/public-page.md; add keys, never rename)."""
    return {
        "number": o.number,
        "kind": o.kind,
        "status": o.status,
        "off_now": o.is_off,
        "settlements": o.settlements,
        "addresses": [
            {
                "settlement": p.settlement,
                "streets": [{"street": s.name, "houses": list(s.houses), "text": s.text} for s in p.streets],
            }
            for p in o.places
        ],
        "start": o.start.iso if o.start else None,
        "end": o.planned_end.iso if o.planned_end else None,
        "etr": o.etr.iso if o.etr else None,
        "timezone": o.tz.key,
        "cause": o.cause,
        "cause_label": o.cause_label,
        "reason": o.reason,
        "branch": o.branch_name,
        "updated": o.updated.astimezone(o.tz).isoformat(),
        "url": iri_to_uri(f"{page_url}#{o.anchor}"),
    }


@require_safe
def feed_json(request: HttpRequest) -> HttpResponse:
    settlement, kind, errors = _feed_filters(request)
    if errors:
        body = {"type": "about:blank", "title": "Bad request", "status": 400, "errors": errors}
        return JsonResponse(body, status=400, content_type="application/problem+json")
    page_url = request.build_absolute_uri(reverse("outages_public:page"))
    outages = queries.feed_outages(settlement=settlement, kind=kind)
    body = {
        "schema": FEED_SCHEMA,
        "generated_at": timezone.now().isoformat(),
        "count": len(outages),
        "outages": [outage_json(o, page_url) for o in outages],
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
    )
    # Public data without cookies: any site may read it from a browser.
    response["Access-Control-Allow-Origin"] = "*"
    return _cached(response)


def _item_description(o: PublicOutage) -> str:
    lines = [f"{o.kind_label} · {o.status_label}"]
    if o.kind == OutageKind.PLANNED and o.planned_start:
        end = o.planned_end.text if o.planned_end else "…"
        lines.append(
            _("Works: %(start)s – %(end)s (%(zone)s)")
            % {"start": o.planned_start.text, "end": end, "zone": o.zone_label}
        )
    elif o.start:
        lines.append(_("No power since %(start)s (%(zone)s)") % {"start": o.start.text, "zone": o.zone_label})
    if o.etr and o.is_off:
        lines.append(_("Estimated restoration: %(etr)s") % {"etr": o.etr.text})
    lines.append(_("Cause: %(cause)s") % {"cause": o.reason or o.cause_label})
    for p in o.places:
        streets = "; ".join(s.text for s in p.streets)
        lines.append(f"{p.settlement}: {streets}" if streets else p.settlement)
    return "\n".join(lines)


@require_safe
def feed_rss(request: HttpRequest) -> HttpResponse:
    """RSS 2.0, one item per outage (guid = its number), in Russian unless ``?lang=en``."""
    settlement, kind, errors = _feed_filters(request)
    if errors:
        text = "\n".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    lang = request.GET.get("lang", "ru")
    lang = lang if lang in ("ru", "en") else "ru"
    page_url = request.build_absolute_uri(reverse("outages_public:page"))
    company = Company.objects.order_by("pk").first()
    company_name = (company.short_name or company.name) if company else settings.OKNO_COMPANY_NAME
    with translation.override(lang):
        outages = queries.feed_outages(settlement=settlement, kind=kind)
        title = _("Power outages")
        feed = Rss201rev2Feed(
            title=f"{title} · {company_name}" if company_name else title,
            link=page_url,
            description=_("Unplanned outages now and planned works, with addresses and restoration times."),
            language=lang,
            feed_url=request.build_absolute_uri(),
            ttl=FEED_MAX_AGE // 60,
        )
        for o in outages:
            where = ", ".join(o.settlements[:3]) + ("…" if len(o.settlements) > 3 else "")
            feed.add_item(
                title=f"{o.kind_label}: {where}" if where else o.kind_label,
                link=f"{page_url}#{o.anchor}",
                description=_item_description(o),
                unique_id=o.number,
                unique_id_is_permalink=False,
                pubdate=o.start.value if o.start else o.updated,
                updateddate=o.updated,
                categories=[o.kind, o.status],
            )
        body = feed.writeString("utf-8")
    return _cached(HttpResponse(body, content_type="application/rss+xml; charset=utf-8"))
