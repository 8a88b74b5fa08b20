"""Inline SVG drawn on the server for the public site: the map of offices and the charts of customers.

Pure functions over plain data, like :mod:`okno.outages.public.mapsvg` (whose projection the office map
reuses): no tile server, no JavaScript, no network, every text escaped. Each drawing carries a ``<title>``
and ``<desc>``; the pages put the same figures in a list or a table next to it, so the drawing is never
the only way to the information.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from okno.outages.public.mapsvg import Base, Marker, Point, Projection, graticule_step

OFFICE_FILL = "#0b5cad"  # 6.7:1 on the map background; the number on it is white (6.7:1)
OUTLINE_FILL = "#e3ecf5"
OUTLINE_STROKE = "#5f7590"
# Chart colours: each ≥ 3:1 against white (WCAG 1.4.11), told apart by position and the table as well.
PALETTE = ("#0b5cad", "#b3261e", "#1e7a3c", "#8a4f00", "#6a3d9a", "#00677f", "#7a5c00", "#a1306b")


@dataclass(frozen=True)
class Outline:
    name: str
    points: tuple[tuple[float, float], ...]  # (lat, lon)


@dataclass(frozen=True)
class OfficePin:
    number: int
    lat: float
    lon: float
    title: str
    href: str


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def office_map(
    outlines: Sequence[Outline],
    pins: Sequence[OfficePin],
    *,
    title: str,
    description: str,
    width: int = 1000,
    id_prefix: str = "office-map",
) -> SafeString | None:
    """The map: region outlines, a light graticule, and a numbered link per office; None with nothing to draw."""
    lats = [p[0] for o in outlines for p in o.points] + [p.lat for p in pins]
    lons = [p[1] for o in outlines for p in o.points] + [p.lon for p in pins]
    if not lats:
        return None
    base = Base(south=min(lats), north=max(lats), west=min(lons), east=max(lons))
    markers = [Marker(at=Point(p.lat, p.lon), kind="office", title=p.title, href=p.href) for p in pins]
    proj = Projection(base, markers, width)
    h = proj.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="office-map" viewBox="0 0 {width} {h}" '
        f'width="{width}" height="{h}" preserveAspectRatio="xMidYMid meet" role="group" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{h}" fill="#f3f6f9" stroke="#c3cbd5"/>',
    ]
    out.append('<g class="outlines" aria-hidden="true">')
    for outline in outlines:
        pts = " ".join(",".join(_fmt(v) for v in proj.xy(Point(lat, lon))) for lat, lon in outline.points)
        out.append(
            f'<polygon points="{pts}" fill="{OUTLINE_FILL}" stroke="{OUTLINE_STROKE}" stroke-width="1.5" '
            f'stroke-linejoin="round"><title>{escape(outline.name)}</title></polygon>'
        )
    out.append("</g>")
    # A graticule over the outlines, light enough not to compete with them.
    top, bottom = proj.lat_at(0), proj.lat_at(h)
    left, right = proj.lon_at(0), proj.lon_at(width)
    step = graticule_step(max(top - bottom, (right - left) * proj.kx))
    out.append('<g class="graticule" aria-hidden="true" stroke="#d3dae3" stroke-width="1" fill="none">')
    lat = math.ceil(bottom / step) * step
    while lat <= top:
        _x, y = proj.xy(Point(lat, left))
        out.append(f'<line x1="0" y1="{y}" x2="{width}" y2="{y}"/>')
        lat += step
    lon = math.ceil(left / step) * step
    while lon <= right:
        x, _y = proj.xy(Point(bottom, lon))
        out.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{h}"/>')
        lon += step
    out.append("</g>")
    out.append(
        '<g class="outline-names" aria-hidden="true" font-size="13" fill="#1d2430" stroke="#f3f6f9" '
        'stroke-width="3" paint-order="stroke" text-anchor="middle">'
    )
    for outline in outlines:
        if not outline.points:
            continue
        # Under the outline's lowest vertex, centred on it, kept inside the frame (≈ 7.5 px a letter).
        xs, ys = zip(*(proj.xy(Point(lat, lon)) for lat, lon in outline.points), strict=True)
        x, y = (min(xs) + max(xs)) / 2, max(ys) + 16
        if y > h - 6:
            y = min(ys) - 8
        half = min(len(outline.name) * 3.8 + 6, width / 2)
        x = round(min(max(x, half), width - half), 1)
        out.append(f'<text x="{x}" y="{round(max(y, 14), 1)}">{escape(outline.name)}</text>')
    out.append("</g>")
    out.append('<g class="offices">')
    positions = _spread([proj.xy(m.at) for m in markers])
    for pin, (x, y) in zip(pins, positions, strict=True):
        label = str(pin.number)
        size = 10 if len(label) > 2 else 11
        out.append(
            f'<a href="{escape(pin.href)}" class="office-pin" aria-label="{escape(pin.title)}">'
            f"<title>{escape(pin.title)}</title>"
            f'<circle cx="{x}" cy="{y}" r="11" fill="{OFFICE_FILL}" stroke="#fff" stroke-width="2"/>'
            f'<text x="{x}" y="{round(y + 4, 1)}" fill="#fff" font-size="{size}" font-weight="700" '
            f'text-anchor="middle" aria-hidden="true">{label}</text></a>'
        )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 (every interpolated text is escaped above)


def _spread(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Move pins that would cover each other around a small circle, so each stays a separate target."""
    placed: list[tuple[float, float]] = []
    for x, y in points:
        k, nx, ny = 0, x, y
        while any(abs(nx - px) < 22 and abs(ny - py) < 22 for px, py in placed) and k < 36:
            k += 1
            angle = k * 1.1
            radius = 22 + 3 * k
            nx, ny = round(x + radius * math.cos(angle), 1), round(y + radius * math.sin(angle), 1)
        placed.append((nx, ny))
    return placed


