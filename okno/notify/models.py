"""Subscriptions to outage notices, the notices planned for each event, their delivery attempts and texts."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.core.access import RestrictedQuerySet
from okno.customers.models import Account, Customer
from okno.notify.choices import (
    AttemptResult,
    Channel,
    Language,
    NoticeStatus,
    SkipReason,
    Source,
    TemplateCode,
)
from okno.org.models import Branch


def _branch_q(user: Any) -> Q | None:
    if user.all_branches:
        return None
    return Q(branch_id__in=user.branch_ids)


def new_token() -> str:
    """The secret of an unsubscribe/confirm link: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_code() -> str:
    """A six-digit confirmation code (sent by SMS when the subscriber has no e-mail)."""
    return f"{secrets.randbelow(10**6):06d}"


class Subscription(models.Model):
    """ "Есть свет!": who wants outage notices for a building or an account, and on which channels.

    A subscription targets either an account (its service point) or a building (settlement, street and
    house copied from :class:`~okno.customers.models.Address`, matched exactly against the addresses of
    affected service points). It belongs to a customer when known; then the customer's
    :class:`~okno.customers.models.Consent` rows decide per channel. An anonymous subscription (public
    site) carries its own consent and is used only after double opt-in (``confirmed_at``).
    """

    token = models.CharField(_("link token"), max_length=64, unique=True, default=new_token, editable=False)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    settlement = models.CharField(_("settlement"), max_length=100, blank=True)
    street = models.CharField(_("street"), max_length=150, blank=True)
    house = models.CharField(_("house"), max_length=20, blank=True)
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Whose time zone the quiet hours and dates follow."),
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.RU)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone for SMS"), max_length=20, blank=True)
    push = models.JSONField(
        _("web push subscription"),
        null=True,
        blank=True,
        help_text=_('{"endpoint": "...", "keys": {"p256dh": "...", "auth": "..."}}'),
    )
    messenger = models.CharField(_("messenger chat id"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.OPERATOR)
    active = models.BooleanField(_("active"), default=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirm_code = models.CharField(_("confirmation code"), max_length=6, default=new_code, editable=False)
    # Consent of an anonymous subscriber (a customer's consent lives in customers.Consent).
    consent_given_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["settlement", "street", "house"], name="notify_sub_house"),
        ]

    def __str__(self) -> str:
        if self.account_id:
            return f"#{self.pk} {_('account')} {self.account}"
        return f"#{self.pk} {self.building_label}"

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = _branch_q(user)
        return None if q is None else q | Q(branch__isnull=True)

    @property
    def building_label(self) -> str:
        parts = [self.settlement, self.street, f"д. {self.house}" if self.house else ""]
        return ", ".join(p for p in parts if p)

    @property
    def is_usable(self) -> bool:
        """Planned notices go only to active, confirmed subscriptions."""
        return self.active and self.confirmed_at is not None

    def contact_for(self, channel: str) -> str:
        """The recipient string the transport of ``channel`` takes ("" when the channel is not used)."""
        if channel == Channel.EMAIL:
            return self.email
        if channel == Channel.SMS:
            return self.phone
        if channel == Channel.PUSH:
            return _push_recipient(self.push)
        if channel == Channel.MESSENGER:
            return self.messenger
        return ""

    def channels(self) -> list[str]:
        return [c for c in Channel.values if self.contact_for(c)]

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        has_building = bool(self.settlement.strip() and self.house.strip())
        if self.account_id is None and not has_building:
            errors["house"] = _("Give an account or a building (settlement and house).")
        if self.account_id is not None and has_building:
            errors["account"] = _("A subscription is either by account or by building, not both.")
        if not self.channels():
            errors["email"] = _("Give at least one contact: e-mail, phone, push or messenger.")
        if self.preferred_channel and not self.contact_for(self.preferred_channel):
            errors["preferred_channel"] = _("The preferred channel has no contact.")
        if self.push is not None and not _push_recipient(self.push):
            errors["push"] = _("A push subscription needs an endpoint and the p256dh and auth keys.")
        if errors:
            raise ValidationError(errors)


