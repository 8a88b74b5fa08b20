"""Database side of the public map: which branch is drawn, its base layer from aggregates, outage markers.

Kept apart from :mod:`okno.outages.public.mapsvg` (pure drawing) so the drawing is tested without a database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Avg, Max, Min, Q

from okno.org.models import Branch
from okno.outages.choices import NodeKind
from okno.outages.models import GridNode
from okno.outages.public import mapsvg
from okno.outages.public.queries import PublicOutage


def map_branch(outages: Sequence[PublicOutage], wanted: int | None = None) -> Branch | None:
    """The branch drawn: the one asked for, else the one with most outages shown, else the first mapped."""
    mapped = GridNode.objects.filter(latitude__isnull=False, longitude__isnull=False)
    if wanted is not None and mapped.filter(branch_id=wanted).exists():
        return Branch.objects.filter(pk=wanted).first()
    counts: dict[int, int] = defaultdict(int)
    for o in outages:
        counts[o.branch_id] += 1
    for branch_id, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if mapped.filter(branch_id=branch_id).exists():
            return Branch.objects.filter(pk=branch_id).first()
    first = mapped.order_by("branch_id").values_list("branch_id", flat=True).first()
    return None if first is None else Branch.objects.filter(pk=first).first()


def mapped_branches(*, exclude: Branch | None = None) -> list[Branch]:
    """Branches with at least one grid node on the map (for the "other branches" links)."""
    ids = GridNode.objects.filter(latitude__isnull=False, longitude__isnull=False).values("branch_id")
    qs = Branch.objects.filter(pk__in=ids).order_by("name")
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs)


def _pt(lat: object, lon: object) -> mapsvg.Point:
    return mapsvg.Point(lat=float(lat), lon=float(lon))  # type: ignore[arg-type]


def map_base(branch: Branch) -> mapsvg.Base | None:
    """The base layer of a branch from aggregates (a bounding box, means), never one row per substation."""
    nodes = GridNode.objects.filter(branch=branch, latitude__isnull=False, longitude__isnull=False)
    box = nodes.aggregate(s=Min("latitude"), n=Max("latitude"), w=Min("longitude"), e=Max("longitude"))
    if box["s"] is None:
        return None
    settlements = [
        mapsvg.Label(text=r["settlement"], at=_pt(r["lat"], r["lon"]))
        for r in nodes.exclude(settlement="")
        .values("settlement")
        .annotate(lat=Avg("latitude"), lon=Avg("longitude"))
        .order_by("settlement")
    ]
    centres = {
        r["pk"]: mapsvg.Label(text=r["name"], at=_pt(r["latitude"], r["longitude"]))
        for r in nodes.filter(kind=NodeKind.POWER_CENTRE).values("pk", "name", "latitude", "longitude")
    }
    feeders: list[mapsvg.Line] = []
    ends = {
        r["parent_id"]: _pt(r["lat"], r["lon"])
        for r in nodes.filter(kind=NodeKind.SUBSTATION, parent__isnull=False)
        .values("parent_id")
        .annotate(lat=Avg("latitude"), lon=Avg("longitude"))
    }
    for f in GridNode.objects.filter(pk__in=list(ends), kind=NodeKind.FEEDER).values(
        "pk", "name", "parent_id"
    ):
        centre = centres.get(f["parent_id"])
        if centre is not None:
            feeders.append(mapsvg.Line(text=f["name"], a=centre.at, b=ends[f["pk"]]))
    return mapsvg.Base(
        south=float(box["s"]),
        north=float(box["n"]),
        west=float(box["w"]),
        east=float(box["e"]),
        settlements=tuple(settlements),
        centres=tuple(centres.values()),
        feeders=tuple(feeders),
    )


def marker_of(outage: PublicOutage) -> mapsvg.Marker | None:
    """A marker at the mean position of the nodes off (and the nodes under them that have coordinates)."""
    q = Q()
    for node in outage.nodes:
        q |= Q(path__startswith=node.path)
    if not outage.nodes:
        return None
    pos = GridNode.objects.filter(q, latitude__isnull=False, longitude__isnull=False).aggregate(
        lat=Avg("latitude"), lon=Avg("longitude")
    )
    if pos["lat"] is None:
        return None
    where = "; ".join(p.settlement for p in outage.places[:3])
    when = outage.start.text if outage.start else ""
    title = " · ".join(x for x in (outage.number, outage.kind_label, where, when) if x)
    return mapsvg.Marker(
        at=_pt(pos["lat"], pos["lon"]),
        kind=outage.kind,
        title=title,
        href=f"#{outage.anchor}",
    )


__all__ = ["map_base", "map_branch", "mapped_branches", "marker_of"]
