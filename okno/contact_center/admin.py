"""Reference data of the contact centre: queues, agents and skills, wrap-up codes, IVR flows with their
versions; calls, their events and callbacks read-only.

A published flow version is read-only: saving it makes a new, unpublished version with the changes
(the "publish" action puts it live; calls in progress keep the version they started with). The version
page shows the flow as an indented tree of steps with their options, and validation errors under the
steps field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from okno.contact_center.ivr import FlowError, validate_flow, validate_queues
from okno.contact_center.models import (
    Agent,
    Call,
    Callback,
    CallEvent,
    Campaign,
    DoNotCall,
    IvrFlow,
    IvrFlowVersion,
    Queue,
    Skill,
    WrapUpCode,
)


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "strategy",
        "target_answer_s",
        "overflow_to",
        "overflow_after_s",
        "callback_threshold_s",
        "is_default",
    )
    search_fields = ("code", "name")


class SkillInline(admin.TabularInline):
    model = Skill
    extra = 1
    autocomplete_fields = ("queue",)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("user", "extension", "state", "state_since")
    list_filter = ("state",)
    search_fields = ("user__username", "user__last_name", "extension")
    readonly_fields = ("state", "state_since")  # agents change their state on the desk (engine)
    raw_id_fields = ("user",)
    inlines = [SkillInline]


@admin.register(WrapUpCode)
class WrapUpCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "resolved", "is_active")
    list_filter = ("resolved", "is_active")


# --------------------------------------------------------------------------------------------------- flows


def _describe(step: dict[str, Any]) -> str:
    kind = step.get("type", "?")
    if kind in ("say", "menu") and step.get("prompt"):
        return f"{kind} «{step['prompt']}»"
    if kind == "queue":
        return gettext("queue %(q)s") % {"q": step.get("queue", "")}
    return str(kind)


def flow_tree(definition: Any) -> list[tuple[int, str]]:
    """The flow as (depth, text) lines from its start: each step with its type, a menu's options under
    it, a step already shown referred to; the operator step and steps not reached from the start follow."""
    if not isinstance(definition, dict) or not isinstance(definition.get("steps"), dict):
        return []
    steps: dict[str, Any] = definition["steps"]
    lines: list[tuple[int, str]] = []
    shown: set[str] = set()

    def walk(name: str, depth: int, label: str = "") -> None:
        prefix = f"{label} → " if label else ""
        step = steps.get(name)
        if not isinstance(step, dict):
            lines.append((depth, f"{prefix}{name}: " + gettext("missing step")))
            return
        if name in shown:
            lines.append((depth, f"{prefix}{name} " + gettext("(see above)")))
            return
        shown.add(name)
        lines.append((depth, f"{prefix}{name}: {_describe(step)}"))
        if step.get("type") == "menu":
            for digit, target in (step.get("options") or {}).items():
                walk(str(target), depth + 1, gettext("key %(d)s") % {"d": digit})
        elif "next" in step:
            walk(str(step["next"]), depth)

    if definition.get("start") in steps:
        walk(definition["start"], 0)
    operator = definition.get("operator")
    if operator:
        walk(str(operator), 0, gettext("key 0 (operator)"))
    for name in steps:
        if name not in shown:
            walk(name, 0, gettext("not reached"))
    return lines


class VersionInline(admin.TabularInline):
    model = IvrFlowVersion
    fields = ("number", "note", "created_at", "created_by", "published_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IvrFlow)
class IvrFlowAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "number", "live_version")
    inlines = [VersionInline]

    @admin.display(description=_("published version"))
    def live_version(self, obj: IvrFlow) -> str:
        version = obj.published()
        return f"v{version.number}" if version else "—"


@admin.register(IvrFlowVersion)
class IvrFlowVersionAdmin(admin.ModelAdmin):
    list_display = ("flow", "number", "note", "created_at", "published_at")
    list_filter = ("flow",)
    fields = ("flow", "number", "note", "definition", "preview", "created_by", "created_at", "published_at")
    readonly_fields = ("number", "preview", "created_by", "created_at", "published_at")
    actions = ["publish"]

    @admin.display(description=_("steps as a tree"))
    def preview(self, obj: IvrFlowVersion) -> SafeString | str:
        if obj is None or obj.definition is None:
            return "—"
        error = ""
        try:
            validate_flow(obj.definition)
        except FlowError as exc:
            error = str(exc)
        tree = format_html_join(
            "",
            '<li style="margin-left:{}em">{}</li>',
            ((depth * 1.5, text) for depth, text in flow_tree(obj.definition)),
        )
        if error:
            return format_html('<p class="errornote">{}</p><ul class="cc-flow-tree">{}</ul>', error, tree)
        return format_html('<ul class="cc-flow-tree" style="list-style:none;padding:0">{}</ul>', tree)

    def save_model(self, request: HttpRequest, obj: IvrFlowVersion, form: Any, change: bool) -> None:
        published = change and IvrFlowVersion.objects.filter(pk=obj.pk, published_at__isnull=False).exists()
        if not change or published:
            last = IvrFlowVersion.objects.filter(flow=obj.flow).aggregate(n=Max("number"))["n"] or 0
            if published:
                obj.pk = None
                obj.published_at = None
                messages.info(
                    request,
                    gettext("A published version is read-only: the changes are saved as version %(n)s.")
                    % {"n": last + 1},
                )
            obj.number = last + 1
            obj.created_at = timezone.now()
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Publish the selected versions"))
    def publish(self, request: HttpRequest, queryset: QuerySet[IvrFlowVersion]) -> None:
        done = 0
        for version in queryset.filter(published_at__isnull=True):
            try:
                validate_flow(version.definition)
                validate_queues(version.definition, Queue.objects.values_list("code", flat=True))
            except FlowError as exc:
                self.message_user(request, f"{version}: {exc}", level=messages.ERROR)
                continue
            IvrFlowVersion.objects.filter(pk=version.pk).update(published_at=timezone.now())
            done += 1
        if done:
            self.message_user(request, gettext("Published: %(n)s.") % {"n": done})


# --------------------------------------------------------------------------------------------------- calls


class CallEventInline(admin.TabularInline):
    model = CallEvent
    fields = ("at", "queue", "agent", "event", "data")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "direction", "caller", "called", "queue", "agent", "outcome", "wrapup_code")
    list_filter = ("direction", "outcome", "queue")
    search_fields = ("caller", "called", "telephony_id", "uid")
    date_hierarchy = "started_at"
    inlines = [CallEventInline]


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    list_display = ("requested_at", "number", "queue", "status", "attempts", "next_attempt_at", "done_at")
    list_filter = ("status", "queue")
    search_fields = ("number",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "window_start", "window_end", "created_at")
    list_filter = ("kind", "status")


@admin.register(DoNotCall)
class DoNotCallAdmin(admin.ModelAdmin):
    list_display = ("number", "reason", "added_at")
    search_fields = ("number",)
