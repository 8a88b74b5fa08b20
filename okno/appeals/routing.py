"""Routing: rules by topic + territory (+ customer kind) choose the branch and the department;
the specialist with the least open work in that department takes the appeal."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save

from okno.appeals.choices import OPEN_STATUSES
from okno.core.cache import ProcessCache
from okno.org.choices import Role
from okno.org.models import User


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    topic: str
    grid_district_id: int | None
    source_branch_id: int | None
    customer_kind: str
    branch_id: int
    department_id: int
    priority: int

    @property
    def specificity(self) -> int:
        return (
            (4 if self.grid_district_id else 2 if self.source_branch_id else 0)
            + (2 if self.topic else 0)
            + (1 if self.customer_kind else 0)
        )


@dataclass(frozen=True, slots=True)
class Route:
    branch_id: int | None
    department_id: int | None
    rule_id: int | None


class Router:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = sorted(rules, key=lambda r: (-r.specificity, r.priority, r.id))

    def route(
        self, *, topic: str, grid_district_id: int | None, branch_id: int | None, customer_kind: str
    ) -> Route:
        for r in self.rules:
            if r.topic and r.topic != topic:
                continue
            if r.grid_district_id and r.grid_district_id != grid_district_id:
                continue
            if r.source_branch_id and r.source_branch_id != branch_id:
                continue
            if r.customer_kind and r.customer_kind != customer_kind:
                continue
            return Route(r.branch_id, r.department_id, r.id)
        return Route(branch_id, None, None)


def _load_router() -> Router:
    from okno.appeals.models import RoutingRule

    rows = RoutingRule.objects.filter(active=True).values_list(
        "id",
        "topic",
        "grid_district_id",
        "source_branch_id",
        "customer_kind",
        "branch_id",
        "department_id",
        "priority",
    )
    return Router([Rule(*row) for row in rows])


_cache: ProcessCache[Router] = ProcessCache(_load_router)
get_router = _cache.get
_invalidate = _cache.invalidate


post_save.connect(_invalidate, sender="appeals.RoutingRule", dispatch_uid="okno-routing-save")
post_delete.connect(_invalidate, sender="appeals.RoutingRule", dispatch_uid="okno-routing-delete")


def least_loaded_specialist(department_id: int) -> User | None:
    """The active specialist of the department with the fewest open appeals (ties: longest in the team).

    Only open appeals are counted, through the (assignee, status) index, so the cost does not grow
    with the years of closed appeals behind each specialist."""
    from okno.appeals.models import Appeal

    open_work = (
        Appeal.objects.filter(assignee=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("assignee")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        User.objects.filter(department_id=department_id, role=Role.SPECIALIST, is_active=True)
        .annotate(open_work=Coalesce(Subquery(open_work), 0))
        .order_by("open_work", "id")
        .first()
    )
