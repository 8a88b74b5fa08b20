"""Mass-outage mode: when an outage leaves enough customers without power, local authorities are told,
callers from the affected settlements hear an announcement, and the incident dashboard lists it."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.org.models import system_actor
from okno.outages.choices import OFF_STATUSES, OutageEventType
from okno.outages.fanout import affected_service_points, affected_settlements, context_for
from okno.outages.models import Announcement, LocalAuthority, Outage, OutageSettings


def _texts(outage: Outage, settlements: list[str]) -> tuple[str, str]:
    tz = outage.branch.tz
    etr = timezone.localtime(outage.etr, tz).strftime("%d.%m.%Y %H:%M") if outage.etr else None
    where = ", ".join(settlements[:8]) + ("…" if len(settlements) > 8 else "")
    texts = []
    for lang in ("ru", "en"):
        with translation.override(lang):
            text = _("Mass power outage in %(where)s. Crews are working.") % {"where": where}
            text += " " + (
                _("Estimated restoration: %(t)s.") % {"t": etr}
                if etr
                else _("The restoration time is being assessed.")
            )
            texts.append(text)
    return texts[0], texts[1]


def authorities_for(branch_id: int, pairs: list[tuple[str, str]]) -> QuerySet[LocalAuthority]:
    """Heads registered for an affected settlement, or for its whole district."""
    q = Q()
    for district, settlement in pairs:
        q |= Q(settlement=settlement)
        if district:
            q |= Q(district=district, settlement="")
    if not q:
        return LocalAuthority.objects.none()
    return LocalAuthority.objects.filter(q, branch_id=branch_id, active=True)


def check(outage_id: int) -> bool:
    """Enter mass mode when the outage's customers pass the threshold (once per outage)."""
    from okno.outages.actions import record_event

    with transaction.atomic():
        outage = Outage.objects.select_for_update().select_related("branch", "node").get(pk=outage_id)
        policy = OutageSettings.current()
        if (
            outage.mass_mode_at
            or outage.status not in OFF_STATUSES
            or outage.customers_affected < policy.mass_threshold
        ):
            return False
        now = timezone.now()
        outage.mass_mode_at = now
        outage.save(update_fields=["mass_mode_at"])
        pairs = affected_settlements(affected_service_points(outage))
        settlements = sorted({s for _d, s in pairs})
        ru, en = _texts(outage, settlements)
        Announcement.objects.create(
            branch=outage.branch, outage=outage, settlements=settlements, text=ru, text_en=en, active_from=now
        )
        heads = list(authorities_for(outage.branch_id, pairs))
        record_event(
            outage,
            OutageEventType.MASS_MODE,
            system_actor("outages"),
            now,
            customers=outage.customers_affected,
            settlements=settlements,
            authorities=len(heads),
        )
        _tell_authorities(outage, heads, settlements, f"outage:{outage.pk}:mass")
    return True


def _tell_authorities(outage: Outage, heads: list[LocalAuthority], settlements: list[str], key: str) -> None:
    recipients: list[tuple[str, str, str]] = []
    for head in heads:
        if head.email:
            recipients.append(("email", head.email, "ru"))
        if head.phone:
            recipients.append(("sms", head.phone, "ru"))
    if not recipients:
        return
    from okno.notify.planning import notify_direct

    context = context_for(outage, settlements)
    transaction.on_commit(lambda: notify_direct(key, "mass_outage_authority", recipients, context))


def refresh_announcement(outage_id: int) -> None:
    """A new ETR is read to callers at once."""
    outage = Outage.objects.select_related("branch").get(pk=outage_id)
    for ann in Announcement.objects.filter(outage=outage, active_until__isnull=True):
        ann.text, ann.text_en = _texts(outage, list(ann.settlements))
        ann.save(update_fields=["text", "text_en"])


def leave(outage_id: int) -> None:
    """The outage is over: announcements stop and the authorities hear that power is back."""
    outage = Outage.objects.select_related("branch", "node").get(pk=outage_id)
    if not outage.mass_mode_at:
        return
    now = timezone.now()
    Announcement.objects.filter(outage=outage, active_until__isnull=True).update(active_until=now)
    pairs = affected_settlements(affected_service_points(outage, open_only=False))
    heads = list(authorities_for(outage.branch_id, pairs))
    _tell_authorities(outage, heads, sorted({s for _d, s in pairs}), f"outage:{outage.pk}:mass-end")


def active_announcements(*, branch_id: int | None = None, settlement: str = "") -> list[Announcement]:
    """What the contact centre plays to a caller from ``settlement`` right now (a handful of rows)."""
    now = timezone.now()
    qs = Announcement.objects.filter(active_from__lte=now).filter(
        Q(active_until__isnull=True) | Q(active_until__gt=now)
    )
    if branch_id is not None:
        qs = qs.filter(branch_id=branch_id)
    return [a for a in qs if not settlement or settlement in a.settlements]
