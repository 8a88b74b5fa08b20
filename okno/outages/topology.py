"""Walks of the grid tree: what lies downstream of a node, and the chain of nodes upstream of a point.

The tree is kept as a materialised path on every node (``/12/340/5678/``): a node's descendants are
the nodes whose path starts with its own, and its ancestors are the ids in its path. Service points
hang off nodes through :class:`~okno.outages.models.Feed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Value
from django.db.models.functions import Concat, Substr

from okno.customers.models import Address, ServicePoint
from okno.outages.models import Feed, GridNode


def path_of(node: GridNode) -> str:
    parent_path = ""
    if node.parent_id is not None:
        parent_path = GridNode.objects.values_list("path", flat=True).get(pk=node.parent_id)
    return f"{parent_path or '/'}{node.pk}/"


@transaction.atomic
def save_node(node: GridNode) -> GridNode:
    """Save a node and keep the paths of it and everything under it true (a move re-paths the subtree)."""
    old_path = ""
    if node.pk is not None:
        old_path = GridNode.objects.filter(pk=node.pk).values_list("path", flat=True).first() or ""
    node.save()
    new_path = path_of(node)
    if new_path != node.path:
        node.path = new_path
        node.depth = new_path.count("/") - 2
        GridNode.objects.filter(pk=node.pk).update(path=new_path, depth=node.depth)
        if old_path:
            if node.parent_id is not None and new_path.startswith(old_path):
                raise ValueError("a node cannot be fed from its own subtree")
            # Everything that hung under the old path moves with the node.
            GridNode.objects.filter(path__startswith=old_path).exclude(pk=node.pk).update(
                path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
            )
            _fix_depths(new_path)
    return node


def _fix_depths(prefix: str) -> None:
    for pk, path in GridNode.objects.filter(path__startswith=prefix).values_list("pk", "path"):
        GridNode.objects.filter(pk=pk).update(depth=path.count("/") - 2)


def rebuild_paths() -> int:
    """Recompute every node's path from the parent links (after a bulk load); returns the count of
    nodes whose path changed."""
    parents = dict(GridNode.objects.values_list("pk", "parent_id"))
    current = dict(GridNode.objects.values_list("pk", "path"))
    paths: dict[int, str] = {}

    def build(pk: int) -> str:
        chain = []
        cur: int | None = pk
        while cur is not None and cur not in paths:
            chain.append(cur)
            cur = parents[cur]
            if len(chain) > 64:
                raise ValueError(f"grid node {pk} is part of a cycle")
        base = paths[cur] if cur is not None else "/"
        for node_id in reversed(chain):
            base = f"{base}{node_id}/"
            paths[node_id] = base
        return paths[pk]

    for pk in parents:
        build(pk)
    changed = [(pk, p, p.count("/") - 2) for pk, p in paths.items() if current.get(pk) != p]
    if changed and connection.vendor == "postgresql":
        # One statement from arrays: bulk_update's CASE per row grows quadratically with the batch.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {GridNode._meta.db_table} AS g SET path = v.path, depth = v.depth "  # noqa: S608
                "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS path, "
                "unnest(%s::int[]) AS depth) AS v WHERE g.id = v.id",
                [[c[0] for c in changed], [c[1] for c in changed], [c[2] for c in changed]],
            )
    elif changed:
        nodes = [GridNode(pk=pk, path=p, depth=d) for pk, p, d in changed]
        GridNode.objects.bulk_update(nodes, ["path", "depth"], batch_size=200)
    return len(changed)


def descendant_ids(nodes: Iterable[GridNode]) -> list[int]:
    """Ids of the given nodes and of every node under them."""
    ids: set[int] = set()
    for node in nodes:
        ids.update(GridNode.objects.filter(path__startswith=node.path).values_list("pk", flat=True))
    return sorted(ids)


def service_points_under(nodes: Iterable[GridNode], *, exclude: Iterable[GridNode] = ()) -> QuerySet:
    """A queryset of the service point ids fed from ``nodes`` (minus those fed from ``exclude``)."""
    ids = set(descendant_ids(nodes))
    ids.difference_update(descendant_ids(exclude))
    return Feed.objects.filter(node_id__in=sorted(ids)).values_list("service_point_id", flat=True)


def chain_of_node(node_id: int) -> list[GridNode]:
    """The node and everything upstream of it, from the power centre down."""
    path = GridNode.objects.values_list("path", flat=True).get(pk=node_id)
    ids = [int(p) for p in path.strip("/").split("/") if p]
    by_id = GridNode.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def chain_of_service_point(service_point: ServicePoint | int) -> list[GridNode]:
    sp_id = service_point if isinstance(service_point, int) else service_point.pk
    node_id = Feed.objects.filter(service_point_id=sp_id).values_list("node_id", flat=True).first()
    return [] if node_id is None else chain_of_node(node_id)


def chain_of_address(address: Address) -> list[GridNode]:
    """The chain upstream of a building: the feed of any service point in the same house."""
    node_id = (
        Feed.objects.filter(
            service_point__address__settlement=address.settlement,
            service_point__address__street=address.street,
            service_point__address__house=address.house,
        )
        .values_list("node_id", flat=True)
        .first()
    )
    return [] if node_id is None else chain_of_node(node_id)


@dataclass
class NodeSummary:
    """A node as the topology page and ``okno topology show`` present it: the chain up and counts down."""

    node: GridNode
    chain: list[GridNode]  # from the power centre down to the node itself
    below: dict[str, int]  # kind → number of nodes under the node (the node itself not counted)
    service_points: int  # fed from the node or from anything under it
    accounts: int  # open accounts at those service points


def node_summary(node: GridNode) -> NodeSummary:
    """Chain upstream and counts downstream of a node, in four aggregate queries."""
    from okno.customers.models import Account

    below = dict(
        GridNode.objects.filter(path__startswith=node.path)
        .exclude(pk=node.pk)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("kind", "n")
    )
    under = Feed.objects.filter(node__path__startswith=node.path)
    return NodeSummary(
        node=node,
        chain=chain_of_node(node.pk),
        below=below,
        service_points=under.count(),
        accounts=Account.objects.filter(
            service_point_id__in=under.values("service_point_id"), closed_on__isnull=True
        ).count(),
    )
