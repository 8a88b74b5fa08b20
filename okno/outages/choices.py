"""Enumerations of the outages capability (codes are stable English words, labels translated)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NodeKind(models.TextChoices):
    POWER_CENTRE = "power_centre", _("Power centre (35–110 kV substation)")
    FEEDER = "feeder", _("Feeder (6–10 kV line)")
    SUBSTATION = "substation", _("Transformer substation (10(6)/0.4 kV)")
    LINE = "line", _("0.4 kV line")


# Parent kinds allowed for each kind: the tree runs power centre → feeder → substation → line.
PARENT_KINDS: dict[str, tuple[str, ...]] = {
    NodeKind.POWER_CENTRE: (),
    NodeKind.FEEDER: (NodeKind.POWER_CENTRE,),
    NodeKind.SUBSTATION: (NodeKind.FEEDER,),
    NodeKind.LINE: (NodeKind.SUBSTATION,),
}


class OutageKind(models.TextChoices):
    PLANNED = "planned", _("Planned")
    UNPLANNED = "unplanned", _("Unplanned")


class OutageStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed from reports")
    SCHEDULED = "scheduled", _("Scheduled")
    ACTIVE = "active", _("Power off")
    PARTIALLY_RESTORED = "partially_restored", _("Partially restored")
    RESTORED = "restored", _("Restored")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses in which some customers are without power right now.
OFF_STATUSES = (OutageStatus.ACTIVE, OutageStatus.PARTIALLY_RESTORED)
# Statuses a lookup reports: off now, or announced for the future.
OPEN_STATUSES = (OutageStatus.SCHEDULED, OutageStatus.ACTIVE, OutageStatus.PARTIALLY_RESTORED)


class Cause(models.TextChoices):
    PLANNED_WORKS = "planned_works", _("Planned works")
    EQUIPMENT = "equipment", _("Equipment failure")
    WEATHER = "weather", _("Weather (wind, ice, storm)")
    LIGHTNING = "lightning", _("Lightning")
    VEGETATION = "vegetation", _("Trees and vegetation")
    ANIMAL = "animal", _("Animals and birds")
    THIRD_PARTY = "third_party", _("Third-party damage")
    OVERLOAD = "overload", _("Overload")
    PROTECTION = "protection", _("Protection misoperation")
    UPSTREAM = "upstream", _("Loss of supply from the upstream grid")
    UNKNOWN = "unknown", _("Cause not yet known")


class OutageEventType(models.TextChoices):
    PROPOSED = "proposed", _("Proposed from reports")
    REGISTERED = "registered", _("Registered")
    SCHEDULED = "scheduled", _("Scheduled and published")
    CONFIRMED = "confirmed", _("Confirmed by the dispatcher")
    STARTED = "started", _("Power switched off")
    NODE_ADDED = "node_added", _("Node added")
    NODE_RESTORED = "node_restored", _("Node restored")
    ETR_CHANGED = "etr_changed", _("Restoration time changed")
    RESTORED = "restored", _("Restored")
    CANCELLED = "cancelled", _("Cancelled")
    REPORT_ATTACHED = "report_attached", _("Report attached")
    MASS_MODE = "mass_mode", _("Mass-outage mode")
    NOTICE = "notice", _("Notices sent")
    NOTE = "note", _("Note")
