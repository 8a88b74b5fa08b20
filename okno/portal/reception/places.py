"""Where a form's address is: the building in the address directory, or at least the branch.

The reception's forms take an address as people type it. :func:`resolve` asks the same lookup as the
outage page and the IVR (:func:`okno.outages.lookup.power_at`):

* one building found → the appeal gets that building's :class:`~okno.customers.models.Address` (so it
  is routed by the building's grid district, and the outage loop can place a "no power" report on the
  grid); a building-level row (no flat) is preferred, so the appeal does not point at someone's flat;
* several buildings → no address; the branch when they all lie in one;
* nothing found → the branch whose grid district lists the settlement typed (``GridDistrict.settlements``).

The typed text always goes into ``address_text`` as well: staff read what the person wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.utils import timezone

from okno.customers.models import Address
from okno.org.models import Branch, GridDistrict
from okno.outages.lookup import AMBIGUOUS, OK, LookupResult, power_at, settlement_key


@dataclass
class Place:
    """What an address typed in a form resolved to."""

    text: str
    address: Address | None = None
    branch: Branch | None = None
    lookup: LookupResult | None = None
    candidates: list[tuple[int, str]] = field(default_factory=list)  # (address id, text) when ambiguous

    @property
    def tz(self) -> dt.tzinfo:
        """The time zone of the address's branch (the site's zone when not known)."""
        return self.branch.tz if self.branch is not None else timezone.get_current_timezone()


def building_address(address_id: int) -> Address | None:
    """The building-level address row of the building of ``address_id`` (a flat's row when there is none)."""
    row = Address.objects.filter(pk=address_id).first()
    if row is None:
        return None
    same = Address.objects.filter(
        settlement=row.settlement, street=row.street, house=row.house, building=row.building, flat=""
    ).order_by("pk")
    return same.select_related("grid_district__branch").first() or row


def _branch_of(address: Address | None) -> Branch | None:
    if address is None or address.grid_district_id is None:
        return None
    district = GridDistrict.objects.select_related("branch").filter(pk=address.grid_district_id).first()
    return district.branch if district is not None else None


def branch_for_settlement(text: str) -> Branch | None:
    """The branch whose grid district serves a settlement named in ``text`` (one branch only)."""
    typed = f" {settlement_key(text)} "
    found: set[int] = set()
    for district in GridDistrict.objects.only("branch_id", "settlements"):
        for name in district.settlement_list():
            key = settlement_key(name)
            if key and re.search(rf"(?<!\w){re.escape(key)}(?!\w)", typed):
                found.add(district.branch_id)
    if len(found) == 1:
        return Branch.objects.filter(pk=found.pop()).first()
    return None


def resolve(text: str, *, address_id: int | None = None) -> Place:
    """Resolve ``text`` (and, after an ambiguous answer, the building the person chose)."""
    text = (text or "").strip()
    place = Place(text=text)
    if not text:
        return place
    result = power_at(address=text)
    place.lookup = result
    if result.status == AMBIGUOUS:
        place.candidates = [(a.match.id, a.match.text) for a in result.answers]
        if address_id is not None and address_id in {c[0] for c in place.candidates}:
            place.lookup = power_at(address_id=address_id)
            place.address = building_address(address_id)
        else:
            branches = {_branch_of(Address.objects.filter(pk=c[0]).first()) for c in place.candidates}
            if len(branches) == 1:
                place.branch = branches.pop()
            return place
    elif result.status == OK and result.answers:
        place.address = building_address(result.answers[0].match.id)
    place.branch = _branch_of(place.address) or branch_for_settlement(text)
    return place
