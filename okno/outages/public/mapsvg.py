"""A map of outages drawn on the server as inline SVG: no tile server, no JavaScript, no network.

The projection is equirectangular over the bounding box of a branch's grid nodes, with longitudes
scaled by the cosine of the middle latitude so a district keeps its shape (a few tens of kilometres
across, the error is far below a pixel). The base layer is deliberately plain: a graticule, settlement
names at the mean position of their nodes, power centres as squares and each feeder as a line from its
power centre to the mean position of its substations. Outages are red circles (unplanned) and amber
diamonds (planned) — two shapes as well as two colours, for colour-blind readers — each a link to its
entry in the list below the map, with a ``<title>`` tooltip.

This module is pure: it takes plain data (see :mod:`okno.outages.public.queries` for the database side)
and returns markup, so it is tested without a database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

UNPLANNED_FILL = "#c62828"  # 5.2:1 on the map background
PLANNED_FILL = "#a15c00"  # 4.8:1 on the map background: an amber dark enough for the pale base
STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
MIN_SPAN = 0.02  # degrees: a single substation still gets a readable neighbourhood


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True)
class Label:
    text: str
    at: Point


@dataclass(frozen=True)
class Line:
    text: str
    a: Point
    b: Point


@dataclass(frozen=True)
class Marker:
    at: Point
    kind: str  # "planned" | "unplanned"
    title: str
    href: str


@dataclass(frozen=True)
class Base:
    south: float
    north: float
    west: float
    east: float
    settlements: tuple[Label, ...] = ()
    centres: tuple[Label, ...] = ()
    feeders: tuple[Line, ...] = ()


class Projection:
    """Degrees → SVG pixels for one bounding box, padded and centred in a ``width`` × ``height`` box."""

    def __init__(self, base: Base, markers: Sequence[Marker], width: int, pad: int = 32) -> None:
        lats = [base.south, base.north] + [m.at.lat for m in markers]
        lons = [base.west, base.east] + [m.at.lon for m in markers]
        s, n, w, e = min(lats), max(lats), min(lons), max(lons)
        if n - s < MIN_SPAN:
            mid = (n + s) / 2
            s, n = mid - MIN_SPAN / 2, mid + MIN_SPAN / 2
        self.kx = math.cos(math.radians((s + n) / 2))
        if (e - w) * self.kx < MIN_SPAN:
            mid = (e + w) / 2
            w, e = mid - MIN_SPAN / 2 / self.kx, mid + MIN_SPAN / 2 / self.kx
        span_x, span_y = (e - w) * self.kx, n - s
        self.width = width
        self.height = int(min(max(width * span_y / span_x, width * 0.45), width * 1.1))
        self.scale = min((width - 2 * pad) / span_x, (self.height - 2 * pad) / span_y)
        self.ox = (width - span_x * self.scale) / 2
        self.oy = (self.height - span_y * self.scale) / 2
        self.s, self.n, self.w, self.e = s, n, w, e

    def xy(self, p: Point) -> tuple[float, float]:
        x = self.ox + (p.lon - self.w) * self.kx * self.scale
        y = self.oy + (self.n - p.lat) * self.scale
        return round(x, 1), round(y, 1)

    def lat_at(self, y: float) -> float:
        return self.n - (y - self.oy) / self.scale

    def lon_at(self, x: float) -> float:
        return self.w + (x - self.ox) / (self.kx * self.scale)


def graticule_step(span: float) -> float:
    """The smallest round step that draws at most six lines over ``span`` degrees."""
    for step in STEPS:
        if span / step <= 6:
            return step
    return STEPS[-1]


def _deg(value: float, step: float, pos: str, neg: str) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{abs(value):.{decimals}f}°{pos if value >= 0 else neg}"


def _spread(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Nudge markers that would sit on top of each other around a small circle, so each stays clickable."""
    placed: list[tuple[float, float]] = []
    for x, y in points:
        k = 0
        nx, ny = x, y
        while any(abs(nx - px) < 10 and abs(ny - py) < 10 for px, py in placed) and k < 24:
            k += 1
            angle = k * 1.1
            radius = 12 + 2 * k
            nx, ny = round(x + radius * math.cos(angle), 1), round(y + radius * math.sin(angle), 1)
        placed.append((nx, ny))
    return placed


