"""Read-only reference data of the organisation: branches, departments, grid districts.

Every role reads them (``branch.view``/``department.view``, to fill forms and route appeals); a user
attached to branches sees only theirs. Grid districts have no scope of their own: they follow their branch.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from okno.org.api.permissions import OknoPermission
from okno.org.api.serializers import BranchSerializer, DepartmentSerializer, GridDistrictSerializer
from okno.org.models import Branch, Department, GridDistrict


class BranchViewSet(viewsets.ReadOnlyModelViewSet):
    """Branches (филиалы) in the user's scope."""

    serializer_class = BranchSerializer
    permission_classes = [OknoPermission]
    required_perms = {"*": "branch.view"}
    pagination_class = None
    filter_backends: list = []
    queryset = Branch.objects.none()

    def get_queryset(self) -> QuerySet[Branch]:
        return Branch.objects.restrict(self.request.user, "view").order_by("name", "id")


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("branch", OpenApiTypes.INT, description="Branch id")])
)
class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Departments of the user's branches; ``?branch=ID`` narrows to one branch."""

    serializer_class = DepartmentSerializer
    permission_classes = [OknoPermission]
    required_perms = {"*": "department.view"}
    pagination_class = None
    filter_backends: list = []
    queryset = Department.objects.none()

    def get_queryset(self) -> QuerySet[Department]:
        qs = Department.objects.restrict(self.request.user, "view").order_by("branch_id", "name", "id")
        branch = self.request.query_params.get("branch", "")
        if branch.isdigit() and len(branch) < 19:
            qs = qs.filter(branch_id=int(branch))
        return qs


class GridDistrictViewSet(viewsets.ReadOnlyModelViewSet):
    """Grid districts (РЭС) of the user's branches."""

    serializer_class = GridDistrictSerializer
    permission_classes = [OknoPermission]
    required_perms = {"*": "branch.view"}
    pagination_class = None
    filter_backends: list = []
    queryset = GridDistrict.objects.none()

    def get_queryset(self) -> QuerySet[GridDistrict]:
        user: Any = self.request.user
        qs = GridDistrict.objects.order_by("branch_id", "name", "id")
        return qs if user.all_branches else qs.filter(branch_id__in=user.branch_ids)
