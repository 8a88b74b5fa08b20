"""Admin of notifications: templates and settings are edited here; notices and attempts are read-only."""

from typing import Any

from django.contrib import admin

from okno.notify.models import (
    Notice,
    NoticeAttempt,
    NoticeEvent,
    NoticeTemplate,
    NotifySettings,
    Subscription,
)


@admin.register(NoticeTemplate)
class NoticeTemplateAdmin(admin.ModelAdmin):
    list_display = ("code", "language", "subject")
    list_filter = ("code", "language")


@admin.register(NotifySettings)
class NotifySettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "quiet_start", "quiet_end", "max_attempts", "channel_order")

    def has_add_permission(self, request: Any) -> bool:
        return not NotifySettings.objects.exists()


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "account", "settlement", "street", "house", "active", "confirmed_at")
    list_filter = ("active", "source", "language", "branch")
    search_fields = ("email", "phone", "settlement", "street", "account__number")
    raw_id_fields = ("customer", "account")
    readonly_fields = ("token", "confirm_code", "created_at", "unsubscribed_at")


class AttemptInline(admin.TabularInline):
    model = NoticeAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("at", "result", "error", "provider_id")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReadOnly(admin.ModelAdmin):
    """Notices are written by the planner and the delivery loop only."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(NoticeEvent)
class NoticeEventAdmin(ReadOnly):
    list_display = ("key", "template", "emergency", "branch", "created_at")
    search_fields = ("key",)


@admin.register(Notice)
class NoticeAdmin(ReadOnly):
    list_display = ("id", "event", "channel", "status", "attempts", "sent_at", "delivered_at")
    list_filter = ("status", "channel")
    search_fields = ("event__key", "recipient", "provider_id")
    raw_id_fields = ("event", "customer", "subscription")
    inlines = [AttemptInline]
