"""Grid topology, outages with their restoration history, and the people told about mass outages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.core.access import RestrictedQuerySet
from okno.customers.models import ServicePoint
from okno.org.models import Branch, GridDistrict
from okno.outages.choices import (
    OFF_STATUSES,
    PARENT_KINDS,
    Cause,
    NodeKind,
    OutageEventType,
    OutageKind,
    OutageStatus,
)


def _branch_q(user) -> Q | None:
    return None if user.all_branches else Q(branch_id__in=user.branch_ids)


class GridNode(models.Model):
    """A node of the distribution grid: power centre, feeder, transformer substation or 0.4 kV line.

    ``path`` is the materialised chain of ids from the root (``/12/340/5678/``), kept by
    :mod:`okno.outages.topology`, so "everything under this node" is one prefix match.
    """

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=NodeKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("fed from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="grid_nodes"
    )
    grid_district = models.ForeignKey(
        GridDistrict,
        verbose_name=_("grid district"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_nodes",
    )
    voltage_kv = models.DecimalField(_("voltage, kV"), max_digits=6, decimal_places=2)
    path = models.CharField(_("path"), max_length=255, blank=True, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    settlement = models.CharField(_("settlement"), max_length=100, blank=True)
    location = models.CharField(_("location"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    in_service = models.BooleanField(_("in service"), default=True)
    # Power centres only: capacity and whether new connections are taken (the public list of closed ones).
    installed_mva = models.DecimalField(
        _("installed transformer capacity, MVA"), max_digits=9, decimal_places=3, null=True, blank=True
    )
    load_mva = models.DecimalField(_("load, MVA"), max_digits=9, decimal_places=3, null=True, blank=True)
    reserved_mva = models.DecimalField(
        _("capacity reserved by connection contracts, MVA"),
        max_digits=9,
        decimal_places=3,
        null=True,
        blank=True,
    )
    closed_for_connection = models.BooleanField(_("closed for new connections"), default=False)
    closed_reason = models.CharField(_("why closed"), max_length=300, blank=True)
    reconstruction_from = models.DateField(_("reconstruction from"), null=True, blank=True)
    reconstruction_until = models.DateField(_("reconstruction until"), null=True, blank=True)
    reconstruction_note = models.CharField(_("reconstruction works"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid node")
        verbose_name_plural = _("grid nodes")
        ordering = ["path", "code"]
        indexes = [models.Index(fields=["kind", "branch"], name="outage_node_kind")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _branch_q(user)

    @property
    def free_mva(self) -> Decimal | None:
        """Free capacity of a power centre: installed − load − reserved, never below zero."""
        if self.installed_mva is None:
            return None
        free = self.installed_mva - (self.load_mva or 0) - (self.reserved_mva or 0)
        return max(free, Decimal("0"))

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    @staticmethod
    def invariant_errors(
        *,
        kind: str,
        parent_kind: str | None,
        voltage_kv: Decimal | None,
        capacities: dict[str, Decimal | None],
    ) -> dict[str, str]:
        """Field → message for a node that breaks the tree's rules (shared by ``clean`` and the CSV import).

        The tree runs power centre → feeder → substation → line (``choices.PARENT_KINDS``); a voltage is
        positive; capacities, when given, are not negative.
        """
        errors: dict[str, str] = {}
        allowed = PARENT_KINDS.get(kind)
        if allowed is None:
            errors["kind"] = str(_("Unknown kind of node %(kind)r.") % {"kind": kind})
        elif parent_kind is None and allowed:
            errors["parent"] = str(
                _("A %(kind)s is fed from a %(parents)s; give its parent.")
                % {
                    "kind": NodeKind(kind).label,
                    "parents": ", ".join(str(NodeKind(k).label) for k in allowed),
                }
            )
        elif parent_kind is not None and parent_kind not in allowed:
            if not allowed:
                errors["parent"] = str(_("A power centre is the top of the tree and has no parent."))
            else:
                errors["parent"] = str(
                    _("A %(kind)s cannot be fed from a %(parent)s (only from a %(parents)s).")
                    % {
                        "kind": NodeKind(kind).label,
                        "parent": NodeKind(parent_kind).label
                        if parent_kind in NodeKind.values
                        else parent_kind,
                        "parents": ", ".join(str(NodeKind(k).label) for k in allowed),
                    }
                )
        if voltage_kv is not None and voltage_kv <= 0:
            errors["voltage_kv"] = str(_("The voltage must be positive."))
        for name, value in capacities.items():
            if value is not None and value < 0:
                errors[name] = str(_("A capacity cannot be negative."))
        return errors

    def clean(self) -> None:
        parent_kind = None
        if self.parent_id is not None:
            if self.pk is not None and self.parent_id == self.pk:
                raise ValidationError({"parent": _("A node cannot be fed from itself.")})
            parent = GridNode.objects.filter(pk=self.parent_id).values_list("kind", "path").first()
            parent_kind, parent_path = parent if parent is not None else (None, "")
            own_path = (
                GridNode.objects.filter(pk=self.pk).values_list("path", flat=True).first() if self.pk else ""
            )
            if own_path and parent_path.startswith(own_path):
                raise ValidationError({"parent": _("A node cannot be fed from its own subtree.")})
        errors = self.invariant_errors(
            kind=self.kind,
            parent_kind=parent_kind,
            voltage_kv=self.voltage_kv,
            capacities={
                "installed_mva": self.installed_mva,
                "load_mva": self.load_mva,
                "reserved_mva": self.reserved_mva,
            },
        )
        if errors:
            raise ValidationError(errors)


class Feed(models.Model):
    """Which grid node (normally a transformer substation or a 0.4 kV line) feeds a service point."""

    service_point = models.OneToOneField(
        ServicePoint,
        verbose_name=_("service point"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="feed",
    )
    node = models.ForeignKey(
        GridNode, verbose_name=_("grid node"), on_delete=models.PROTECT, related_name="feeds"
    )

    class Meta:
        verbose_name = _("supply link")
        verbose_name_plural = _("supply links")

    def __str__(self) -> str:
        return f"{self.service_point_id} ← {self.node_id}"


class OutageCounter(models.Model):
    """The last outage number issued in a year (row-locked while a number is taken)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("outage counter")
        verbose_name_plural = _("outage counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Outage(models.Model):
    """A planned or unplanned interruption of supply on one or more grid nodes."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OutageKind.choices)
    status = models.CharField(_("status"), max_length=20, choices=OutageStatus.choices, db_index=True)
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey(
        GridNode, verbose_name=_("grid node"), on_delete=models.PROTECT, related_name="outages"
    )
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices, default=Cause.UNKNOWN)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    works_order = models.CharField(_("works order"), max_length=50, blank=True)
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    started_at = models.DateTimeField(_("power off at"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)
    etr = models.DateTimeField(_("estimated restoration time"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    is_momentary = models.BooleanField(_("momentary interruption"), default=False)
    customers_affected = models.PositiveIntegerField(_("customers affected"), default=0)
    reports = models.PositiveIntegerField(_("reports attached"), default=0)
    crews = models.PositiveSmallIntegerField(_("crews on site"), default=0)
    incident = models.OneToOneField(
        "appeals.Incident",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outage",
    )
    mass_mode_at = models.DateTimeField(_("mass-outage mode since"), null=True, blank=True)
    note = models.TextField(_("dispatcher's note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["status", "kind"], name="outage_status_kind"),
            models.Index(fields=["branch", "started_at"], name="outage_branch_start"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.node.name if self.node_id else ''}".strip()

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _branch_q(user)

    @property
    def is_off(self) -> bool:
        return self.status in OFF_STATUSES

    @property
    def duration(self) -> dt.timedelta | None:
        if self.started_at is None:
            return None
        return (self.restored_at or timezone.now()) - self.started_at


class OutageNode(models.Model):
    """A node switched off by an outage; partial restoration restores nodes one by one."""

    outage = models.ForeignKey(
        Outage, verbose_name=_("outage"), on_delete=models.CASCADE, related_name="nodes"
    )
    node = models.ForeignKey(
        GridNode, verbose_name=_("grid node"), on_delete=models.PROTECT, related_name="+"
    )
    off_at = models.DateTimeField(_("off at"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)
    customers = models.PositiveIntegerField(_("customers"), default=0)

    class Meta:
        verbose_name = _("outage node")
        verbose_name_plural = _("outage nodes")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["outage", "node"], name="outage_node_once")]
        indexes = [models.Index(fields=["node", "restored_at"], name="outage_node_open")]

    def __str__(self) -> str:
        return f"{self.outage_id}:{self.node_id}"


class EtrChange(models.Model):
    """One change of the estimated restoration time, kept so callers' answers can be traced."""

    outage = models.ForeignKey(
        Outage, verbose_name=_("outage"), on_delete=models.CASCADE, related_name="etr_changes"
    )
    etr = models.DateTimeField(_("new estimate"))
    previous = models.DateTimeField(_("previous estimate"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("restoration time change")
        verbose_name_plural = _("restoration time changes")
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.outage_id}: {self.etr:%Y-%m-%d %H:%M}"


class OutageEvent(models.Model):
    """The outage's timeline as the dispatcher's card shows it."""

    outage = models.ForeignKey(
        Outage, verbose_name=_("outage"), on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(_("type"), max_length=20, choices=OutageEventType.choices)
    time = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    payload = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("outage event")
        verbose_name_plural = _("outage events")
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.type}"


class LocalAuthority(models.Model):
    """A head of a settlement or a local administration told about mass outages on their territory."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("authority"), max_length=300)
    head_name = models.CharField(_("head"), max_length=200, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    settlement = models.CharField(
        _("settlement"), max_length=100, blank=True, help_text=_("Empty: the whole district.")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("local authority")
        verbose_name_plural = _("local authorities")
        ordering = ["district", "settlement", "name"]

    def __str__(self) -> str:
        return self.name


class Announcement(models.Model):
    """A message played to callers from the listed settlements (the contact centre's emergency override)."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    outage = models.ForeignKey(
        Outage,
        verbose_name=_("outage"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="announcements",
    )
    settlements = models.JSONField(_("settlements"), default=list)
    text = models.TextField(_("text (Russian)"))
    text_en = models.TextField(_("text (English)"), blank=True)
    active_from = models.DateTimeField(_("active from"), default=timezone.now)
    active_until = models.DateTimeField(_("active until"), null=True, blank=True)

    class Meta:
        verbose_name = _("announcement for callers")
        verbose_name_plural = _("announcements for callers")
        ordering = ["-active_from"]

    def __str__(self) -> str:
        return self.text[:80]


class OutageSettings(models.Model):
    """Thresholds of the outages capability, one row edited in the admin (defaults are the policy)."""

    report_threshold = models.PositiveSmallIntegerField(
        _("reports under one node that propose an outage"), default=3
    )
    report_window_min = models.PositiveSmallIntegerField(_("window for those reports, minutes"), default=30)
    momentary_min = models.PositiveSmallIntegerField(_("momentary interruption below, minutes"), default=5)
    mass_threshold = models.PositiveIntegerField(_("customers affected for mass-outage mode"), default=1000)
    planned_notice_days = models.PositiveSmallIntegerField(_("publish planned works ahead, days"), default=30)

    class Meta:
        verbose_name = _("outage settings")
        verbose_name_plural = _("outage settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> OutageSettings:
        row = cls.objects.order_by("pk").first()
        return row if row is not None else cls()


__all__ = [
    "Announcement",
    "EtrChange",
    "Feed",
    "GridNode",
    "LocalAuthority",
    "Outage",
    "OutageEvent",
    "OutageNode",
    "OutageSettings",
    "OutageEventType",
    "OutageKind",
    "OutageStatus",
]
