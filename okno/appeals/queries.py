"""Read-side selectors of the registry reused by views, API and reports."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from okno.appeals.choices import OPEN_STATUSES
from okno.appeals.models import Appeal


def visible_appeals(user: Any) -> QuerySet[Appeal]:
    return Appeal.objects.restrict(user, "view").select_related(
        "branch", "department", "assignee", "customer"
    )


def my_queue(user: Any) -> QuerySet[Appeal]:
    return visible_appeals(user).filter(assignee=user, status__in=OPEN_STATUSES).order_by("deadline_at")


def department_queue(user: Any) -> QuerySet[Appeal]:
    qs = visible_appeals(user)
    if user.department_id and not user.all_branches:
        qs = qs.filter(department_id=user.department_id)
    return qs.order_by("deadline_at")


def timeline(appeal: Appeal) -> QuerySet:
    return appeal.events.select_related("actor").order_by("time", "id")