def _push_recipient(push: Any) -> str:
    """The push subscription as the JSON string the push transport takes, or "" if incomplete."""
    import json

    if not isinstance(push, dict):
        return ""
    keys = push.get("keys") or {}
    if not (push.get("endpoint") and isinstance(keys, dict) and keys.get("p256dh") and keys.get("auth")):
        return ""
    return json.dumps(
        {"endpoint": push["endpoint"], "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}},
        separators=(",", ":"),
    )


class NoticeEvent(models.Model):
    """One thing to tell people about (an outage starting, its ETR moving, its restoration).

    ``key`` is the caller's idempotency key (``outage:42:unplanned``); the context is kept once here,
    not on each of the 200,000 notices, and each notice is rendered from it when it is sent.
    """

    key = models.CharField(_("event key"), max_length=150, unique=True)
    template = models.CharField(_("template"), max_length=40, choices=TemplateCode.choices)
    context = models.JSONField(_("context"), default=dict)
    emergency = models.BooleanField(_("emergency"), default=False)
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification event")
        verbose_name_plural = _("notification events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.key


class Notice(models.Model):
    """One message to one recipient about one event (one per customer per event across channels)."""

    # Foreign keys without their own index where another covers them or none is needed: every index
    # costs on the 200,000-row inserts of a big outage (the unique (event, key) index serves ``event``,
    # the (customer, created) one serves ``customer``; subscriptions and branches are rarely deleted).
    # No foreign key has a database constraint either: PostgreSQL would run one deferred check per row
    # and key at commit (800,000 for a big outage: seconds); the planner takes the ids from the rows
    # it joins, under the event's lock, and Django's collector applies CASCADE/SET_NULL on deletion.
    event = models.ForeignKey(
        NoticeEvent,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="notices",
        db_index=False,
        db_constraint=False,
    )
    dedup_key = models.CharField(_("recipient key"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.TextField(_("recipient"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.RU)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notices",
        db_index=False,
        db_constraint=False,
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.QUEUED
    )
    skip_reason = models.CharField(
        _("skipped because"), max_length=20, choices=SkipReason.choices, blank=True
    )
    due_at = models.DateTimeField(_("send at"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text sent"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("receipt at"), null=True, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=100, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "dedup_key"], name="notify_notice_once")]
        indexes = [
            models.Index(fields=["status", "due_at"], name="notify_notice_due"),
            models.Index(fields=["provider_id"], name="notify_notice_provider", condition=~Q(provider_id="")),
            models.Index(fields=["customer", "-created_at"], name="notify_notice_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}/{self.dedup_key} {self.channel} {self.status}"

    @classmethod
    def access_q(cls, user: Any, action: str) -> Q | None:
        q = _branch_q(user)
        return None if q is None else q | Q(branch__isnull=True)


class NoticeAttempt(models.Model):
    """One try to hand a notice to its transport, with what the provider said."""

    notice = models.ForeignKey(
        Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="attempts_log"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    result = models.CharField(_("result"), max_length=10, choices=AttemptResult.choices)
    error = models.CharField(_("error"), max_length=500, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.at:%Y-%m-%d %H:%M:%S} {self.result}"


class NoticeReceipt(models.Model):
    """A provider's delivery receipt, kept until its notice is recorded as sent.

    An SMSC may answer with the receipt before the delivery loop has written the ``provider_id`` on the
    notice (outcomes are recorded in groups); such a receipt waits here and is applied when the outcome is
    recorded, so no receipt is lost to the race.
    """

    provider_id = models.CharField(_("provider id"), max_length=100, db_index=True)
    state = models.CharField(_("state"), max_length=20)
    error = models.CharField(_("error"), max_length=500, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    applied = models.BooleanField(_("applied"), default=False)

    class Meta:
        verbose_name = _("delivery receipt")
        verbose_name_plural = _("delivery receipts")
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.state}"


class NoticeTemplate(models.Model):
    """The text of one kind of notice in one language, editable in the admin.

    Placeholders are ``{{ name }}`` (see :mod:`okno.notify.texts` for the names); ``short_text`` goes by
    SMS, push and messenger, ``subject``/``text``/``html`` by e-mail (the HTML is generated from the text
    when empty). The shipped defaults come from a data migration.
    """

    code = models.CharField(_("code"), max_length=40, choices=TemplateCode.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    subject = models.CharField(_("e-mail subject"), max_length=300)
    short_text = models.TextField(_("short text (SMS, push, messenger)"))
    text = models.TextField(_("e-mail text"))
    html = models.TextField(_("e-mail HTML"), blank=True, help_text=_("Empty: made from the text."))

    class Meta:
        verbose_name = _("notice template")
        verbose_name_plural = _("notice templates")
        ordering = ["code", "language"]
        constraints = [models.UniqueConstraint(fields=["code", "language"], name="notify_template_once")]

    def __str__(self) -> str:
        return f"{self.code} ({self.language})"


class NotifySettings(models.Model):
    """Policy of the notifications capability, one row edited in the admin (defaults are the policy)."""

    quiet_start = models.TimeField(_("quiet hours from"), default=dt.time(22, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=dt.time(8, 0))
    max_attempts = models.PositiveSmallIntegerField(_("delivery attempts at most"), default=6)
    channel_order = models.CharField(
        _("channel order"),
        max_length=60,
        default="push,messenger,sms,email",
        help_text=_("The one channel a notice goes by: the subscriber's preferred one, else the first here."),
    )
    public_per_hour = models.PositiveSmallIntegerField(
        _("public subscriptions per IP address per hour"), default=10
    )

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> NotifySettings:
        row = cls.objects.order_by("pk").first()
        return row if row is not None else cls()

    def order(self) -> list[str]:
        wanted = [c.strip() for c in self.channel_order.split(",") if c.strip() in Channel.values]
        return wanted + [c for c in Channel.values if c not in wanted]

    def clean(self) -> None:
        unknown = [c.strip() for c in self.channel_order.split(",") if c.strip() not in Channel.values]
        if unknown:
            raise ValidationError({"channel_order": _("Unknown channels: %(c)s") % {"c": ", ".join(unknown)}})
