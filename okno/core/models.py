"""Cross-cutting models: the change log, the personal-data access log, the production calendar and job runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChangeLog(models.Model):
    """One create/update/delete of business data with before/after snapshots (NetBox's ObjectChange)."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    class Meta:
        verbose_name = _("change log entry")
        verbose_name_plural = _("change log")
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_change_object")]

    def __str__(self) -> str:
        return (
            f"{self.time:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type}#{self.object_id}"
        )


class AccessLog(models.Model):
    """A view of a customer's personal data (152-FZ): who, when, what, from where."""

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    customer_id = models.BigIntegerField(_("customer id"), db_index=True)
    context = models.CharField(_("context"), max_length=100, help_text=_("Where the data was shown"))
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["customer_id", "time"], name="core_access_customer_time")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.actor_name} → customer #{self.customer_id} ({self.context})"


class CalendarDay(models.Model):
    """An exception to the Monday–Friday rule of the Russian production calendar.

    Only days that differ from the rule are stored: holidays and transferred days off on weekdays
    (``non_working``), working Saturdays/Sundays made by a transfer (``working``), and shortened
    pre-holiday working days (``short``, still working days).
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        NON_WORKING = "non_working", _("Non-working day (transfer)")
        WORKING = "working", _("Working day (transfer)")
        SHORT = "short", _("Shortened working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("production calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.get_kind_display()}"

    @property
    def is_working(self) -> bool:
        return self.kind in {self.Kind.WORKING, self.Kind.SHORT}


class JobRun(models.Model):
    """One run of a background job: queued, started, finished, with counts or the error."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("job"), max_length=100, db_index=True)
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    run_after = models.DateTimeField(_("run after"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-queued_at", "-id"]
        indexes = [models.Index(fields=["status", "run_after"], name="core_job_pending")]

    def __str__(self) -> str:
        return f"{self.name} [{self.status}]"
