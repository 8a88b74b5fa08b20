"""Admin of the public site's content. Saves are recorded in the change log (``ContentConfig.ready``)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from okno.content.models import Document, FaqEntry, InfoPage, RegionOutline, ServicePassport, ServiceStage


@admin.register(InfoPage)
class InfoPageAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "published", "updated_at")
    list_filter = ("published",)
    search_fields = ("title", "title_en", "body")
    readonly_fields = ("updated_at",)
    fieldsets = (
        (None, {"fields": ("slug", "published", "updated_at")}),
        (_("Russian"), {"fields": ("title", "summary", "body")}),
        (_("English"), {"fields": ("title_en", "summary_en", "body_en"), "classes": ("collapse",)}),
    )


class ServiceStageInline(admin.StackedInline):
    model = ServiceStage
    extra = 0
    fields = (
        ("order", "deadline", "deadline_en"),
        ("title", "title_en"),
        ("description", "description_en"),
        "legal_basis",
    )


@admin.register(ServicePassport)
class ServicePassportAdmin(admin.ModelAdmin):
    list_display = ("title", "audience", "total_term", "form", "order", "published")
    list_filter = ("audience", "published")
    list_editable = ("order", "published")
    search_fields = ("title", "title_en", "summary")
    prepopulated_fields = {"slug": ("title_en",)}
    inlines = [ServiceStageInline]
    fieldsets = (
        (None, {"fields": ("slug", "audience", "form", "order", "published")}),
        (
            _("Russian"),
            {
                "fields": (
                    "title",
                    "summary",
                    "applicants",
                    "fee",
                    "conditions",
                    "result",
                    "total_term",
                    "documents",
                    "legal_basis",
                )
            },
        ),
        (
            _("English"),
            {
                "fields": (
                    "title_en",
                    "summary_en",
                    "applicants_en",
                    "fee_en",
                    "conditions_en",
                    "result_en",
                    "total_term_en",
                    "documents_en",
                ),
                "classes": ("collapse",),
            },
        ),
    )


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "number", "date", "issuer", "published")
    list_filter = ("category", "published")
    search_fields = ("title", "title_en", "number", "issuer")
    date_hierarchy = "date"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ("question", "topic", "order", "published")
    list_filter = ("topic", "published")
    list_editable = ("order", "published")
    search_fields = ("question", "answer", "question_en", "answer_en")


@admin.register(RegionOutline)
class RegionOutlineAdmin(admin.ModelAdmin):
    list_display = ("name", "branch")
