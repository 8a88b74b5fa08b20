"""Django admin of the grid topology and the outages reference data.

Grid nodes and feeds are edited here one by one (bulk loads go through ``okno topology import`` or the
upload page); a node saved here goes through :func:`okno.outages.topology.save_node`, so a move re-paths
its subtree, and ``GridNode.clean`` errors show on the form. Outages are changed only by the
dispatcher's actions (ETR history, events, notices), so the admin shows them read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from okno.core.admin import ReadOnlyAdmin
from okno.outages import topology
from okno.outages.models import (
    Announcement,
    EtrChange,
    Feed,
    GridNode,
    LocalAuthority,
    Outage,
    OutageEvent,
    OutageNode,
    OutageSettings,
)


@admin.register(GridNode)
class GridNodeAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "voltage_kv",
        "parent",
        "branch",
        "settlement",
        "closed_for_connection",
    )
    list_filter = ("kind", "branch", "closed_for_connection", "in_service")
    search_fields = ("code", "name", "settlement")
    raw_id_fields = ("parent",)
    list_select_related = ("parent", "branch")
    readonly_fields = ("path", "depth", "free_mva_display")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "name",
                    "kind",
                    "parent",
                    "branch",
                    "grid_district",
                    "voltage_kv",
                    "in_service",
                )
            },
        ),
        (_("Place"), {"fields": ("settlement", "location", "latitude", "longitude")}),
        (
            _("Capacity (power centres)"),
            {
                "fields": (
                    "installed_mva",
                    "load_mva",
                    "reserved_mva",
                    "free_mva_display",
                    "closed_for_connection",
                    "closed_reason",
                    "reconstruction_from",
                    "reconstruction_until",
                    "reconstruction_note",
                )
            },
        ),
        (_("Tree"), {"fields": ("path", "depth")}),
    )

    @admin.display(description=_("free capacity, MVA"))
    def free_mva_display(self, obj: GridNode) -> Any:
        return obj.free_mva if obj.pk else None

    def save_model(self, request: HttpRequest, obj: GridNode, form: Any, change: bool) -> None:
        topology.save_node(obj)


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ("service_point", "node")
    search_fields = ("node__code", "service_point__address__street", "service_point__accounts__number")
    raw_id_fields = ("service_point", "node")
    list_select_related = ("service_point__address", "node")


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(admin.ModelAdmin):
    list_display = ("name", "head_name", "branch", "district", "settlement", "email", "phone", "active")
    list_filter = ("branch", "active")
    search_fields = ("name", "head_name", "district", "settlement")


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ("__str__", "branch", "outage", "active_from", "active_until")
    list_filter = ("branch",)
    search_fields = ("text",)
    raw_id_fields = ("outage",)
    date_hierarchy = "active_from"


@admin.register(OutageSettings)
class OutageSettingsAdmin(admin.ModelAdmin):
    """One row of company-wide thresholds: it can be edited, not added twice or deleted."""

    list_display = (
        "__str__",
        "report_threshold",
        "report_window_min",
        "momentary_min",
        "mass_threshold",
        "planned_notice_days",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not OutageSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- outages: read-only (the dispatcher's actions change them) -------------------------------------


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OutageNodeInline(_ReadOnlyInline):
    model = OutageNode
    fields = readonly_fields = ("node", "off_at", "restored_at", "customers")


class EtrChangeInline(_ReadOnlyInline):
    model = EtrChange
    fields = readonly_fields = ("changed_at", "previous", "etr", "actor", "reason")


class OutageEventInline(_ReadOnlyInline):
    model = OutageEvent
    fields = readonly_fields = ("time", "type", "actor", "payload")


@admin.register(Outage)
class OutageAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "kind",
        "status",
        "node",
        "branch",
        "started_at",
        "etr",
        "restored_at",
        "customers_affected",
    )
    list_filter = ("status", "kind", "cause", "branch", "is_momentary")
    search_fields = ("number", "node__code", "node__name", "works_order", "reason")
    list_select_related = ("node", "branch")
    date_hierarchy = "detected_at"
    inlines = (OutageNodeInline, EtrChangeInline, OutageEventInline)
