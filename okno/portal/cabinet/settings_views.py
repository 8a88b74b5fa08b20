"""The cabinet's notification settings: contacts and allowed channels, outage notices, consents.

Settings belong to the customer (a consent is the customer's), so the page has one section per customer
whose account the user holds; outage notices are switched per account the user holds. Every change goes
through an action (:mod:`okno.customers.consents`, :mod:`okno.notify.cabinet`) as ``system:cabinet``
and is a line in the customer's contact history. A customer id or account id the user does not hold
answers 404.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from okno.customers import consents
from okno.customers.choices import ConsentPurpose, ContactKind
from okno.customers.models import Account, CabinetUser, Consent, Customer
from okno.notify import cabinet as notify_cabinet
from okno.notify.choices import Channel as NotifyChannel
from okno.notify.choices import Source
from okno.notify.planning import CONSENT_CHANNELS
from okno.portal.cabinet.appeal_views import cabinet_actor
from okno.portal.cabinet.session import cabinet_required, current_user, my_account, my_accounts, pop_draft

# The notice channels a customer can allow here (push and messenger are set up by the app and the bot).
CABINET_CHANNELS = (NotifyChannel.EMAIL, NotifyChannel.SMS)
# Which contact kind each of them goes to.
CONTACT_OF = {NotifyChannel.EMAIL: ContactKind.EMAIL, NotifyChannel.SMS: ContactKind.PHONE}


def _customers(user: CabinetUser) -> list[tuple[Customer, list[Account]]]:
    """The customers whose accounts ``user`` holds, each with those accounts, in linking order."""
    grouped: dict[int, tuple[Customer, list[Account]]] = {}
    for account in my_accounts(user).select_related("customer__branch"):
        grouped.setdefault(account.customer_id, (account.customer, []))[1].append(account)
    return list(grouped.values())


def _tz(customer: Customer, accounts: list[Account]) -> zoneinfo.ZoneInfo:
    if accounts:
        return accounts[0].service_point.branch.tz
    if customer.branch_id and customer.branch is not None:
        return customer.branch.tz
    return zoneinfo.ZoneInfo(django_settings.TIME_ZONE)


def _section(user: CabinetUser, customer: Customer, accounts: list[Account]) -> dict[str, Any]:
    contacts = list(customer.contacts.order_by("kind", "-is_primary", "id"))
    history = list(customer.consents.order_by("-given_at", "-id"))
    active = {(c.channel, c.purpose) for c in history if c.withdrawn_at is None}
    channels = []
    for code in CABINET_CHANNELS:
        kinds = CONSENT_CHANNELS[code]
        direct = any((k, ConsentPurpose.SERVICE_NOTICES) in active for k in kinds)
        via_any = ("any", ConsentPurpose.SERVICE_NOTICES) in active
        contact = next((c.value for c in contacts if c.kind == CONTACT_OF[code]), "")
        if not contact:
            contact = user.email if code == NotifyChannel.EMAIL else user.phone
        channels.append(
            {
                "code": code,
                "label": NotifyChannel(code).label,
                "contact": contact,
                "allowed": direct or via_any,
                "direct": direct,
                "via_any": via_any and not direct,
            }
        )
    subscriptions = []
    for account in accounts:
        subs = notify_cabinet.account_subscriptions(account)
        active_sub = next((s for s in subs if s.active), None)
        subscriptions.append(
            {
                "account": account,
                "on": active_sub is not None,
                "channels": [NotifyChannel(c).label for c in active_sub.channels()] if active_sub else [],
            }
        )
    return {
        "customer": customer,
        "tz": _tz(customer, accounts),
        "contacts": contacts,
        "channels": channels,
        "any_allowed": any(c["allowed"] for c in channels),
        "subscriptions": subscriptions,
        "consents": history,
    }


def _my_customer(user: CabinetUser, customer_id: Any) -> Customer:
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise Http404 from None
    for customer, _accounts in _customers(user):
        if customer.pk == pk:
            return customer
    raise Http404


def _back(anchor: str = "") -> HttpResponse:
    return redirect(reverse("cabinet:settings") + (f"#{anchor}" if anchor else ""))


def _consent_label(channel: str, purpose: str) -> dict[str, str]:
    channel_labels = dict(Consent._meta.get_field("channel").choices or ())
    purposes = dict(ConsentPurpose.choices)
    return {"channel": str(channel_labels.get(channel, "")), "purpose": str(purposes.get(purpose, ""))}


@cabinet_required
def settings_page(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    assert user is not None
    if request.method == "POST":
        return _change(request, user)
    pop_draft(request)  # a button pressed after the session expired is not replayed: drop its draft
    sections = [_section(user, customer, accounts) for customer, accounts in _customers(user)]
    return render(
        request,
        "portal/cabinet/settings.html",
        {
            "sections": sections,
            "consent_channels": Consent._meta.get_field("channel").choices,
            "consent_purposes": ConsentPurpose.choices,
        },
    )


def _change(request: HttpRequest, user: CabinetUser) -> HttpResponse:
    action = request.POST.get("action", "")
    on = request.POST.get("on") == "1"
    actor = cabinet_actor()
    if action == "subscription":
        account = my_account(request, request.POST.get("account"))
        if on:
            contacts = notify_cabinet.contacts_for(
                account, fallback_email=user.email, fallback_phone=user.phone
            )
            try:
                notify_cabinet.switch_on(account, actor=actor, **contacts)
            except ValidationError:
                messages.error(
                    request,
                    _(
                        "Outage notices need an e-mail address or a phone number: none is on file for account %(n)s."
                    )
                    % {"n": account.number},
                )
                return _back("notices")
            messages.success(request, _("Outage notices for account %(n)s are on.") % {"n": account.number})
        else:
            notify_cabinet.switch_off(account, actor=actor)
            messages.success(request, _("Outage notices for account %(n)s are off.") % {"n": account.number})
        return _back("notices")

    customer = _my_customer(user, request.POST.get("customer"))
    channel = request.POST.get("channel", "")
    purpose = request.POST.get("purpose", "")
    try:
        if action == "channel":
            if channel not in CABINET_CHANNELS:
                raise ValidationError({"channel": [_("Choose a channel from the list.")]})
            label = NotifyChannel(channel).label
            if on:
                consents.give(
                    customer,
                    channel=channel,
                    purpose=ConsentPurpose.SERVICE_NOTICES,
                    actor=actor,
                    source=Source.CABINET,
                )
                messages.success(request, _("Service notices by %(c)s are allowed.") % {"c": label})
            else:
                consents.withdraw(
                    customer,
                    channels=CONSENT_CHANNELS[channel],
                    purpose=ConsentPurpose.SERVICE_NOTICES,
                    actor=actor,
                    source=Source.CABINET,
                )
                messages.success(
                    request, _("Service notices by %(c)s are not allowed any more.") % {"c": label}
                )
            return _back("channels")
        if action == "consent_give":
            given = consents.give(
                customer, channel=channel, purpose=purpose, actor=actor, source=Source.CABINET
            )
            text = (
                _("Consent given: %(purpose)s, %(channel)s.")
                if given is not None
                else _("This consent is already given: %(purpose)s, %(channel)s.")
            )
            messages.success(request, text % _consent_label(channel, purpose))
            return _back("consents")
        if action == "consent_withdraw":
            consents.withdraw(
                customer, channels=[channel], purpose=purpose, actor=actor, source=Source.CABINET
            )
            messages.success(
                request, _("Consent withdrawn: %(purpose)s, %(channel)s.") % _consent_label(channel, purpose)
            )
            return _back("consents")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _back("consents" if action.startswith("consent") else "channels")
    raise Http404
