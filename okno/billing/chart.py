"""A server-side SVG bar chart of monthly consumption by tariff zone (no JavaScript library).

One group of bars per month (months without a reading stay as empty slots, so the time axis is
even), one bar per zone, a value axis in kWh with round ticks, a legend, and an accessible
``<title>``/``<desc>``. Every bar carries ``data-period``, ``data-zone`` and ``data-kwh`` and its own
``<title>`` (the tooltip), so the figure reads without the picture too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from okno.billing.models import kwh
from okno.billing.periods import add_months, months_between

#: Colours of zone 1, 2, 3 (day/peak, night/half-peak, night), readable on white and in grey print.
COLOURS = {1: "#2f6db5", 2: "#e39a2d", 3: "#4b4b7a"}
MAX_BAR_WIDTH = 28.0
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    period: dt.date
    zone: int
    wh: int
    x: float
    y: float
    width: float
    height: float

    @property
    def kwh(self) -> Decimal | None:
        return kwh(self.wh)


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10ⁿ) so that ``ticks`` steps cover ``maximum``."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover


def _fmt(number: float) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _kwh_label(value: float) -> str:
    return _fmt(value).replace(".", ",") if value % 1 else str(int(value))


def layout(
    data: Mapping[dt.date, Mapping[int, int]],
    zones: Sequence[int],
    *,
    width: int = 720,
    height: int = 260,
    max_periods: int = 24,
) -> tuple[list[dt.date], list[Bar], float, float]:
    """Positions of the bars: (months shown, bars, top of the axis in kWh, tick step in kWh).

    ``data`` maps a period (first day of a month) to Wh by zone. The last ``max_periods`` months up to
    the latest one with data are shown."""
    if not data:
        return [], [], 0.0, 1.0
    last = max(data)
    first = max(min(data), add_months(last, -(max_periods - 1)))
    periods = [add_months(first, i) for i in range(months_between(first, last) + 1)]
    peak_kwh = max((wh / 1000 for p in periods for wh in data.get(p, {}).values()), default=0.0)
    step = nice_step(peak_kwh)
    top = step * max(1, math.ceil(peak_kwh / step)) if peak_kwh > 0 else step * 4
    left, right, upper, lower = _margins(width, height)
    plot_w, plot_h = right - left, lower - upper
    group = plot_w / len(periods)
    bar_w = min(group * 0.8 / max(1, len(zones)), MAX_BAR_WIDTH)
    pad = (group - bar_w * len(zones)) / 2  # the bars of a month are centred on its label
    bars = []
    for i, period in enumerate(periods):
        values = data.get(period, {})
        for j, zone in enumerate(zones):
            wh = values.get(zone)
            if wh is None:
                continue
            h = round(wh / 1000 / top * plot_h, 2)
            x = round(left + i * group + pad + j * bar_w, 2)
            bars.append(
                Bar(
                    period=period,
                    zone=zone,
                    wh=wh,
                    x=x,
                    y=round(lower - h, 2),
                    width=round(bar_w, 2),
                    height=h,
                )
            )
    return periods, bars, top, step


def _margins(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) of the plot area."""
    return 64, width - 12, 34, height - 44


def consumption_svg(
    data: Mapping[dt.date, Mapping[int, int]],
    zone_names: Mapping[int, str],
    *,
    title: str = "",
    width: int = 720,
    height: int = 260,
    max_periods: int = 24,
) -> SafeString:
    """The chart as inline SVG markup. ``data``: period → {zone: Wh}; ``zone_names``: zone → label."""
    zones = sorted(zone_names)
    title = title or _("Consumption by month, kWh")
    periods, bars, top, step = layout(data, zones, width=width, height=height, max_periods=max_periods)
    uid = next(_ids)
    left, right, upper, lower = _margins(width, height)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="consumption-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'aria-labelledby="chart-title-{uid} chart-desc-{uid}" font-family="sans-serif" font-size="11">',
        f'<title id="chart-title-{uid}">{escape(title)}</title>',
    ]
    if not bars:
        empty = escape(_("No consumption by readings yet."))
        parts.append(f'<desc id="chart-desc-{uid}">{empty}</desc>')
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#666">{empty}</text></svg>'
        )
        return mark_safe("".join(parts))  # noqa: S308  (every text is escaped above)

    desc = _("%(months)s months from %(first)s to %(last)s; the highest month %(peak)s kWh.") % {
        "months": len(periods),
        "first": f"{periods[0]:%m.%Y}",
        "last": f"{periods[-1]:%m.%Y}",
        "peak": _kwh_label(max(b.wh for b in bars) / 1000),
    }
    parts.append(f'<desc id="chart-desc-{uid}">{escape(desc)}</desc>')

    # Value axis: grid lines and labels at each tick, and its title.
    plot_h = lower - upper
    ticks = round(top / step)
    for k in range(ticks + 1):
        value = step * k
        y = round(lower - value / top * plot_h, 2)
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#ddd" stroke-width="1"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" fill="#333">{_kwh_label(value)}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="14" y="{(upper + lower) / 2}" text-anchor="middle" fill="#333" '
        f'transform="rotate(-90 14 {(upper + lower) / 2})">{escape(_("kWh"))}</text>'
    )

    # Time axis: the baseline, month labels (every n-th when crowded) and its title.
    group = (right - left) / len(periods)
    every = max(1, math.ceil(len(periods) / 12))
    parts.append(f'<line x1="{left}" x2="{right}" y1="{lower}" y2="{lower}" stroke="#333" stroke-width="1"/>')
    for i, period in enumerate(periods):
        if i % every:
            continue
        x = round(left + (i + 0.5) * group, 2)
        parts.append(
            f'<text class="month" x="{x}" y="{lower + 15}" text-anchor="middle" fill="#333">{period:%m.%y}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="{(left + right) / 2}" y="{height - 6}" text-anchor="middle" '
        f'fill="#333">{escape(_("Month"))}</text>'
    )

    for bar in bars:
        name = zone_names.get(bar.zone, f"T{bar.zone}")
        tip = f"{bar.period:%m.%Y} · {name}: {bar.kwh} {_('kWh')}"
        parts.append(
            f'<rect class="bar" x="{_fmt(bar.x)}" y="{_fmt(bar.y)}" width="{_fmt(bar.width)}" '
            f'height="{_fmt(bar.height)}" fill="{COLOURS.get(bar.zone, "#888")}" '
            f'data-period="{bar.period:%Y-%m}" data-zone="{bar.zone}" data-kwh="{bar.kwh}">'
            f"<title>{escape(tip)}</title></rect>"
        )

    # Legend, top left, one swatch per zone (only when there is more than one zone).
    if len(zones) > 1:
        x = left
        for zone in zones:
            label = str(zone_names[zone])
            parts.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{COLOURS.get(zone, "#888")}"/>')
            parts.append(f'<text x="{x + 16}" y="20" fill="#333">{escape(label)}</text>')
            x += 28 + 7 * len(label)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every text is escaped above)
