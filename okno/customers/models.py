"""Customers, their accounts at service points, addresses, contacts, consents and contact history."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.core.access import RestrictedQuerySet
from okno.customers.choices import ConsentPurpose, ContactEventKind, ContactKind, CustomerKind
from okno.customers.numbers import is_valid_account_number, is_valid_inn, normalize_phone
from okno.org.models import Branch, GridDistrict


def fold(text: str) -> str:
    """Lower-case, ё→е, punctuation to spaces: the form searched by the fuzzy customer search."""
    text = (text or "").lower().replace("ё", "е")
    return re.sub(r"[^\w@.+]+", " ", text).strip()


def _branch_scope(user, field: str = "branch_id") -> Q | None:
    return None if user.all_branches else Q(**{f"{field}__in": user.branch_ids})


class Address(models.Model):
    """A structured postal address (optionally with its FIAS/GAR GUID)."""

    region = models.CharField(_("region"), max_length=100)
    district = models.CharField(_("district"), max_length=100, blank=True)
    settlement = models.CharField(_("settlement"), max_length=100)
    street = models.CharField(_("street"), max_length=150, blank=True)
    house = models.CharField(_("house"), max_length=20, blank=True)
    building = models.CharField(_("building"), max_length=20, blank=True)
    flat = models.CharField(_("flat"), max_length=20, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    fias_guid = models.UUIDField(_("FIAS/GAR GUID"), null=True, blank=True, db_index=True)
    grid_district = models.ForeignKey(
        GridDistrict,
        verbose_name=_("grid district"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="addresses",
    )

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        indexes = [models.Index(fields=["settlement", "street", "house"], name="cust_address_house")]

    def __str__(self) -> str:
        parts = [self.region, self.district, self.settlement]
        if self.street:
            parts.append(self.street)
        if self.house:
            parts.append(f"д. {self.house}")
        if self.building:
            parts.append(f"корп. {self.building}")
        if self.flat:
            parts.append(f"кв. {self.flat}")
        return ", ".join(p for p in parts if p)

    def short(self) -> str:
        parts = [self.settlement, self.street, f"д. {self.house}" if self.house else ""]
        if self.building:
            parts.append(f"корп. {self.building}")
        if self.flat:
            parts.append(f"кв. {self.flat}")
        return ", ".join(p for p in parts if p)


class Customer(models.Model):
    """An individual, a legal entity or a sole proprietor."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.INDIVIDUAL
    )
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    organisation = models.CharField(_("organisation name"), max_length=300, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True, db_index=True)
    ogrn = models.CharField(_("OGRN/OGRNIP"), max_length=15, blank=True)
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    search_text = models.TextField(_("search text"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["last_name", "first_name", "organisation", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.kind == CustomerKind.LEGAL_ENTITY:
            return self.organisation
        name = " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)
        if self.kind == CustomerKind.SOLE_PROPRIETOR:
            return f"ИП {name}" if name else self.organisation
        return name

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        q = _branch_scope(user)
        return None if q is None else q | Q(branch__isnull=True)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.kind == CustomerKind.LEGAL_ENTITY and not self.organisation.strip():
            errors["organisation"] = _("A legal entity needs its name.")
        if self.kind != CustomerKind.LEGAL_ENTITY and not self.last_name.strip():
            errors["last_name"] = _("A person needs a last name.")
        if self.inn:
            expected = 10 if self.kind == CustomerKind.LEGAL_ENTITY else 12
            if len(self.inn) != expected or not is_valid_inn(self.inn):
                errors["inn"] = _("INN %(inn)s is not valid (%(n)s digits with check digits).") % {
                    "inn": self.inn,
                    "n": expected,
                }
        if errors:
            raise ValidationError(errors)

    def build_search_text(self, extra: list[str] | None = None) -> str:
        parts = [
            self.last_name,
            self.first_name,
            self.patronymic,
            self.organisation,
            self.inn,
            *(extra or []),
        ]
        return fold(" ".join(p for p in parts if p))


class ServicePoint(models.Model):
    """Where energy is delivered: a flat, a house, a shop."""

    address = models.ForeignKey(
        Address, verbose_name=_("address"), on_delete=models.PROTECT, related_name="service_points"
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="service_points"
    )
    grid_district = models.ForeignKey(
        GridDistrict,
        verbose_name=_("grid district"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    max_capacity_kw = models.DecimalField(
        _("maximum capacity, kW"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("service point")
        verbose_name_plural = _("service points")

    def __str__(self) -> str:
        return self.name or self.address.short()


class Account(models.Model):
    """A billing account (лицевой счёт) of a customer at one service point."""

    number = models.CharField(_("account number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="accounts"
    )
    service_point = models.ForeignKey(
        ServicePoint, verbose_name=_("service point"), on_delete=models.PROTECT, related_name="accounts"
    )
    contract_number = models.CharField(_("contract number"), max_length=50, blank=True)
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _branch_scope(user, "service_point__branch_id")

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    def clean(self) -> None:
        if not is_valid_account_number(self.number):
            raise ValidationError(
                {"number": _("Account number %(n)s has a wrong check digit or length.") % {"n": self.number}}
            )


class ContactPoint(models.Model):
    """A phone number or e-mail address of a customer, with consent to be contacted there."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    value = models.CharField(_("value"), max_length=254)
    is_primary = models.BooleanField(_("primary"), default=False)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "value"], name="cust_contact_unique")
        ]
        indexes = [models.Index(fields=["kind", "value"], name="cust_contact_value")]

    def __str__(self) -> str:
        return self.value

    def save(self, *args, **kwargs) -> None:
        if self.kind == ContactKind.PHONE:
            self.value = normalize_phone(self.value)
        elif self.kind == ContactKind.EMAIL:
            self.value = self.value.strip().lower()
        super().save(*args, **kwargs)


class Consent(models.Model):
    """A consent given (and possibly withdrawn) for a channel and a purpose (152-FZ, 38-FZ)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consents"
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=ContactKind.choices + [("sms", "SMS"), ("any", _("Any"))]
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} / {self.get_channel_display()}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class ContactEvent(models.Model):
    """One line of a customer's contact history: appeals, answers, calls, notifications, visits."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="history"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ContactEventKind.choices)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    summary = models.CharField(_("summary"), max_length=300)
    # What the line is about, by label and id ("appeals.appeal", 42): customers sit below the apps that
    # write history, so the link is soft; ``ref_label`` keeps the human reference (an appeal number).
    ref_type = models.CharField(_("object type"), max_length=50, blank=True)
    ref_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    ref_label = models.CharField(_("reference"), max_length=50, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("contact history entry")
        verbose_name_plural = _("contact history")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="cust_history_timeline"),
            models.Index(fields=["ref_type", "ref_id"], name="cust_history_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.get_kind_display()}: {self.summary}"


class CabinetUser(models.Model):
    """A person signed up to the personal cabinet (not a staff user: a separate login and session).

    They sign up with an account number, a check value and a one-time code, then log in by e-mail or
    phone and password. ``accounts`` are those they have proved they hold; they see nothing else.
    """

    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    password = models.CharField(_("password"), max_length=128)
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, default="ru")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_login_at = models.DateTimeField(_("last login"), null=True, blank=True)
    # Bumped when the password changes, so that every other session of this user ends.
    session_version = models.PositiveIntegerField(default=1, editable=False)
    accounts = models.ManyToManyField(
        Account, through="CabinetLink", related_name="cabinet_users", blank=True
    )

    class Meta:
        verbose_name = _("cabinet user")
        verbose_name_plural = _("cabinet users")
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="cabinet_user_email_unique"
            ),
            models.UniqueConstraint(
                fields=["phone"], condition=~Q(phone=""), name="cabinet_user_phone_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone or f"#{self.pk}"

    def set_password(self, raw: str) -> None:
        from django.contrib.auth.hashers import make_password

        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        from django.contrib.auth.hashers import check_password

        return bool(self.password) and check_password(raw, self.password)


class CabinetLink(models.Model):
    """An account a cabinet user holds, proved by its check value and a one-time code."""

    user = models.ForeignKey(CabinetUser, verbose_name=_("cabinet user"), on_delete=models.CASCADE)
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE)
    linked_at = models.DateTimeField(_("linked at"), default=timezone.now)

    class Meta:
        verbose_name = _("cabinet account")
        verbose_name_plural = _("cabinet accounts")
        ordering = ["linked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="cabinet_link_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.account}"


class CabinetChallenge(models.Model):
    """A one-time code sent to an e-mail address or phone to prove that a person controls it.

    Used by the personal cabinet for sign-up, password reset, linking another account and changing the
    e-mail or phone (``purpose``). Only a salted hash of the 6-digit code is kept; the code expires
    (``expires_at``), allows a few tries (``attempts``) and can be sent again only a few times
    (``sends``, ``last_sent_at``). ``payload`` holds what the verified step completes (the sign-up's
    password hash, the new contact…), never a raw password or code. The actions live in
    :mod:`okno.customers.cabinet`.
    """

    class Purpose(models.TextChoices):
        SIGNUP = "signup", _("Sign-up")
        RESET = "reset", _("Password reset")
        LINK = "link", _("Linking an account")
        CONTACT = "contact", _("Changing the e-mail or phone")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    destination = models.CharField(_("sent to"), max_length=254, blank=True, db_index=True)
    code_hash = models.CharField(_("code hash"), max_length=128)
    user = models.ForeignKey(
        CabinetUser, verbose_name=_("cabinet user"), null=True, blank=True, on_delete=models.CASCADE
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_sent_at = models.DateTimeField(_("last sent at"), default=timezone.now)
    sends = models.PositiveSmallIntegerField(_("codes sent"), default=1)
    attempts = models.PositiveSmallIntegerField(_("tries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("cabinet one-time code")
        verbose_name_plural = _("cabinet one-time codes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["expires_at"], name="cabinet_challenge_expiry")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.channel} #{self.pk}"
