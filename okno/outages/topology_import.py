"""Loading the grid topology from CSV: the nodes (``nodes.csv``) and which nodes feed which service points
(``feeds.csv``). Formats, examples and rules: docs/outages/topology-and-lookup.md.

Why it works this way:

* **Idempotent.** Nodes are matched by ``code`` and feeds by service point: loading the same files
  twice changes nothing the second time; a changed row updates its node. Nodes and feeds that are not
  in the files are left as they are (a partial file adds or corrects a part of the grid).
* **All or nothing.** Every row is checked first, then everything is written in one transaction; any
  error (with its file and line number; the header is line 1) writes nothing.
* **Fast enough for a region.** Rows are written with bulk inserts and updates, paths are recomputed
  once with :func:`okno.outages.topology.rebuild_paths`; a change log entry is written per node
  created or changed (bulk writes bypass the model signals that normally do it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from okno.core import audit
from okno.core.context import acting_as
from okno.core.models import ChangeLog
from okno.customers.models import Account, Address, ServicePoint
from okno.customers.numbers import normalize_account_number
from okno.org.models import Branch
from okno.outages import lookup
from okno.outages.choices import PARENT_KINDS, NodeKind
from okno.outages.models import Feed, GridNode
from okno.outages.topology import rebuild_paths

NODE_COLUMNS = (
    "code",
    "kind",
    "parent_code",
    "name",
    "voltage_kv",
    "branch",
    "settlement",
    "latitude",
    "longitude",
    "installed_mva",
    "load_mva",
    "reserved_mva",
    "closed_for_connection",
    "closed_reason",
)
NODE_REQUIRED = ("code", "kind", "name", "voltage_kv", "branch")
FEED_COLUMNS = ("node_code", "account", "service_point_id", "settlement", "street", "house")

# Kinds as people write them in spreadsheets, besides the codes.
KIND_ALIASES = {
    "pc": NodeKind.POWER_CENTRE,
    "пс": NodeKind.POWER_CENTRE,
    "центр питания": NodeKind.POWER_CENTRE,
    "цп": NodeKind.POWER_CENTRE,
    "фидер": NodeKind.FEEDER,
    "вл": NodeKind.FEEDER,
    "кл": NodeKind.FEEDER,
    "тп": NodeKind.SUBSTATION,
    "ктп": NodeKind.SUBSTATION,
    "рп": NodeKind.SUBSTATION,
    "ts": NodeKind.SUBSTATION,
    "линия": NodeKind.LINE,
    "вл 0.4": NodeKind.LINE,
    "вл-0.4": NodeKind.LINE,
}
TRUE = {"1", "true", "yes", "y", "да", "д", "+"}
FALSE = {"", "0", "false", "no", "n", "нет", "н", "-"}
_CAPACITIES = ("installed_mva", "load_mva", "reserved_mva")
_NODE_FIELDS = (
    "name",
    "kind",
    "parent_id",
    "branch_id",
    "voltage_kv",
    "settlement",
    "latitude",
    "longitude",
    "installed_mva",
    "load_mva",
    "reserved_mva",
    "closed_for_connection",
    "closed_reason",
)


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    message: str
    column: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.column + ': ' if self.column else ''}{self.message}"


class TopologyImportError(Exception):
    """The files were refused; nothing was written. ``errors`` name the file, line and column."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = errors


@dataclass
class ImportResult:
    nodes_created: int = 0
    nodes_updated: int = 0
    nodes_unchanged: int = 0
    feeds_created: int = 0
    feeds_updated: int = 0
    feeds_unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "nodes_created": self.nodes_created,
            "nodes_updated": self.nodes_updated,
            "nodes_unchanged": self.nodes_unchanged,
            "feeds_created": self.feeds_created,
            "feeds_updated": self.feeds_updated,
            "feeds_unchanged": self.feeds_unchanged,
        }


# --- reading -----------------------------------------------------------------------------------


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")  # spreadsheets saved on Russian Windows


