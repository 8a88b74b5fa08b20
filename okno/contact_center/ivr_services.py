"""What the IVR asks the rest of Okno, with real data: :class:`OknoServices` implements
:class:`okno.contact_center.ivr.Services`.

Texts come back ready to speak, in the caller's language (``language``; the default is the site's). A flow
may carry its own prompts (``"prompts": {"key": {"ru": "…", "en": "…"}}`` in its definition); they win over
the built-in ones in :data:`PROMPTS`.

* accounts by the calling number: the customer's phone contacts (``okno.customers``), open accounts only;
* an account by the digits typed (spaces and dashes dropped, as ``customers.numbers`` does);
* the mass-outage announcement (``okno.outages.mass``) for the caller's settlements, or every active one
  when the caller is not known;
* power at the account's address (``okno.outages.lookup.power_at``): the outage and its restoration time
  in the branch's time zone, or "power is on";
* planned works at the address in the next :data:`PLANNED_DAYS` days;
* the balance (``okno.billing.ledger``, the figure of the account card) and the last payment;
* the meter's zones and the reading itself (``okno.billing.ivr.ivr_submit``, which maps refusals to prompts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.contact_center.ivr import AccountRef
from okno.customers.models import Account, ContactPoint
from okno.customers.numbers import normalize_account_number, normalize_phone

PLANNED_DAYS = 7

PROMPTS: dict[str, Any] = {
    "greeting": gettext_lazy("Hello! You have called the electric grid company."),
    "main_menu": gettext_lazy(
        "To check the power at your address, press 1. To submit meter readings, press 2. "
        "To hear your balance, press 3. To hear about planned works, press 4. "
        "For grid connection, press 5. For other questions, press 6. To end the call, press 9. "
        "To talk to an operator, press 0."
    ),
    "outage_menu": gettext_lazy(
        "To report a power cut to an operator, press 1. To return to the main menu, press 2. "
        "To talk to an operator, press 0."
    ),
    "balance_menu": gettext_lazy(
        "For a question about your bill, press 1. To return to the main menu, press 2. "
        "To talk to an operator, press 0."
    ),
    "enter_account": gettext_lazy("Please enter your account number, then press the hash key."),
    "several_accounts": gettext_lazy(
        "Several accounts are registered to your number. Please enter the account number, "
        "then press the hash key."
    ),
    "account_not_found": gettext_lazy(
        "Account not found. Please check the number on your bill and enter it again."
    ),
    "identified": gettext_lazy("Thank you, your account is found."),
    "enter_meter_serial": gettext_lazy(
        "To hear confidential data, please enter the last 4 digits of your meter's serial number, "
        "then press the hash key."
    ),
    "meter_serial_wrong": gettext_lazy(
        "The digits do not match the meter on this account. Please enter the last 4 digits again."
    ),
    "invalid_input": gettext_lazy("The choice was not recognised."),
    "to_operator": gettext_lazy("Let me put you through to an operator."),
    "connecting": gettext_lazy("Connecting you to an operator. Please stay on the line."),
    "goodbye": gettext_lazy("Thank you for calling. Goodbye!"),
    "enter_reading": gettext_lazy(
        "Enter the reading of zone %(zone)s of %(zones)s, using the star key for the decimal point, "
        "then press the hash key."
    ),
    "no_meter": gettext_lazy("There is no meter in service on your account."),
    "position": gettext_lazy("You are number %(position)s in the queue."),
    "expected_wait": gettext_lazy("The expected waiting time is about %(minutes)s min."),
    "expected_wait_short": gettext_lazy("An operator will answer in less than a minute."),
    "expected_wait_unknown": gettext_lazy("All operators are busy. Please wait for an answer."),
    "callback_offer": gettext_lazy(
        "To be called back instead of waiting, press 1: you keep your place in the queue."
    ),
    "callback_registered": gettext_lazy("We will call you back at %(number)s when it is your turn. Goodbye!"),
    "answered": gettext_lazy("Operator %(agent)s is on the line."),
    "power_on": gettext_lazy("There is power at %(address)s according to our records."),
    "power_unknown": gettext_lazy("We have no reports of a power cut at %(address)s."),
    "outage_off": gettext_lazy("There is no power at %(address)s: outage %(number)s, %(reason)s."),
    "etr": gettext_lazy("Estimated restoration: %(time)s, %(zone)s time."),
    "etr_unknown": gettext_lazy("Crews are working on it; the restoration time is not known yet."),
    "planned_none": gettext_lazy("No planned works at %(address)s in the next %(days)s days."),
    "planned_one": gettext_lazy("Planned works at %(address)s: from %(start)s to %(end)s, %(reason)s."),
    "balance_debt": gettext_lazy(
        "As of %(date)s you owe %(rub)s roubles %(kop)s kopecks for account %(account)s."
    ),
    "balance_advance": gettext_lazy(
        "As of %(date)s you have paid %(rub)s roubles %(kop)s kopecks in advance on account %(account)s."
    ),
    "balance_zero": gettext_lazy("As of %(date)s account %(account)s has no debt."),
    "last_payment": gettext_lazy("The last payment: %(rub)s roubles %(kop)s kopecks on %(date)s."),
    "no_payments": gettext_lazy("No payments have been received yet."),
}


def _cause(code: str) -> str:
    from okno.outages.choices import Cause

    return str(dict(Cause.choices).get(code, code)).lower()


def spoken_address(address: Any) -> str:
    """The address as the IVR speaks it: settlement, street, house and building — never the flat."""
    parts = [address.settlement, address.street, f"д. {address.house}" if address.house else ""]
    if address.building:
        parts.append(f"корп. {address.building}")
    return ", ".join(p for p in parts if p)


def _rub_kop(kop: int) -> dict[str, str]:
    kop = abs(int(kop))
    return {"rub": str(kop // 100), "kop": f"{kop % 100:02d}"}


class OknoServices:
    """The IVR's view of Okno for one caller (``caller``: the calling number, as the telephony gives it)."""

    def __init__(
        self, *, caller: str = "", language: str = "", prompts: dict[str, dict[str, str]] | None = None
    ) -> None:
        self.caller = caller
        self.language = language or settings.LANGUAGE_CODE
        self.flow_prompts = prompts or {}

    # ------------------------------------------------------------------ prompts

    def prompt(self, key: str, **params: Any) -> str:
        with translation.override(self.language):
            own = self.flow_prompts.get(key)
            if isinstance(own, dict) and own:
                text = own.get(self.language) or own.get(settings.LANGUAGE_CODE) or next(iter(own.values()))
            elif key in PROMPTS:
                text = str(PROMPTS[key])
            else:
                return ""
            return text % params if params and "%(" in text else text

    # ------------------------------------------------------------------ identification

    @staticmethod
    def _ref(account: Account) -> AccountRef:
        return AccountRef(
            id=account.pk, number=account.number, address=spoken_address(account.service_point.address)
        )

    def accounts_by_phone(self, phone: str) -> list[AccountRef]:
        value = normalize_phone(phone)
        if not value:
            return []
        customer_ids = ContactPoint.objects.filter(kind="phone", value=value).values("customer_id")
        accounts = (
            Account.objects.filter(customer_id__in=customer_ids, closed_on__isnull=True)
            .select_related("service_point__address")
            .order_by("number")
        )
        return [self._ref(a) for a in accounts[:10]]

    def account_by_number(self, digits: str) -> AccountRef | None:
        number = normalize_account_number(digits)
        if not number.isdigit():
            return None
        account = (
            Account.objects.filter(number=number, closed_on__isnull=True)
            .select_related("service_point__address")
            .first()
        )
        return self._ref(account) if account is not None else None

    def _account(self, ref: AccountRef) -> Account:
        return Account.objects.select_related("service_point__address", "service_point__branch").get(
            pk=ref.id
        )

    # ------------------------------------------------------------------ outages

    def emergency_announcement(self) -> str:
        from okno.outages.mass import active_announcements

        places: set[tuple[int, str]] = set()
        if self.caller:
            for ref in self.accounts_by_phone(self.caller):
                sp = self._account(ref).service_point
                places.add((sp.branch_id, sp.address.settlement))
        found = []
        if places:
            for branch_id, settlement in sorted(places):
                found.extend(active_announcements(branch_id=branch_id, settlement=settlement))
        else:
            found = active_announcements()
        texts: list[str] = []
        for ann in found:
            text = ann.text_en if self.language.startswith("en") and ann.text_en else ann.text
            if text and text not in texts:
                texts.append(text)
        return " ".join(texts[:2])

    def outage_status(self, account: AccountRef) -> str:
        from okno.outages.lookup import power_at

        acc = self._account(account)
        tz = acc.service_point.branch.tz
        result = power_at(account=acc.number)
        address = spoken_address(acc.service_point.address)
        with translation.override(self.language):
            if not result.answers:
                return _("We have no reports of a power cut at %(address)s.") % {"address": address}
            answer = result.answers[0]
            off = [o for o in answer.outages if o.off_now]
            if not off:
                key = "power_on" if answer.power_on else "power_unknown"
                return str(PROMPTS[key]) % {"address": address}
            outage = off[0]
            parts = [
                str(PROMPTS["outage_off"])
                % {
                    "address": address,
                    "number": outage.number,
                    "reason": outage.reason or _cause(outage.cause),
                }
            ]
            if outage.etr is not None:
                local = timezone.localtime(outage.etr, tz)
                parts.append(
                    str(PROMPTS["etr"]) % {"time": local.strftime("%d.%m.%Y %H:%M"), "zone": str(tz)}
                )
            else:
                parts.append(str(PROMPTS["etr_unknown"]))
            return " ".join(parts)

    def planned_outages(self, account: AccountRef) -> str:
        from okno.outages.lookup import power_at

        acc = self._account(account)
        tz = acc.service_point.branch.tz
        now = timezone.now()
        horizon = now + dt.timedelta(days=PLANNED_DAYS)
        result = power_at(account=acc.number)
        address = spoken_address(acc.service_point.address)
        works = []
        for answer in result.answers[:1]:
            for o in answer.outages:
                if o.kind != "planned" or o.planned_start is None or o.planned_end is None:
                    continue
                if o.planned_end >= now and o.planned_start <= horizon:
                    works.append(o)
        with translation.override(self.language):
            if not works:
                return str(PROMPTS["planned_none"]) % {"address": address, "days": PLANNED_DAYS}
            texts = []
            for o in sorted(works, key=lambda w: w.planned_start or now)[:3]:
                start = timezone.localtime(o.planned_start, tz)
                end = timezone.localtime(o.planned_end, tz)
                texts.append(
                    str(PROMPTS["planned_one"])
                    % {
                        "address": address,
                        "start": start.strftime("%d.%m.%Y %H:%M"),
                        "end": end.strftime("%d.%m.%Y %H:%M")
                        if end.date() != start.date()
                        else f"{end:%H:%M}",
                        "reason": o.reason,
                    }
                )
            return " ".join(texts)

    # ------------------------------------------------------------------ billing

    def balance(self, account: AccountRef) -> str:
        from okno.billing.ledger import balance_kop
        from okno.billing.models import Payment

        acc = self._account(account)
        today = timezone.localdate(timezone=acc.service_point.branch.tz)
        kop = balance_kop(acc.pk, today)
        last = (
            Payment.objects.filter(account=acc, paid_on__lte=today)
            .exclude(status=Payment.Status.RETURNED)
            .order_by("-paid_on", "-id")
            .first()
        )
        params = {"date": today.strftime("%d.%m.%Y"), "account": acc.number, **_rub_kop(kop)}
        with translation.override(self.language):
            if kop > 0:
                parts = [str(PROMPTS["balance_debt"]) % params]
            elif kop < 0:
                parts = [str(PROMPTS["balance_advance"]) % params]
            else:
                parts = [str(PROMPTS["balance_zero"]) % params]
            if last is not None:
                parts.append(
                    str(PROMPTS["last_payment"])
                    % {"date": last.paid_on.strftime("%d.%m.%Y"), **_rub_kop(last.amount_kop)}
                )
            else:
                parts.append(str(PROMPTS["no_payments"]))
            return " ".join(parts)

    def meter_zones(self, account: AccountRef) -> int:
        from okno.billing.models import Meter

        meter = (
            Meter.objects.filter(account_id=account.id, status=Meter.Status.ACTIVE).order_by("-pk").first()
        )
        return meter.zones if meter is not None else 0

    def meter_serial_matches(self, account: AccountRef, last_digits: str) -> bool:
        """The second factor of a caller from an unknown number: the last 4 digits of the serial number
        of a meter in service on the account."""
        from okno.billing.models import Meter

        if len(last_digits) != 4 or not last_digits.isdigit():
            return False
        serials = Meter.objects.filter(account_id=account.id, status=Meter.Status.ACTIVE).values_list(
            "serial", flat=True
        )
        return any("".join(c for c in serial if c.isdigit())[-4:] == last_digits for serial in serials)

    def submit_reading(self, account: AccountRef, digits: Sequence[str]) -> tuple[bool, str]:
        from okno.billing.ivr import ivr_submit

        result = ivr_submit(
            account_digits=account.number, zone_digits=list(digits), caller=self.caller or None
        )
        return result.ok, result.text


__all__ = ["PLANNED_DAYS", "PROMPTS", "OknoServices", "spoken_address"]
