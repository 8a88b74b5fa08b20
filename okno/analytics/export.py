"""Table exports: CSV for Russian Excel (UTF-8 with BOM, ``;`` separator) and xlsx (openpyxl)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from okno.analytics.queries import CATEGORIES, DIMENSIONS, FormRow, ReportRow, period_label

Table = tuple[list[str], list[list[Any]]]


def report_table(rows: list[ReportRow], period: str, dimensions: tuple[str, ...]) -> Table:
    dims = [d for d in DIMENSIONS if d in dimensions]
    header = [
        _("Period"),
        *(str(DIMENSIONS[d]) for d in dims),
        _("Received"),
        _("On time"),
        _("Late"),
        _("Cancelled"),
        _("On time, %"),
    ]
    body = [
        [
            period_label(r.period, period),
            *(r.labels[d] for d in dims),
            r.received,
            r.on_time,
            r.late,
            r.cancelled,
            r.on_time_share,
        ]
        for r in rows
    ]
    return header, body


def form_table(rows: list[FormRow], year: int) -> Table:
    header = [_("Channel")]
    for _code, label, _kind in CATEGORIES:
        header += [f"{label}: {year - 1}", f"{label}: {year}", f"{label}: {_('change, %')}"]
    body = []
    for row in rows:
        line: list[Any] = [row.label]
        for code, _label, _kind in CATEGORIES:
            cell = row.cells[code]
            line += [cell.previous, cell.current, cell.change]
        body.append(line)
    return header, body


def to_csv(table: Table) -> bytes:
    header, body = table
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for line in body:
        writer.writerow(
            ["" if v is None else (str(v).replace(".", ",") if isinstance(v, Decimal) else v) for v in line]
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(table: Table, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    header, body = table
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in body:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in line])
    for i, name in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(
            12, min(40, len(str(name)) + 2)
        )
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
