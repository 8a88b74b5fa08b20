"""The public list of power centres: free capacity for new connections, the centres closed for them,
and the reconstruction schedule (the disclosure the connection rules ask of a grid company)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from okno.org.models import Branch
from okno.outages.choices import NodeKind
from okno.outages.models import GridNode


@require_safe
def power_centres(request: HttpRequest) -> HttpResponse:
    branches = list(Branch.objects.order_by("name"))
    code = request.GET.get("branch", "")
    closed_only = request.GET.get("closed") == "1"
    qs = GridNode.objects.filter(kind=NodeKind.POWER_CENTRE, in_service=True).select_related("branch")
    if code:
        qs = qs.filter(branch__code=code)
    if closed_only:
        qs = qs.filter(closed_for_connection=True)
    centres = list(qs.order_by("branch__name", "settlement", "name"))
    reconstruction = [c for c in centres if c.reconstruction_until]
    return render(
        request,
        "outages/public/centres.html",
        {
            "centres": centres,
            "closed": [c for c in centres if c.closed_for_connection],
            "reconstruction": sorted(
                reconstruction, key=lambda c: c.reconstruction_from or c.reconstruction_until
            ),
            "branches": branches,
            "branch": code,
            "closed_only": closed_only,
        },
    )
