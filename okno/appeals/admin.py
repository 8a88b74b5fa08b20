"""Reference data of the registry. Appeals themselves change only through the operator UI and API."""

from django.contrib import admin

from okno.appeals.models import AnswerTemplate, DeadlinePolicy, Incident, RoutingRule


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "topic", "customer_kind", "channel", "amount", "unit", "active")
    list_filter = ("unit", "active", "kind", "topic", "channel")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "topic",
        "grid_district",
        "source_branch",
        "customer_kind",
        "branch",
        "department",
        "priority",
        "active",
    )
    list_filter = ("topic", "branch", "active")


@admin.register(AnswerTemplate)
class AnswerTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "code", "topic", "active")
    list_filter = ("topic", "active")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "topic", "branch", "opened_at", "closed_at")
    list_filter = ("topic", "branch")