def render(
    base: Base,
    markers: Sequence[Marker],
    *,
    title: str,
    description: str,
    width: int = 760,
    id_prefix: str = "outage-map",
) -> SafeString:
    """The whole ``<svg>`` element. Every text is escaped; the result is safe to put in a template."""
    proj = Projection(base, markers, width)
    h = proj.height
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="outage-map" viewBox="0 0 {width} {h}" '
        f'width="{width}" height="{h}" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{h}" fill="#f3f6f9" stroke="#c3cbd5"/>',
    ]
    # Graticule.
    out.append(
        '<g class="graticule" aria-hidden="true" stroke="#d3dae3" stroke-width="1" '
        'font-size="10" fill="#4d5866">'
    )
    top, bottom = proj.lat_at(0), proj.lat_at(h)
    left, right = proj.lon_at(0), proj.lon_at(width)
    step = graticule_step(max(top - bottom, (right - left) * proj.kx))
    lat = math.ceil(bottom / step) * step
    while lat <= top:
        _x, y = proj.xy(Point(lat, left))
        out.append(f'<line x1="0" y1="{y}" x2="{width}" y2="{y}"/>')
        if 14 <= y <= h - 18:  # a label cut by the frame helps nobody
            out.append(f'<text x="4" y="{round(y - 3, 1)}" stroke="none">{_deg(lat, step, "N", "S")}</text>')
        lat += step
    lon = math.ceil(left / step) * step
    while lon <= right:
        x, _y = proj.xy(Point(bottom, lon))
        out.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{h}"/>')
        if 48 <= x <= width - 56:
            out.append(
                f'<text x="{round(x + 3, 1)}" y="{h - 4}" stroke="none">{_deg(lon, step, "E", "W")}</text>'
            )
        lon += step
    out.append("</g>")
    # Feeders, power centres, settlements.
    out.append('<g class="feeders" aria-hidden="true" stroke="#6b7a8c" stroke-width="1.5">')
    for line in base.feeders:
        (x1, y1), (x2, y2) = proj.xy(line.a), proj.xy(line.b)
        out.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"><title>{escape(line.text)}</title></line>')
    out.append("</g>")
    out.append('<g class="centres" aria-hidden="true" fill="#1d3b5c">')
    for centre in base.centres:
        x, y = proj.xy(centre.at)
        out.append(
            f'<rect x="{round(x - 5, 1)}" y="{round(y - 5, 1)}" width="10" height="10">'
            f"<title>{escape(centre.text)}</title></rect>"
        )
    out.append("</g>")
    out.append(
        '<g class="settlements" aria-hidden="true" font-size="13" fill="#1d2430" '
        'stroke="#f3f6f9" stroke-width="3" paint-order="stroke">'
    )
    for label in base.settlements:
        x, y = proj.xy(label.at)
        # Kept inside the frame: about 7 px a letter at 13 px, half of it either side of the anchor.
        half = min(len(label.text) * 3.6 + 4, width / 2)
        x, y = round(min(max(x, half), width - half), 1), round(max(y - 8, 14), 1)
        out.append(f'<text x="{x}" y="{y}" text-anchor="middle">{escape(label.text)}</text>')
    out.append("</g>")
    # Outages last, on top.
    out.append('<g class="markers">')
    positions = _spread([proj.xy(m.at) for m in markers])
    for marker, (x, y) in zip(markers, positions, strict=True):
        planned = marker.kind == "planned"
        if planned:
            shape = (
                f'<path d="M{x} {round(y - 10, 1)} L{round(x + 10, 1)} {y} L{x} {round(y + 10, 1)} '
                f'L{round(x - 10, 1)} {y} Z" fill="{PLANNED_FILL}" stroke="#fff" stroke-width="2"/>'
            )
        else:
            shape = (
                f'<circle cx="{x}" cy="{y}" r="9" fill="{UNPLANNED_FILL}" stroke="#fff" stroke-width="2"/>'
            )
        out.append(
            f'<a href="{escape(marker.href)}" class="marker {"planned" if planned else "unplanned"}" '
            f'aria-label="{escape(marker.title)}"><title>{escape(marker.title)}</title>{shape}</a>'
        )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 (every interpolated text is escaped above)
