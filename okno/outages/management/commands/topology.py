"""``okno topology import --nodes FILE --feeds FILE`` and ``okno topology show CODE``.

``import`` loads either file or both, all or nothing (formats in docs/outages/topology-and-lookup.md);
row errors are printed as ``file:line: column: message`` and the command fails without writing.
``show`` prints a node's chain upstream and what lies under it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Grid topology: import nodes and feeds from CSV, or show a node with its chain and counts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Load nodes.csv and/or feeds.csv (idempotent, all or nothing).")
        imp.add_argument("--nodes", help="nodes.csv: code,kind,parent_code,name,voltage_kv,branch,…")
        imp.add_argument(
            "--feeds", help="feeds.csv: node_code,account,service_point_id,settlement,street,house"
        )
        imp.add_argument("--json", action="store_true", help="Print the counts as JSON")
        show = sub.add_parser("show", help="A node's chain upstream and the counts downstream.")
        show.add_argument("code", help="The node's code")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "import":
            self.do_import(opts)
        else:
            self.show(opts["code"])

    def _read(self, name: str | None) -> tuple[bytes | None, str]:
        if not name:
            return None, ""
        path = Path(name)
        try:
            return path.read_bytes(), path.name
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from exc

    def do_import(self, opts: dict[str, Any]) -> None:
        from okno.org.models import system_actor
        from okno.outages.topology_import import TopologyImportError, import_topology

        nodes, nodes_name = self._read(opts.get("nodes"))
        feeds, feeds_name = self._read(opts.get("feeds"))
        if nodes is None and feeds is None:
            raise CommandError("give --nodes, --feeds or both")
        try:
            result = import_topology(
                nodes=nodes,
                feeds=feeds,
                actor=system_actor("topology"),
                nodes_name=nodes_name or "nodes.csv",
                feeds_name=feeds_name or "feeds.csv",
            )
        except TopologyImportError as exc:
            for error in exc.errors[:200]:
                self.stderr.write(str(error))
            if len(exc.errors) > 200:
                self.stderr.write(f"… {len(exc.errors) - 200} more errors")
            raise CommandError(f"{len(exc.errors)} errors; nothing was imported") from exc
        counts = result.as_dict()
        if opts["json"]:
            self.stdout.write(json.dumps(counts))
            return
        self.stdout.write(
            f"nodes: {result.nodes_created} created, {result.nodes_updated} updated, "
            f"{result.nodes_unchanged} unchanged"
        )
        self.stdout.write(
            f"feeds: {result.feeds_created} created, {result.feeds_updated} updated, "
            f"{result.feeds_unchanged} unchanged"
        )

    def show(self, code: str) -> None:
        from django.utils import timezone

        from okno.outages.lookup import outages_on_path
        from okno.outages.models import GridNode
        from okno.outages.topology import node_summary

        node = GridNode.objects.select_related("branch").filter(code=code).first()
        if node is None:
            raise CommandError(f"no node with code {code!r}")
        summary = node_summary(node)
        self.stdout.write(
            f"{node.code} {node.name} — {node.get_kind_display()}, {node.voltage_kv} kV, {node.branch}"
        )
        if node.free_mva is not None:
            self.stdout.write(
                f"capacity: installed {node.installed_mva} MVA, load {node.load_mva or 0}, "
                f"reserved {node.reserved_mva or 0}, free {node.free_mva}"
                + (" — closed for new connections" if node.closed_for_connection else "")
            )
        self.stdout.write("chain (from the power centre):")
        for depth, up in enumerate(summary.chain):
            self.stdout.write(f"{'  ' * (depth + 1)}{up.code} {up.name} ({up.get_kind_display()})")
        self.stdout.write("below:")
        for kind, label in GridNode._meta.get_field("kind").choices or []:
            if summary.below.get(kind):
                self.stdout.write(f"  {label}: {summary.below[kind]}")
        self.stdout.write(f"  service points: {summary.service_points}")
        self.stdout.write(f"  open accounts: {summary.accounts}")
        outages = outages_on_path(node.path, timezone.now())
        for outage in outages:
            self.stdout.write(
                f"outage {outage.number}: {outage.status} on {outage.node_code}, ETR {outage.etr or '—'}"
            )
