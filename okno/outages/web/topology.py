"""The grid topology pages: find a node, see its chain upstream and what lies downstream, and upload
``nodes.csv`` / ``feeds.csv`` (all or nothing; row errors are listed, nothing is half-loaded).

Viewing needs ``gridnode.view`` (rows through ``GridNode.objects.restrict``); uploading needs
``gridnode.import``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.core.access import require_perm
from okno.outages.lookup import outages_on_path
from okno.outages.models import GridNode
from okno.outages.topology import node_summary
from okno.outages.topology_import import TopologyImportError, import_topology

MAX_UPLOAD = 50 * 1024 * 1024


class UploadForm(forms.Form):
    nodes = forms.FileField(
        label=gettext_lazy("Nodes (nodes.csv)"),
        required=False,
        help_text=gettext_lazy(
            "code,kind,parent_code,name,voltage_kv,branch,settlement,latitude,longitude,installed_mva,"
            "load_mva,reserved_mva,closed_for_connection,closed_reason"
        ),
    )
    feeds = forms.FileField(
        label=gettext_lazy("Feeds (feeds.csv)"),
        required=False,
        help_text=gettext_lazy("node_code and one of: account, service_point_id, or settlement,street,house"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("nodes") and not data.get("feeds"):
            raise forms.ValidationError(_("Choose a nodes file, a feeds file or both."))
        for name in ("nodes", "feeds"):
            upload = data.get(name)
            if upload is not None and upload.size > MAX_UPLOAD:
                self.add_error(name, _("The file is larger than 50 MB."))
        return data


def _nodes(user: Any):
    return GridNode.objects.restrict(user, "view").select_related("branch")


def _page(
    request: HttpRequest, form: UploadForm, *, errors: list | None = None, status: int = 200
) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    nodes = _nodes(request.user)
    if query:
        nodes = nodes.filter(Q(code__icontains=query) | Q(name__icontains=query))
    else:
        nodes = nodes.filter(parent__isnull=True)
    context = {
        "form": form,
        "query": query,
        "nodes": nodes.order_by("code")[:100],
        "errors": errors or [],
        "can_import": request.user.has_okno_perm("gridnode.import"),  # type: ignore[union-attr]
    }
    return render(request, "outages/topology/index.html", context, status=status)


@login_required
def topology(request: HttpRequest) -> HttpResponse:
    """Find a node by code or name (power centres when nothing is typed), and the upload form."""
    require_perm(request.user, "gridnode.view")
    return _page(request, UploadForm())


@login_required
def topology_import(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "gridnode.import")
    if request.method != "POST":
        return redirect("outages:topology")
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    nodes, feeds = form.cleaned_data.get("nodes"), form.cleaned_data.get("feeds")
    try:
        result = import_topology(
            nodes=nodes.read() if nodes else None,
            feeds=feeds.read() if feeds else None,
            nodes_name=nodes.name if nodes else "nodes.csv",
            feeds_name=feeds.name if feeds else "feeds.csv",
            actor=request.user,
        )
    except TopologyImportError as exc:
        messages.error(request, _("Nothing was imported: %(n)s errors.") % {"n": len(exc.errors)})
        return _page(request, form, errors=exc.errors[:500], status=400)
    messages.success(
        request,
        _(
            "Imported. Nodes: %(nc)s created, %(nu)s updated, %(nn)s unchanged. "
            "Feeds: %(fc)s created, %(fu)s updated, %(fn)s unchanged."
        )
        % {
            "nc": result.nodes_created,
            "nu": result.nodes_updated,
            "nn": result.nodes_unchanged,
            "fc": result.feeds_created,
            "fu": result.feeds_updated,
            "fn": result.feeds_unchanged,
        },
    )
    return redirect("outages:topology")


@login_required
def node_detail(request: HttpRequest, code: str) -> HttpResponse:
    """A node: its chain up to the power centre, counts of nodes and service points below, its children
    and the outages touching it now or announced."""
    require_perm(request.user, "gridnode.view")
    node = _nodes(request.user).filter(code=code).first()
    if node is None:
        raise Http404
    summary = node_summary(node)
    kinds = dict(GridNode._meta.get_field("kind").flatchoices)
    context = {
        "node": node,
        "summary": summary,
        "below": [(kinds.get(k, k), n) for k, n in sorted(summary.below.items())],
        "children": node.children.order_by("code")[:200],
        "outages": outages_on_path(node.path, timezone.now()),
    }
    return render(request, "outages/topology/node.html", context)


urlpatterns = [
    path("topology/", topology, name="topology"),
    path("topology/import/", topology_import, name="topology_import"),
    path("topology/nodes/<str:code>/", node_detail, name="topology_node"),
]
