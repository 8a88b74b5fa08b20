"""Read-only admin of the assistant's chat conversations, with their messages inline (changes go through
the dialogue engine's actions, never through the admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from okno.assistant.models import ChatMessage, Conversation


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChatMessageInline(ReadOnly, admin.TabularInline):  # type: ignore[misc]
    model = ChatMessage
    fields = ("created_at", "author", "operator", "text", "choices")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(Conversation)
class ConversationAdmin(ReadOnly, admin.ModelAdmin):  # type: ignore[misc]
    list_display = (
        "id",
        "channel",
        "status",
        "customer",
        "account",
        "operator",
        "appeal",
        "started_at",
        "last_activity_at",
    )
    list_filter = ("channel", "status")
    search_fields = ("public_id", "external_id", "customer__search_text", "account__number", "appeal__number")
    date_hierarchy = "started_at"
    list_select_related = ("customer", "account", "operator", "appeal")
    readonly_fields = (
        "public_id",
        "channel",
        "status",
        "language",
        "cabinet_user",
        "customer",
        "account",
        "external_id",
        "operator",
        "appeal",
        "started_at",
        "last_activity_at",
        "handed_off_at",
        "closed_at",
        "state",
    )
    fields = readonly_fields
    inlines = [ChatMessageInline]