# --- charts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the value as printed (localised by the caller, e.g. "1 234 (56,7 %)")


def bar_chart(
    bars: Sequence[Bar], *, title: str, description: str, id_prefix: str, width: int = 760
) -> SafeString:
    """Horizontal bars with the label on the left and the printed value after each bar."""
    row, label_w, value_w, pad = 30, 320, 140, 8
    h = pad * 2 + row * max(1, len(bars))
    top = max((b.value for b in bars), default=0) or 1
    span = width - label_w - value_w - pad
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" viewBox="0 0 {width} {h}" '
        f'width="{width}" height="{h}" role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(description)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = pad + i * row
        w = round(span * bar.value / top, 1)
        name = bar.label if len(bar.label) <= 42 else bar.label[:41] + "…"
        colour = PALETTE[i % len(PALETTE)]
        out.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" font-size="13" fill="#1d2430">'
            f"{escape(name)}</text>"
            f'<rect x="{label_w}" y="{y + 5}" width="{max(w, 1)}" height="20" fill="{colour}"/>'
            f'<text x="{round(label_w + max(w, 1) + 6, 1)}" y="{y + 19}" font-size="13" fill="#1d2430">'
            f"{escape(bar.text)}</text>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 (every interpolated text is escaped above)


def pie_chart(
    bars: Sequence[Bar], *, title: str, description: str, id_prefix: str, size: int = 220
) -> SafeString:
    """A donut of the shares with a legend beside it (label and printed value)."""
    total = sum(b.value for b in bars)
    legend_w = 330
    width = size + legend_w
    h = max(size, 24 * len(bars) + 16)
    cx = cy = size / 2
    r_out, r_in = size / 2 - 6, size / 4
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart pie-chart" viewBox="0 0 {width} {h}" '
        f'width="{width}" height="{h}" role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(description)}</desc>',
    ]
    if total <= 0:
        out.append(f'<circle cx="{cx}" cy="{cy}" r="{r_out}" fill="#e3e8ee"/>')
    angle = -math.pi / 2
    for i, bar in enumerate(bars):
        if total <= 0 or bar.value <= 0:
            continue
        colour = PALETTE[i % len(PALETTE)]
        sweep = 2 * math.pi * bar.value / total
        if sweep >= 2 * math.pi - 1e-9:
            out.append(
                f'<circle cx="{cx}" cy="{cy}" r="{(r_out + r_in) / 2}" fill="none" stroke="{colour}" '
                f'stroke-width="{r_out - r_in}"/>'
            )
        else:
            a2 = angle + sweep
            large = 1 if sweep > math.pi else 0
            p = [
                (cx + r_out * math.cos(angle), cy + r_out * math.sin(angle)),
                (cx + r_out * math.cos(a2), cy + r_out * math.sin(a2)),
                (cx + r_in * math.cos(a2), cy + r_in * math.sin(a2)),
                (cx + r_in * math.cos(angle), cy + r_in * math.sin(angle)),
            ]
            d = (
                f"M{p[0][0]:.1f} {p[0][1]:.1f} A{r_out:.1f} {r_out:.1f} 0 {large} 1 {p[1][0]:.1f} {p[1][1]:.1f} "
                f"L{p[2][0]:.1f} {p[2][1]:.1f} A{r_in:.1f} {r_in:.1f} 0 {large} 0 {p[3][0]:.1f} {p[3][1]:.1f} Z"
            )
            out.append(f'<path d="{d}" fill="{colour}" stroke="#fff" stroke-width="1.5"/>')
        angle += sweep
    for i, bar in enumerate(bars):
        y = 12 + i * 24
        colour = PALETTE[i % len(PALETTE)]
        out.append(
            f'<rect x="{size + 12}" y="{y}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{size + 32}" y="{y + 12}" font-size="13" fill="#1d2430">'
            f"{escape(bar.label)}: {escape(bar.text)}</text>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 (every interpolated text is escaped above)