def read_rows(
    data: bytes | str, name: str, columns: tuple[str, ...], errors: list[RowError]
) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a CSV with a header; ``,`` or ``;`` separated, UTF-8 or cp1251."""
    text = _text(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        errors.append(RowError(name, 0, _("The file is empty.")))
        return []
    unknown = [h for h in header if h not in columns]
    if unknown:
        errors.append(
            RowError(
                name,
                1,
                _("Unknown columns %(unknown)s; the columns are %(columns)s.")
                % {"unknown": ", ".join(unknown), "columns": ",".join(columns)},
            )
        )
        return []
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            errors.append(
                RowError(
                    name,
                    line,
                    _("%(n)s values for %(m)s columns.") % {"n": len(values), "m": len(header)},
                )
            )
            continue
        row = dict.fromkeys(columns, "")
        row.update({h: v.strip() for h, v in zip(header, values, strict=False)})
        rows.append((line, row))
    return rows


def _decimal(value: str) -> Decimal | None:
    value = value.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return number


# --- nodes ---------------------------------------------------------------------------------------


@dataclass
class _NodeRow:
    line: int
    code: str
    kind: str
    parent_code: str
    values: dict[str, Any]


def _branches() -> dict[str, int]:
    """Branch by id, by code, and by name (case-insensitive)."""
    out: dict[str, int] = {}
    for pk, code, name in Branch.objects.values_list("pk", "code", "name"):
        out[str(pk)] = pk
        out[name.strip().lower()] = pk
        out[code.strip().lower()] = pk  # a code wins over a name that reads the same
    return out


def _parse_node(
    line: int, row: dict[str, str], name: str, branches: dict[str, int], errors: list[RowError]
) -> _NodeRow | None:
    before = len(errors)

    def err(column: str, message: str) -> None:
        errors.append(RowError(name, line, message, column))

    for column in NODE_REQUIRED:
        if not row[column]:
            err(column, _("Required."))
    code = row["code"]
    if len(code) > 50:
        err("code", _("At most 50 characters."))
    kind_text = row["kind"].strip().lower()
    kind = kind_text if kind_text in NodeKind.values else KIND_ALIASES.get(kind_text, "")
    if row["kind"] and not kind:
        err(
            "kind",
            _("Unknown kind %(kind)r; use one of %(kinds)s.")
            % {"kind": row["kind"], "kinds": ", ".join(NodeKind.values)},
        )
    branch_id = branches.get(row["branch"].strip().lower())
    if row["branch"] and branch_id is None:
        err("branch", _("No branch with id, code or name %(b)r.") % {"b": row["branch"]})
    values: dict[str, Any] = {
        "name": row["name"][:200],
        "kind": kind,
        "branch_id": branch_id,
        "settlement": row["settlement"][:100],
        "closed_reason": row["closed_reason"][:300],
    }
    for column in ("voltage_kv", "latitude", "longitude", *_CAPACITIES):
        try:
            values[column] = _decimal(row[column])
        except ValueError:
            err(column, _("%(v)r is not a number.") % {"v": row[column]})
            values[column] = None
    for column, limit in (("latitude", 90), ("longitude", 180)):
        if values[column] is not None and abs(values[column]) > limit:
            err(column, _("Must be between -%(n)s and %(n)s.") % {"n": limit})
    flag = row["closed_for_connection"].strip().lower()
    if flag not in TRUE | FALSE:
        err("closed_for_connection", _("Use 1/0, yes/no or да/нет."))
    values["closed_for_connection"] = flag in TRUE
    if kind:
        for column, message in GridNode.invariant_errors(
            kind=kind,
            parent_kind=None,  # the parent's kind is checked with the whole tree (_check_nodes)
            voltage_kv=values["voltage_kv"],
            capacities={c: values[c] for c in _CAPACITIES},
        ).items():
            if column != "parent":
                err(column, message)
        if not row["parent_code"] and PARENT_KINDS[kind]:
            err("parent_code", _("A %(kind)s needs a parent_code.") % {"kind": kind})
        if row["parent_code"] and not PARENT_KINDS[kind]:
            err("parent_code", _("A power centre is the top of the tree and has no parent."))
    if row["parent_code"] == code and code:
        err("parent_code", _("A node cannot be fed from itself."))
    if len(errors) > before:
        return None
    return _NodeRow(line=line, code=code, kind=kind, parent_code=row["parent_code"], values=values)


def _check_nodes(
    parsed: list[_NodeRow], name: str, errors: list[RowError]
) -> dict[str, tuple[int, str, str]]:
    """Parents exist and fit, no cycles. Returns code → (id or 0, kind, parent code) after the load."""
    existing = {
        code: (pk, kind, parent_code or "")
        for pk, code, kind, parent_code in GridNode.objects.values_list("pk", "code", "kind", "parent__code")
    }
    tree = dict(existing)
    for row in parsed:
        pk = existing.get(row.code, (0, "", ""))[0]
        tree[row.code] = (pk, row.kind, row.parent_code)
    for row in parsed:
        if not row.parent_code:
            continue
        parent = tree.get(row.parent_code)
        if parent is None:
            errors.append(
                RowError(
                    name,
                    row.line,
                    _("No node with code %(c)r in the file or the database.") % {"c": row.parent_code},
                    "parent_code",
                )
            )
            continue
        allowed = PARENT_KINDS[row.kind]
        if parent[1] not in allowed:
            errors.append(
                RowError(
                    name,
                    row.line,
                    _("A %(kind)s cannot be fed from %(parent)s, a %(pkind)s (only from a %(allowed)s).")
                    % {
                        "kind": row.kind,
                        "parent": row.parent_code,
                        "pkind": parent[1],
                        "allowed": ", ".join(allowed),
                    },
                    "parent_code",
                )
            )
    # Children already in the database whose parent changes kind in this file.
    lines = {row.code: row.line for row in parsed}
    for code, (_pk, kind, parent_code) in tree.items():
        if code in lines or parent_code not in lines:
            continue
        if tree[parent_code][1] not in PARENT_KINDS.get(kind, ()):
            errors.append(
                RowError(
                    name,
                    lines[parent_code],
                    _(
                        "Node %(child)s (a %(ckind)s, not in the file) is fed from this node, "
                        "which cannot be a %(kind)s."
                    )
                    % {"child": code, "ckind": kind, "kind": tree[parent_code][1]},
                    "kind",
                )
            )
    # Cycles: walk up from every node of the file (the depth of a grid tree is at most four).
    for row in parsed:
        seen = {row.code}
        cur = row.parent_code
        while cur:
            if cur in seen:
                errors.append(
                    RowError(
                        name,
                        row.line,
                        _("The parent chain makes a loop through %(c)s.") % {"c": cur},
                        "parent_code",
                    )
                )
                break
            seen.add(cur)
            cur = tree.get(cur, (0, "", ""))[2]
    return tree


def _load_nodes(parsed: list[_NodeRow], result: ImportResult) -> None:
    existing = {n.code: n for n in GridNode.objects.filter(code__in=[r.code for r in parsed])}
    before = {code: audit.snapshot(node) for code, node in existing.items()}
    to_create = [
        GridNode(code=r.code, path="", depth=0, **r.values) for r in parsed if r.code not in existing
    ]
    GridNode.objects.bulk_create(to_create, batch_size=2000)
    ids = dict(
        GridNode.objects.filter(
            code__in=[r.code for r in parsed] + [r.parent_code for r in parsed if r.parent_code]
        ).values_list("code", "pk")
    )
    created_codes = {n.code for n in to_create}
    changed: list[GridNode] = []
    for r in parsed:
        node = existing.get(r.code) or GridNode(pk=ids[r.code], code=r.code)
        new = {**r.values, "parent_id": ids[r.parent_code] if r.parent_code else None}
        if r.code in existing and all(getattr(node, k) == v for k, v in new.items()):
            result.nodes_unchanged += 1
            continue
        for k, v in new.items():
            setattr(node, k, v)
        changed.append(node)
        if r.code in created_codes:
            result.nodes_created += 1
        else:
            result.nodes_updated += 1
    GridNode.objects.bulk_update(changed, list(_NODE_FIELDS), batch_size=2000)
    rebuild_paths()
    if not changed:
        return
    fresh = GridNode.objects.in_bulk([n.pk for n in changed])
    entries = []
    actor = audit.actor_fields()
    for node in fresh.values():
        after = audit.snapshot(node)
        old = before.get(node.code)
        entries.append(
            ChangeLog(
                action=ChangeLog.Action.CREATE if old is None else ChangeLog.Action.UPDATE,
                object_type=node._meta.label_lower,
                object_id=str(node.pk),
                object_repr=str(node)[:200],
                before=old,
                after=after,
                **actor,
            )
        )
    ChangeLog.objects.bulk_create(entries, batch_size=2000)


# --- feeds ---------------------------------------------------------------------------------------


def _parse_feeds(
    rows: list[tuple[int, dict[str, str]]], name: str, node_codes: set[str], errors: list[RowError]
) -> dict[int, tuple[str, int]]:
    """Service point id → (node code, line) for every row; conflicts and unknown references are errors."""
    accounts = [normalize_account_number(r["account"]) for _l, r in rows if r["account"]]
    by_account: dict[str, int] = {}
    for i in range(0, len(accounts), 5000):
        by_account.update(
            Account.objects.filter(number__in=accounts[i : i + 5000]).values_list(
                "number", "service_point_id"
            )
        )
    sp_ids = [int(r["service_point_id"]) for _l, r in rows if r["service_point_id"].isdigit()]
    known_sps: set[int] = set()
    for i in range(0, len(sp_ids), 5000):
        known_sps.update(
            ServicePoint.objects.filter(pk__in=sp_ids[i : i + 5000]).values_list("pk", flat=True)
        )
    houses = _houses(rows)
    out: dict[int, tuple[str, int]] = {}
    for line, r in rows:

        def err(column: str, message: str, line: int = line) -> None:
            errors.append(RowError(name, line, message, column))

        node_code = r["node_code"] if r["node_code"] in node_codes else None
        if not r["node_code"]:
            err("node_code", _("Required."))
        elif node_code is None:
            err(
                "node_code", _("No node with code %(c)r in the file or the database.") % {"c": r["node_code"]}
            )
        selectors = [
            bool(r["account"]),
            bool(r["service_point_id"]),
            bool(r["settlement"] or r["street"] or r["house"]),
        ]
        if sum(selectors) != 1:
            err("", _("Give exactly one of: account, service_point_id, or settlement+street+house."))
            continue
        targets: list[int] = []
        if r["account"]:
            sp = by_account.get(normalize_account_number(r["account"]))
            if sp is None:
                err("account", _("No account %(a)s.") % {"a": r["account"]})
            else:
                targets = [sp]
        elif r["service_point_id"]:
            if not r["service_point_id"].isdigit() or int(r["service_point_id"]) not in known_sps:
                err("service_point_id", _("No service point %(s)s.") % {"s": r["service_point_id"]})
            else:
                targets = [int(r["service_point_id"])]
        else:
            if not (r["settlement"] and r["house"]):
                err("house", _("A building needs settlement and house (street when it has one)."))
                continue
            targets = houses.get(line, [])
            if not targets:
                err(
                    "house",
                    _("No service points at %(a)s.")
                    % {"a": ", ".join(p for p in (r["settlement"], r["street"], r["house"]) if p)},
                )
        if node_code is None:
            continue
        for sp in targets:
            seen = out.get(sp)
            if seen is not None and seen[0] != node_code:
                err(
                    "",
                    _("Service point %(sp)s is also fed from another node on line %(other)s.")
                    % {"sp": sp, "other": seen[1]},
                )
                continue
            out[sp] = (node_code, line)
    return out


def _houses(rows: Iterable[tuple[int, dict[str, str]]]) -> dict[int, list[int]]:
    """Line → service point ids of the building named by settlement, street and house (streets matched as
    the lookup matches them: "Ленина" finds "ул. Ленина")."""
    wanted = [(line, r) for line, r in rows if not r["account"] and not r["service_point_id"] and r["house"]]
    if not wanted:
        return {}
    settlements: dict[str, set[str]] = {}
    streets: dict[tuple[str, str], set[str]] = {}
    for settlement, street in Address.objects.values_list("settlement", "street").distinct():
        s_key = lookup.settlement_key(settlement)
        settlements.setdefault(s_key, set()).add(settlement)
        streets.setdefault((settlement, lookup.street_key(street) if street else ""), set()).add(street)
    groups: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for line, r in wanted:
        for settlement in settlements.get(lookup.settlement_key(r["settlement"]), ()):
            key = lookup.street_key(r["street"]) if r["street"] else ""
            for street in streets.get((settlement, key), ()):
                groups.setdefault((settlement, street), []).append((line, r["house"].strip()))
    out: dict[int, list[int]] = {}
    for (settlement, street), items in groups.items():
        houses = {h.lower() for _l, h in items} | {h.upper() for _l, h in items}
        by_house: dict[str, list[int]] = {}
        for house, sp in ServicePoint.objects.filter(
            address__settlement=settlement, address__street=street, address__house__in=houses
        ).values_list("address__house", "pk"):
            by_house.setdefault(house.lower(), []).append(sp)
        for line, house in items:
            out.setdefault(line, []).extend(by_house.get(house.lower(), []))
    return out


def _load_feeds(by_code: dict[int, tuple[str, int]], result: ImportResult) -> None:
    codes = dict(
        GridNode.objects.filter(code__in={c for c, _l in by_code.values()}).values_list("code", "pk")
    )
    wanted = {sp: codes[code] for sp, (code, _l) in by_code.items()}
    sps = sorted(wanted)
    current: dict[int, int] = {}
    for i in range(0, len(sps), 5000):
        current.update(
            Feed.objects.filter(service_point_id__in=sps[i : i + 5000]).values_list(
                "service_point_id", "node_id"
            )
        )
    create = [Feed(service_point_id=sp, node_id=wanted[sp]) for sp in sps if sp not in current]
    update = [
        Feed(service_point_id=sp, node_id=wanted[sp])
        for sp in sps
        if sp in current and current[sp] != wanted[sp]
    ]
    Feed.objects.bulk_create(create, batch_size=5000)
    Feed.objects.bulk_update(update, ["node"], batch_size=5000)
    result.feeds_created = len(create)
    result.feeds_updated = len(update)
    result.feeds_unchanged = len(sps) - len(create) - len(update)


def _check_scope(
    actor: Any,
    parsed: list[_NodeRow],
    nodes_name: str,
    wanted: dict[int, tuple[str, int]],
    feeds_name: str,
    errors: list[RowError],
) -> None:
    """A user attached to some branches changes only their grid: the nodes a row names or updates,
    and the service points and nodes a feed row links, all lie in those branches."""
    if getattr(actor, "all_branches", True):
        return
    allowed = set(actor.branch_ids)
    node_branch = dict(
        GridNode.objects.filter(
            code__in={r.code for r in parsed} | {code for code, _l in wanted.values()}
        ).values_list("code", "branch_id")
    )
    message = _("This belongs to a branch you do not work in.")
    for r in parsed:
        if (
            r.values["branch_id"] not in allowed
            or node_branch.get(r.code, r.values["branch_id"]) not in allowed
        ):
            errors.append(RowError(nodes_name, r.line, message, "branch"))
    new_branch = {r.code: r.values["branch_id"] for r in parsed}
    sp_branch = dict(ServicePoint.objects.filter(pk__in=list(wanted)).values_list("pk", "branch_id"))
    for sp, (code, line) in sorted(wanted.items(), key=lambda item: item[1][1]):
        if sp_branch.get(sp) not in allowed or new_branch.get(code, node_branch.get(code)) not in allowed:
            errors.append(RowError(feeds_name, line, message, "node_code"))


# --- the entry point -----------------------------------------------------------------------------


def import_topology(
    *,
    nodes: bytes | str | None = None,
    feeds: bytes | str | None = None,
    actor: Any,
    nodes_name: str = "nodes.csv",
    feeds_name: str = "feeds.csv",
) -> ImportResult:
    """Load nodes and/or feeds; raises :class:`TopologyImportError` (nothing written) on any bad row."""
    if nodes is None and feeds is None:
        raise TopologyImportError([RowError("", 0, _("Give a nodes file, a feeds file or both."))])
    errors: list[RowError] = []
    result = ImportResult()
    parsed: list[_NodeRow] = []
    seen: dict[str, int] = {}
    if nodes is not None:
        branches = _branches()
        for line, row in read_rows(nodes, nodes_name, NODE_COLUMNS, errors):
            node = _parse_node(line, row, nodes_name, branches, errors)
            if row["code"] and row["code"] in seen:
                errors.append(
                    RowError(
                        nodes_name,
                        line,
                        _("Code %(c)s is already on line %(l)s.")
                        % {"c": row["code"], "l": seen[row["code"]]},
                        "code",
                    )
                )
                continue
            seen[row["code"]] = line
            if node is not None:
                parsed.append(node)
        if not errors:
            _check_nodes(parsed, nodes_name, errors)
    wanted: dict[int, tuple[str, int]] = {}
    if feeds is not None:
        feed_rows = read_rows(feeds, feeds_name, FEED_COLUMNS, errors)
        # Codes of the nodes file count even on rows with errors: one bad node is one error, not many.
        codes = set(GridNode.objects.values_list("code", flat=True)) | set(seen)
        wanted = _parse_feeds(feed_rows, feeds_name, codes, errors)
    if not errors:
        _check_scope(actor, parsed, nodes_name, wanted, feeds_name, errors)
    if errors:
        raise TopologyImportError(errors)
    with transaction.atomic(), acting_as(actor):
        if parsed:
            _load_nodes(parsed, result)
        if feeds is not None:
            _load_feeds(wanted, result)
    lookup.invalidate_outages()
    return result
