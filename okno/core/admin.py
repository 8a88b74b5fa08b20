from django.contrib import admin

from okno.core.models import AccessLog, CalendarDay, ChangeLog, JobRun


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "note")
    list_filter = ("kind",)
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[override]
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChangeLog)
class ChangeLogAdmin(ReadOnlyAdmin):
    list_display = ("time", "actor_name", "action", "object_type", "object_id", "object_repr", "request_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor_name", "request_id")


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("time", "actor_name", "customer_id", "context", "remote_addr")
    search_fields = ("customer_id", "actor_name")


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "attempts", "queued_at", "started_at", "finished_at")
    list_filter = ("status", "name")
