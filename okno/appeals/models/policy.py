"""Reference data of the registry: deadline policies, routing rules and answer templates."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from okno.appeals.choices import AppealType, Channel, DeadlineUnit, Topic
from okno.customers.choices import CustomerKind
from okno.org.models import Branch, Department, GridDistrict


class DeadlinePolicy(models.Model):
    """How long an appeal may take. Empty criteria match anything; the most specific active policy wins."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=AppealType.choices, blank=True)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices, blank=True)
    customer_kind = models.CharField(
        _("customer kind"), max_length=20, choices=CustomerKind.choices, blank=True
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, blank=True)
    unit = models.CharField(
        _("unit"), max_length=20, choices=DeadlineUnit.choices, default=DeadlineUnit.CALENDAR_DAYS
    )
    amount = models.PositiveIntegerField(_("amount"))
    registration_days = models.PositiveSmallIntegerField(
        _("registration within, days"),
        default=3,
        help_text=_("Days from receipt within which the appeal must be registered"),
    )
    warn_before_hours = models.PositiveIntegerField(_("warn before, hours"), default=48)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {self.amount} {self.get_unit_display().lower()}"

    @property
    def specificity(self) -> int:
        return sum(1 for v in (self.kind, self.topic, self.customer_kind, self.channel) if v)

    def matches(self, *, kind: str, topic: str, customer_kind: str, channel: str) -> bool:
        return (
            (not self.kind or self.kind == kind)
            and (not self.topic or self.topic == topic)
            and (not self.customer_kind or self.customer_kind == customer_kind)
            and (not self.channel or self.channel == channel)
        )

    def clean(self) -> None:
        if self.amount == 0:
            raise ValidationError({"amount": _("The term must be positive.")})


class RoutingRule(models.Model):
    """Which branch and department handle a topic on a territory (optionally for one customer kind)."""

    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices, blank=True)
    grid_district = models.ForeignKey(
        GridDistrict,
        verbose_name=_("grid district"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    source_branch = models.ForeignKey(
        Branch,
        verbose_name=_("territory (branch)"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    customer_kind = models.CharField(
        _("customer kind"), max_length=20, choices=CustomerKind.choices, blank=True
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("handled by branch"), on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("handled by department"), on_delete=models.CASCADE, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower wins among equally specific rules")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.get_topic_display() or '*'} / {self.grid_district or self.source_branch or '*'} → {self.department}"

    @property
    def specificity(self) -> int:
        return (
            (4 if self.grid_district_id else 2 if self.source_branch_id else 0)
            + (2 if self.topic else 0)
            + (1 if self.customer_kind else 0)
        )

    def clean(self) -> None:
        if self.department_id and self.branch_id and self.department.branch_id != self.branch_id:
            raise ValidationError({"department": _("The department belongs to another branch.")})


class AnswerTemplate(models.Model):
    """A reusable answer text with placeholders {customer}, {number}, {received}, {address}."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    title = models.CharField(_("title"), max_length=200)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices, blank=True)
    body = models.TextField(_("text"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("answer template")
        verbose_name_plural = _("answer templates")
        ordering = ["topic", "title"]

    def __str__(self) -> str:
        return self.title
