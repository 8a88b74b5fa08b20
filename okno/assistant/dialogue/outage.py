""" "Is there power at …": the address from the text (``okno.assistant.extract``, resolved to Address
rows), or the customer's own account, through the outage lookup (``okno.outages.lookup.power_at``, the
same one the IVR, the cabinet and the public page use)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from okno.assistant.dialogue.texts import Choice, choice, default_tz, local_time
from okno.contact_center.ivr_services import PLANNED_DAYS, spoken_address
from okno.customers.models import Account, Address, ServicePoint
from okno.outages import lookup
from okno.outages.choices import Cause
from okno.outages.models import Outage

MAX_CHOICES = 6


@dataclass
class Place:
    """What the text named: one address row, several to choose from, or nothing usable."""

    address_id: int | None = None
    options: list[tuple[int, str]] = field(default_factory=list)  # (address id, label)
    typed: str = ""  # the address as written, for the "not found" answer
    mentioned: bool = False  # an address-like phrase was there at all


def _label(row: Address) -> str:
    return spoken_address(row)


def _buildings(ids: list[int]) -> list[tuple[int, str]]:
    """One option per building (flats of one house are one place for the power question)."""
    seen: dict[tuple[str, str, str, str], tuple[int, str]] = {}
    for row in Address.objects.filter(pk__in=ids).order_by("settlement", "street", "house", "building", "pk"):
        key = (row.settlement, row.street, row.house, row.building)
        seen.setdefault(key, (row.pk, _label(row)))
    return list(seen.values())


def place_in(text: str) -> Place:
    """The address named in ``text``: resolved, ambiguous (options) or unknown."""
    from okno.assistant.extract import extract

    entities = extract(text)
    for mention in entities.addresses:
        if mention.address_id is not None:
            return Place(address_id=mention.address_id, typed=mention.text, mentioned=True)
        if mention.candidates:
            options = _buildings(mention.candidates)
            if len(options) == 1:
                return Place(address_id=options[0][0], typed=mention.text, mentioned=True)
            return Place(options=options, typed=mention.text, mentioned=True)
    typed = entities.addresses[0].text if entities.addresses else ""
    # The lookup's own parser reads what the extractor left (a house without a street type, …).
    result = lookup.power_at(address=text)
    if result.status == lookup.OK and result.matches:
        return Place(address_id=result.matches[0].id, typed=typed or text, mentioned=True)
    if result.status == lookup.AMBIGUOUS and result.matches:
        options = [
            (m.id, ", ".join(p for p in (m.settlement, m.street, f"д. {m.house}") if p))
            for m in result.matches
        ]
        return Place(options=options, typed=typed or text, mentioned=True)
    return Place(typed=typed, mentioned=bool(typed))


def options_choices(options: list[tuple[int, str]]) -> list[Choice]:
    return [choice(label, f"addr:{pk}") for pk, label in options[:MAX_CHOICES]]


def _tz_for(address_id: int, outage_numbers: list[str]) -> dt.tzinfo:
    sp = ServicePoint.objects.filter(address_id=address_id).select_related("branch").first()
    if sp is not None:
        return sp.branch.tz
    outage = Outage.objects.filter(number__in=outage_numbers).select_related("branch").first()
    if outage is not None:
        return outage.branch.tz
    return default_tz()


def _cause(code: str) -> str:
    return str(dict(Cause.choices).get(code, code)).lower()


def answer_for_address(address_id: int, *, now: dt.datetime | None = None) -> tuple[str, bool | None]:
    """The answer about one building and whether power is on there (None: not known)."""
    now = now or timezone.now()
    result = lookup.power_at(address_id=address_id, now=now)
    row = Address.objects.filter(pk=address_id).first()
    if not result.answers or row is None:
        return _("I could not find this address in our records."), None
    answer = result.answers[0]
    place = _label(row)
    tz = _tz_for(address_id, [o.number for o in answer.outages])
    parts: list[str] = []
    off = [o for o in answer.outages if o.off_now]
    if off:
        outage = off[0]
        parts.append(
            _("There is no power at %(address)s: outage %(number)s, %(reason)s.")
            % {"address": place, "number": outage.number, "reason": outage.reason or _cause(outage.cause)}
        )
        if outage.partially_restored:
            parts.append(_("Power has already been restored to part of the area."))
        if outage.etr is not None:
            parts.append(_("Estimated restoration: %(time)s.") % {"time": local_time(outage.etr, tz)})
        else:
            parts.append(_("Crews are working on it; the restoration time is not known yet."))
    elif answer.power_on:
        parts.append(
            _("According to our data there is power at %(address)s: no outages there now.")
            % {"address": place}
        )
    else:
        parts.append(_("We have no reports of a power cut at %(address)s.") % {"address": place})
    horizon = now + dt.timedelta(days=PLANNED_DAYS)
    planned = [
        o
        for o in answer.outages
        if not o.off_now
        and o.planned_start is not None
        and o.planned_end is not None
        and o.planned_end >= now
        and o.planned_start <= horizon
    ]
    for o in sorted(planned, key=lambda w: w.planned_start or now)[:3]:
        assert o.planned_start is not None and o.planned_end is not None
        parts.append(
            _("Planned works: from %(start)s to %(end)s, %(reason)s.")
            % {
                "start": local_time(o.planned_start, tz),
                "end": local_time(o.planned_end, tz),
                "reason": o.reason or _cause(o.cause),
            }
        )
    if not off and not planned and answer.power_on is not None:
        parts.append(_("No planned works there in the next %(days)s days.") % {"days": PLANNED_DAYS})
    return " ".join(parts), answer.power_on


def account_address_id(account: Account) -> int:
    return Account.objects.filter(pk=account.pk).values_list("service_point__address_id", flat=True).get()
