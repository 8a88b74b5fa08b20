"""Content of the public site, edited in the admin.

Every text a visitor reads has a Russian field (the default language, required) and an optional English
one (``*_en``); :meth:`Translated.tr` picks the field of the active language and falls back to Russian.
Long texts are *plain text with a little markup* (paragraphs, ``- `` lists, ``## `` headings, ``**bold**``
and ``[links](https://…)``), rendered escaped by :mod:`okno.content.markup` — never HTML, so nothing an
editor types can run in a visitor's browser.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from okno.content.choices import Audience, DocumentCategory, FaqTopic, ReceptionForm
from okno.org.models import Branch

DOCUMENT_EXTENSIONS = ["pdf", "doc", "docx", "odt", "rtf", "xls", "xlsx", "ods", "txt"]
MARKUP_HELP = _(
    "Plain text: an empty line starts a paragraph; lines starting with “- ” make a list, “1. ” a numbered "
    "list, “## ” a heading; **bold**; [link text](https://example.ru). HTML is shown as text."
)


class Translated(models.Model):
    """Russian fields with optional ``<name>_en`` twins."""

    class Meta:
        abstract = True

    def tr(self, name: str) -> Any:
        """The field ``name`` in the active language: English when active and filled, else Russian."""
        if (translation.get_language() or "ru").split("-")[0] == "en":
            value = getattr(self, f"{name}_en", "")
            if value:
                return value
        return getattr(self, name)


class InfoPage(Translated):
    """A page of information (for individuals, for legal entities, re-issue, power quality, theft)."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=400, blank=True)
    summary_en = models.CharField(_("summary (English)"), max_length=400, blank=True)
    body = models.TextField(_("text"), blank=True, help_text=MARKUP_HELP)
    body_en = models.TextField(_("text (English)"), blank=True, help_text=MARKUP_HELP)
    published = models.BooleanField(_("published"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("information page")
        verbose_name_plural = _("information pages")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title


class ServicePassport(Translated):
    """The passport of a service: who may apply, fee, conditions, result, total term and stages."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=250)
    title_en = models.CharField(_("title (English)"), max_length=250, blank=True)
    audience = models.CharField(_("for whom"), max_length=20, choices=Audience.choices, default=Audience.ALL)
    summary = models.CharField(_("summary"), max_length=400, blank=True)
    summary_en = models.CharField(_("summary (English)"), max_length=400, blank=True)
    applicants = models.TextField(_("who may apply"), help_text=MARKUP_HELP)
    applicants_en = models.TextField(_("who may apply (English)"), blank=True)
    fee = models.TextField(_("fee"), help_text=MARKUP_HELP)
    fee_en = models.TextField(_("fee (English)"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True, help_text=MARKUP_HELP)
    conditions_en = models.TextField(_("conditions (English)"), blank=True)
    result = models.TextField(_("result"), help_text=MARKUP_HELP)
    result_en = models.TextField(_("result (English)"), blank=True)
    total_term = models.CharField(_("total term"), max_length=300)
    total_term_en = models.CharField(_("total term (English)"), max_length=300, blank=True)
    documents = models.TextField(_("documents to submit"), blank=True, help_text=MARKUP_HELP)
    documents_en = models.TextField(_("documents to submit (English)"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True, help_text=MARKUP_HELP)
    form = models.CharField(_("application form"), max_length=40, choices=ReceptionForm.choices, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    published = models.BooleanField(_("published"), default=True)

    class Meta:
        verbose_name = _("service passport")
        verbose_name_plural = _("service passports")
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title


class ServiceStage(Translated):
    """One stage of a service with its deadline and legal basis."""

    passport = models.ForeignKey(
        ServicePassport, verbose_name=_("service"), on_delete=models.CASCADE, related_name="stages"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    title = models.CharField(_("stage"), max_length=300)
    title_en = models.CharField(_("stage (English)"), max_length=300, blank=True)
    description = models.TextField(_("what happens"), blank=True)
    description_en = models.TextField(_("what happens (English)"), blank=True)
    deadline = models.CharField(_("deadline"), max_length=200)
    deadline_en = models.CharField(_("deadline (English)"), max_length=200, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stage of a service")
        verbose_name_plural = _("stages of a service")
        ordering = ["passport", "order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Document(Translated):
    """A regulatory document: a link to the official publication or an uploaded file."""

    title = models.CharField(_("title"), max_length=400)
    title_en = models.CharField(_("title (English)"), max_length=400, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=DocumentCategory.choices)
    number = models.CharField(_("number"), max_length=60, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    issuer = models.CharField(_("issued by"), max_length=200, blank=True)
    issuer_en = models.CharField(_("issued by (English)"), max_length=200, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    file = models.FileField(
        _("file"),
        upload_to="content/documents/%Y/",
        blank=True,
        validators=[FileExtensionValidator(DOCUMENT_EXTENSIONS)],
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    published = models.BooleanField(_("published"), default=True)

    class Meta:
        verbose_name = _("regulatory document")
        verbose_name_plural = _("regulatory documents")
        ordering = ["category", "order", "-date", "title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if not self.url and not self.file:
            raise ValidationError(_("Give a link to the document or upload its file."))
        if self.url and not self.url.lower().startswith(("https://", "http://")):
            raise ValidationError({"url": _("Only http and https links are allowed.")})

    @property
    def href(self) -> str:
        if self.file:
            from django.urls import reverse

            return reverse("site:document_file", args=[self.pk])
        return self.url


class FaqEntry(Translated):
    """A question and its answer, grouped by topic; the answer uses the same plain markup as pages."""

    topic = models.CharField(_("topic"), max_length=20, choices=FaqTopic.choices, default=FaqTopic.OTHER)
    question = models.CharField(_("question"), max_length=400)
    question_en = models.CharField(_("question (English)"), max_length=400, blank=True)
    answer = models.TextField(_("answer"), help_text=MARKUP_HELP)
    answer_en = models.TextField(_("answer (English)"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    published = models.BooleanField(_("published"), default=True)

    class Meta:
        verbose_name = _("question and answer")
        verbose_name_plural = _("questions and answers")
        ordering = ["topic", "order", "id"]

    def __str__(self) -> str:
        return self.question


def parse_outline(text: str) -> list[tuple[float, float]]:
    """``"59.1 30.2"`` (or ``59.1, 30.2``) per line → ``[(lat, lon), …]``; raises ``ValueError``."""
    points: list[tuple[float, float]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.replace(";", " ").replace(",", " ").split()
        if len(parts) != 2:
            raise ValueError(f"line {number}: two numbers expected")
        lat, lon = float(parts[0]), float(parts[1])
        if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"line {number}: out of range")
        points.append((lat, lon))
    return points


class RegionOutline(models.Model):
    """The simplified border of a branch's service territory, drawn under the office markers."""

    branch = models.OneToOneField(
        Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="outline"
    )
    name = models.CharField(_("region name"), max_length=200)
    points = models.TextField(
        _("outline"),
        help_text=_("One vertex a line: latitude and longitude in degrees, for example “59.93 30.31”."),
    )

    class Meta:
        verbose_name = _("region outline")
        verbose_name_plural = _("region outlines")
        ordering = ["branch__name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            polygon = parse_outline(self.points)
        except ValueError as exc:
            raise ValidationError(
                {"points": _("Cannot read the outline: %(error)s") % {"error": exc}}
            ) from exc
        if len(polygon) < 3:
            raise ValidationError({"points": _("An outline needs at least three vertices.")})

    def polygon(self) -> list[tuple[float, float]]:
        """The vertices; an outline that cannot be read is drawn as nothing rather than breaking the page."""
        try:
            polygon = parse_outline(self.points)
        except ValueError:
            return []
        return polygon if len(polygon) >= 3 else []
