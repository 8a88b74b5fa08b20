"""Pages of the public site (no login; Russian by default, English through the language switch).

The views only read: site content through :mod:`okno.content.queries`, other apps' data through
:mod:`okno.portal.site.queries`. Links to the internet reception's forms are looked up by name and left
out while a form does not exist (``{% optional_url %}``), so the site never links to a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from okno.content import queries as content
from okno.content.choices import Audience, DocumentCategory, FaqTopic, ReceptionForm
from okno.org.models import Branch, Company, Office
from okno.portal.site import queries, svg

# The information pages: URL name → (InfoPage slug, title when the page has not been written yet).
INFO_PAGES: dict[str, tuple[str, Any]] = {
    "individuals": ("individuals", gettext_lazy("For individuals")),
    "legal": ("legal-entities", gettext_lazy("For legal entities")),
    "reissue": ("reissue", gettext_lazy("Re-issue of connection documents")),
    "quality": ("power-quality", gettext_lazy("Power quality")),
    "theft": ("theft", gettext_lazy("Electricity theft")),
}

# The application forms of the internet reception, in the order the forms page lists them.
FORMS: list[tuple[str, Any]] = [
    (
        ReceptionForm.CONNECTION_INDIVIDUAL,
        gettext_lazy("For a house, a garden plot or a garage up to 15 kW."),
    ),
    (ReceptionForm.CONNECTION_LEGAL, gettext_lazy("For companies and sole proprietors, any capacity.")),
    (ReceptionForm.METERING, gettext_lazy("Installation, replacement, sealing and checking of meters.")),
    (ReceptionForm.REISSUE, gettext_lazy("New owner, lost documents or redistribution of capacity.")),
    (ReceptionForm.NO_POWER, gettext_lazy("There is no power at your address right now.")),
    (ReceptionForm.QUALITY_COMPLAINT, gettext_lazy("Voltage too low or too high, flicker, surges.")),
    (ReceptionForm.THEFT, gettext_lazy("Report an illegal connection; you may stay anonymous.")),
    (ReceptionForm.QUESTION, gettext_lazy("A question to our specialists; the answer comes by e-mail.")),
    (ReceptionForm.APPEAL, gettext_lazy("A complaint, a claim or a proposal.")),
]


def _crumb(title: Any) -> dict[str, Any]:
    return {"title": title}


# --- home ------------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """The public home; a signed-in staff member goes on to their queue."""
    user = request.user
    if user.is_authenticated and not getattr(user, "is_system", False):
        return redirect("appeals:my_queue")
    return render(
        request,
        "portal/site/home.html",
        {"banner": queries.outage_banner(), "forms": FORMS[:5]},
    )


# --- territory ------------------------------------------------------------------------------------


class TerritoryFilter(forms.Form):
    branch = forms.TypedChoiceField(
        label=gettext_lazy("Branch"), required=False, coerce=int, empty_value=None
    )
    service = forms.CharField(label=gettext_lazy("Service"), required=False, max_length=200)

    def __init__(self, *args: Any, branches: list[Branch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[Any, Any]] = [("", _("All branches"))]
        self.fields["branch"].choices = choices + [(b.pk, b.name) for b in branches]  # type: ignore[attr-defined]


@require_safe
def territory(request: HttpRequest) -> HttpResponse:
    """The service territory: a server-drawn map of offices over the region outlines, and the office cards."""
    branches = list(Branch.objects.order_by("name"))
    form = TerritoryFilter(request.GET or None, branches=branches)
    branch_id, service, status = None, "", 200
    if form.is_bound:
        if form.is_valid():
            branch_id = form.cleaned_data["branch"]
            service = form.cleaned_data["service"].strip()
        else:
            status = 400
    data = queries.territory(branch_id=branch_id, service=service)
    pins = [
        svg.OfficePin(
            number=c.number,
            lat=c.lat,
            lon=c.lon,
            title=f"{c.number}. {c.office.name}, {c.office.address}",
            href=f"#{c.anchor}",
        )
        for c in data.offices
        if c.lat is not None and c.lon is not None
    ]
    outlines = [svg.Outline(name=o.name, points=tuple(o.polygon())) for o in data.outlines]
    map_svg = svg.office_map(
        [o for o in outlines if o.points],
        pins,
        title=_("Map of our offices"),
        description=_(
            "Service territory with %(n)d offices marked by numbered circles; each is a link to the office's "
            "address, hours and phone in the list below the map."
        )
        % {"n": len(pins)},
        # The whole company is wide (many time zones), one branch is about square: keep both on a screen.
        width=1000 if data.branch is None else 720,
    )
    return render(
        request,
        "portal/site/territory.html",
        {
            "form": form,
            "data": data,
            "map_svg": map_svg,
            "pins": len(pins),
            "unplaced": [c for c in data.offices if not c.on_map],
            "crumb": _crumb(_("Service territory")),
        },
        status=status,
    )


# --- structure of customers -------------------------------------------------------------------------


def _share_text(count: int, percent: Any) -> str:
    count_text = formats.number_format(count, force_grouping=True)
    return f"{count_text} ({formats.number_format(percent, 1)} %)"


@require_safe
def structure(request: HttpRequest) -> HttpResponse:
    data = queries.structure()
    kind_bars = [svg.Bar(s.label, s.count, _share_text(s.count, s.percent)) for s in data.by_kind]
    branch_bars = [svg.Bar(s.label, s.count, _share_text(s.count, s.percent)) for s in data.by_branch]
    total = formats.number_format(data.total, force_grouping=True)
    return render(
        request,
        "portal/site/structure.html",
        {
            "data": data,
            "kind_chart": svg.pie_chart(
                kind_bars,
                title=_("Customers by kind"),
                description=_(
                    "Shares of individuals, legal entities and sole proprietors among %(n)s customers."
                )
                % {"n": total},
                id_prefix="chart-kind",
            ),
            "branch_chart": svg.bar_chart(
                branch_bars,
                title=_("Customers by branch"),
                description=_("Number of customers served by each branch, of %(n)s in all.") % {"n": total},
                id_prefix="chart-branch",
            ),
            "crumb": _crumb(_("Structure of customers")),
        },
    )


# --- services -----------------------------------------------------------------------------------------


@require_safe
def services(request: HttpRequest) -> HttpResponse:
    audience = request.GET.get("for", "")
    if audience not in Audience.values:
        audience = ""
    return render(
        request,
        "portal/site/services.html",
        {
            "passports": content.passports(audience if audience != Audience.ALL else ""),
            "audience": audience,
            "audiences": [(a.value, a.label) for a in Audience if a != Audience.ALL],
            "crumb": _crumb(_("Services")),
        },
    )


@require_safe
def service(request: HttpRequest, slug: str) -> HttpResponse:
    passport = content.passport(slug)
    if passport is None:
        raise Http404(_("No such service."))
    return render(
        request,
        "portal/site/service.html",
        {
            "passport": passport,
            "form_url_name": f"reception:{passport.form}" if passport.form else "",
            "form_label": ReceptionForm(passport.form).label if passport.form else "",
            "crumb": _crumb(passport.tr("title")),
        },
    )


# --- documents ---------------------------------------------------------------------------------------


@require_safe
def document_file(request: HttpRequest, pk: int) -> FileResponse:
    """A published document's uploaded file, always as a download that is never sniffed or run."""
    from okno.content.models import Document

    doc = get_object_or_404(Document, pk=pk, published=True)
    if not doc.file:
        raise Http404
    name = (doc.file.name or "document").rsplit("/", 1)[-1]
    response = FileResponse(doc.file.open("rb"), as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def documents(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    if category not in DocumentCategory.values:
        category = ""
    return render(
        request,
        "portal/site/documents.html",
        {
            "groups": content.documents_by_category(category),
            "category": category,
            "categories": DocumentCategory.choices,
            "crumb": _crumb(_("Regulatory documents")),
        },
    )


# --- information pages --------------------------------------------------------------------------------


def _info(request: HttpRequest, name: str, **extra: Any) -> HttpResponse:
    slug, fallback = INFO_PAGES[name]
    page = content.info_page(slug)
    title = page.tr("title") if page else fallback
    return render(
        request,
        "portal/site/info_page.html",
        {"page": page, "title": title, "name": name, "crumb": _crumb(title), **extra},
    )


@require_safe
def individuals(request: HttpRequest) -> HttpResponse:
    return _info(request, "individuals", passports=content.passports(Audience.INDIVIDUALS))


@require_safe
def legal(request: HttpRequest) -> HttpResponse:
    return _info(request, "legal", passports=content.passports(Audience.LEGAL))


@require_safe
def reissue(request: HttpRequest) -> HttpResponse:
    return _info(
        request,
        "reissue",
        action_url_name="reception:reissue",
        action_label=_("Apply for re-issue online"),
        passport=content.passport("reissue"),
    )


@require_safe
def quality(request: HttpRequest) -> HttpResponse:
    return _info(
        request,
        "quality",
        action_url_name="reception:quality_complaint",
        action_label=_("Complain about power quality"),
    )


@require_safe
def theft(request: HttpRequest) -> HttpResponse:
    return _info(
        request, "theft", action_url_name="reception:theft", action_label=_("Report electricity theft")
    )


# --- contacts, tariffs, forms, FAQ ----------------------------------------------------------------------


@require_safe
def contacts(request: HttpRequest) -> HttpResponse:
    branches = list(Branch.objects.order_by("name"))
    head_offices = list(Office.objects.filter(service_centre__branch__isnull=True).order_by("name"))
    return render(
        request,
        "portal/site/contacts.html",
        {
            "company": Company.objects.first(),
            "branches": branches,
            "head_offices": head_offices,
            "crumb": _crumb(_("Contacts")),
        },
    )


@require_safe
def tariffs(request: HttpRequest) -> HttpResponse:
    region = request.GET.get("region", "")[:100]
    include_past = request.GET.get("past") == "1"
    regions_tables, regions = queries.tariffs(region=region, include_past=include_past)
    if region and region not in regions:
        region = ""
        regions_tables, regions = queries.tariffs(include_past=include_past)
    return render(
        request,
        "portal/site/tariffs.html",
        {
            "tables": regions_tables,
            "regions": regions,
            "region": region,
            "include_past": include_past,
            "crumb": _crumb(_("Tariffs")),
        },
    )


@require_safe
def forms_page(request: HttpRequest) -> HttpResponse:
    rows = [
        {"url_name": f"reception:{code}", "label": ReceptionForm(code).label, "help": help_text}
        for code, help_text in FORMS
    ]
    return render(request, "portal/site/forms.html", {"rows": rows, "crumb": _crumb(_("Application forms"))})


@require_safe
def faq(request: HttpRequest) -> HttpResponse:
    topic = request.GET.get("topic", "")
    if topic not in FaqTopic.values:
        topic = ""
    result = content.faq(request.GET.get("q", ""), topic)
    return render(
        request,
        "portal/site/faq.html",
        {
            "result": result,
            "topic": topic,
            "topics": FaqTopic.choices,
            "crumb": _crumb(_("Questions and answers")),
        },
    )
