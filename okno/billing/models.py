"""Meters, readings, tariffs, billing runs, the account ledger, payments, invoices and debt cases.

Units are integers so that the set-based SQL of the billing run is exact on SQLite and PostgreSQL:

* energy — watt-hours (``*_wh``): a reading of 12 345.6 kWh is stored as 12 345 600;
* money — kopecks (``*_kop``);
* prices — ten-thousandths of a rouble per kWh (``price_e4``): 6.4312 ₽/kWh is 64 312.

Properties give the Decimal values that people read (:func:`kwh`, :func:`rub`).
"""

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
from okno.customers.models import Account
from okno.org.models import Branch


def kwh(wh: int | None) -> Decimal | None:
    return None if wh is None else (Decimal(wh) / 1000).quantize(Decimal("0.001"))


def rub(kop: int | None) -> Decimal | None:
    return None if kop is None else (Decimal(kop) / 100).quantize(Decimal("0.01"))


def price(price_e4: int | None) -> Decimal | None:
    return None if price_e4 is None else (Decimal(price_e4) / 10000).quantize(Decimal("0.0001"))


def _account_scope(user, field: str = "account__service_point__branch_id") -> Q | None:
    return None if user.all_branches else Q(**{f"{field}__in": user.branch_ids})


class Zone(models.IntegerChoices):
    """Registers of a meter: T1 is the only one of a one-zone meter, day of two, peak of three."""

    T1 = 1, "T1"
    T2 = 2, "T2"
    T3 = 3, "T3"


ZONE_NAMES = {
    1: {1: _("all day")},
    2: {1: _("day"), 2: _("night")},
    3: {1: _("peak"), 2: _("half-peak"), 3: _("night")},
}


# --- settings as data --------------------------------------------------------------------------


class BillingSettings(models.Model):
    """Company-wide billing parameters (one row; :meth:`current` creates it with the defaults)."""

    submission_last_day = models.PositiveSmallIntegerField(
        _("last day of the month for readings"),
        default=25,
        help_text=_("A reading taken after this day counts for the next month."),
    )
    jump_factor = models.DecimalField(
        _("implausible jump factor"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        help_text=_("A reading whose consumption exceeds the average this many times is held for review."),
    )
    average_months = models.PositiveSmallIntegerField(_("months for the average"), default=6)
    average_max_periods = models.PositiveSmallIntegerField(_("periods billed by the average"), default=3)
    debtor_months = models.DecimalField(
        _("debtor threshold, months of charges at the norm"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("2.0"),
    )
    restriction_after_days = models.PositiveSmallIntegerField(
        _("days from warning delivery to restriction"), default=20
    )
    suspension_after_days = models.PositiveSmallIntegerField(
        _("days from restriction to suspension"), default=10
    )
    acquiring_secret = models.CharField(
        _("acquiring callback secret"), max_length=200, blank=True, help_text=_("HMAC-SHA256 key.")
    )

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")

    def __str__(self) -> str:
        return str(_("billing settings"))

    @classmethod
    def current(cls) -> BillingSettings:
        obj = cls.objects.order_by("pk").first()
        return obj if obj is not None else cls.objects.create()


class PayeeDetails(models.Model):
    """The supplier's bank details printed on invoices and in the payment QR code (per branch)."""

    branch = models.OneToOneField(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="payee",
        help_text=_("Empty: the company-wide details."),
    )
    name = models.CharField(_("payee name"), max_length=160)
    inn = models.CharField(_("INN"), max_length=12)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    bank_name = models.CharField(_("bank"), max_length=45)
    bic = models.CharField(_("BIC"), max_length=9)
    correspondent_account = models.CharField(_("correspondent account"), max_length=20)
    settlement_account = models.CharField(_("settlement account"), max_length=20)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    website = models.CharField(_("website"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("payee details")
        verbose_name_plural = _("payee details")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def for_branch(cls, branch_id: int | None) -> PayeeDetails | None:
        return (
            cls.objects.filter(Q(branch_id=branch_id) | Q(branch__isnull=True))
            .order_by(models.F("branch_id").asc(nulls_last=True))
            .first()
        )


# --- meters and readings -----------------------------------------------------------------------


class Meter(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("In service")
        FAULTY = "faulty", _("Faulty")
        REMOVED = "removed", _("Removed")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="meters"
    )
    model = models.CharField(_("type"), max_length=100)
    serial = models.CharField(_("serial number"), max_length=40, db_index=True)
    integer_digits = models.PositiveSmallIntegerField(_("integer digits"), default=6)
    fraction_digits = models.PositiveSmallIntegerField(_("fractional digits"), default=1)
    zones = models.PositiveSmallIntegerField(
        _("tariff zones"), choices=[(1, "1"), (2, "2"), (3, "3")], default=1
    )
    installed_on = models.DateField(_("installed on"))
    sealed_on = models.DateField(_("sealed on"), null=True, blank=True)
    verified_on = models.DateField(_("last verification"), null=True, blank=True)
    verification_interval_years = models.PositiveSmallIntegerField(
        _("verification interval, years"), default=16
    )
    location = models.CharField(_("location"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    is_smart = models.BooleanField(_("smart meter"), default=False)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("replaced by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["account_id", "-installed_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="active"), name="billing_one_active_meter"
            ),
            models.CheckConstraint(condition=Q(zones__gte=1, zones__lte=3), name="billing_meter_zones"),
        ]

    def __str__(self) -> str:
        return f"{self.model} № {self.serial}"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _account_scope(user)

    @property
    def capacity_wh(self) -> int:
        """The register rolls over to zero at 10^integer_digits kWh."""
        return 10**self.integer_digits * 1000

    @property
    def verification_due(self) -> dt.date | None:
        if self.verified_on is None:
            return None
        try:
            return self.verified_on.replace(year=self.verified_on.year + self.verification_interval_years)
        except ValueError:  # 29 February
            return self.verified_on.replace(
                year=self.verified_on.year + self.verification_interval_years, day=28
            )

    def verification_expired(self, on: dt.date) -> bool:
        due = self.verification_due
        return due is not None and on >= due

    def zone_name(self, zone: int) -> str:
        return str(ZONE_NAMES[self.zones][zone])


class ReadingImport(models.Model):
    """A bulk file of readings (terminals, payment agents, controllers' rounds, smart meters)."""

    class Kind(models.TextChoices):
        AGENT = "agent", _("Terminals and payment agents")
        ROUND = "round", _("Controllers' round")
        SMART_DAILY = "smart_daily", _("Smart meters, daily registers")
        SMART_INTERVAL = "smart_interval", _("Smart meters, interval profile")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), null=True, on_delete=models.SET_NULL
    )
    lines = models.PositiveIntegerField(_("lines"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    held = models.PositiveIntegerField(_("held for review"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("reading import")
        verbose_name_plural = _("reading imports")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.name


class Reading(models.Model):
    """One reading of a meter's registers. Never edited: a correction is a new version."""

    class Channel(models.TextChoices):
        CABINET = "cabinet", _("Personal cabinet")
        OFFICE = "office", _("Office")
        PHONE = "phone", _("Phone (operator)")
        SMS = "sms", _("SMS")
        IVR = "ivr", _("IVR")
        TERMINAL = "terminal", _("Self-service terminal")
        AGENT = "agent", _("Payment agent")
        CONTROLLER = "controller", _("Controller's round")
        SMART = "smart", _("Smart meter")
        SYSTEM = "system", _("System")
        CHAT = "chat", _("Chat")
        MESSENGER = "messenger", _("Messenger")

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular")
        INITIAL = "initial", _("Initial (meter installed)")
        FINAL = "final", _("Final (meter removed)")

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        HELD = "held", _("Held for review")
        REJECTED = "rejected", _("Rejected on review")
        SUPERSEDED = "superseded", _("Superseded by a correction")

    meter = models.ForeignKey(
        Meter, verbose_name=_("meter"), on_delete=models.PROTECT, related_name="readings"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="readings"
    )
    period = models.DateField(_("period"), help_text=_("First day of the month the reading counts for."))
    taken_on = models.DateField(_("taken on"))
    t1_wh = models.BigIntegerField(_("T1, Wh"))
    t2_wh = models.BigIntegerField(_("T2, Wh"), null=True, blank=True)
    t3_wh = models.BigIntegerField(_("T3, Wh"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REGULAR)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACCEPTED)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    reason = models.CharField(_("correction reason"), max_length=300, blank=True)
    source_import = models.ForeignKey(
        ReadingImport,
        verbose_name=_("import"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="readings",
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        ordering = ["-taken_on", "-id"]
        indexes = [
            models.Index(fields=["meter", "period"], name="billing_reading_meter_period"),
            models.Index(fields=["account", "period"], name="billing_reading_acc_period"),
            models.Index(fields=["status", "period"], name="billing_reading_status"),
            # The billing run's "latest current reading of a meter before a period" lookups.
            models.Index(
                fields=["meter", "period", "taken_on", "id"],
                condition=Q(status="accepted"),
                name="billing_reading_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.taken_on}: {self.values_kwh()}"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _account_scope(user)

    def values_wh(self) -> list[int]:
        return [v for v in (self.t1_wh, self.t2_wh, self.t3_wh) if v is not None]

    def values_kwh(self) -> list[Decimal]:
        return [kwh(v) for v in self.values_wh()]  # type: ignore[misc]

    @property
    def is_current(self) -> bool:
        return self.status == self.Status.ACCEPTED


# --- tariffs and norms -------------------------------------------------------------------------


class ConsumerCategory(models.Model):
    """A tariff category of household customers (urban, rural, electric stoves…): data, not code."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("consumer category")
        verbose_name_plural = _("consumer categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Tariff(models.Model):
    """Prices for a region, category and number of zones from ``valid_from`` (to ``valid_to``)."""

    region = models.CharField(_("region"), max_length=100)
    category = models.ForeignKey(
        ConsumerCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="tariffs"
    )
    zones = models.PositiveSmallIntegerField(_("zones"), choices=[(1, "1"), (2, "2"), (3, "3")])
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    tier1_limit_wh = models.BigIntegerField(
        _("first tier up to, Wh a month"), null=True, blank=True, help_text=_("Empty: no volume tiers.")
    )
    tier2_limit_wh = models.BigIntegerField(_("second tier up to, Wh a month"), null=True, blank=True)
    decision = models.CharField(_("regulator's decision"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["region", "category__code", "zones", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "category", "zones", "valid_from"], name="billing_tariff_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region} / {self.category} / {self.zones} / {self.valid_from}"

    def clean(self) -> None:
        if self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end is before the start.")})
        if self.tier2_limit_wh and not self.tier1_limit_wh:
            raise ValidationError({"tier1_limit_wh": _("A second tier needs the first.")})
        if self.tier1_limit_wh and self.tier2_limit_wh and self.tier2_limit_wh <= self.tier1_limit_wh:
            raise ValidationError({"tier2_limit_wh": _("The second tier must end above the first.")})


class TariffRate(models.Model):
    """The price of one zone (and volume tier) of a tariff, in 1/10 000 ₽ per kWh."""

    tariff = models.ForeignKey(
        Tariff, verbose_name=_("tariff"), on_delete=models.CASCADE, related_name="rates"
    )
    zone = models.PositiveSmallIntegerField(_("zone"), choices=Zone.choices)
    tier = models.PositiveSmallIntegerField(_("tier"), default=1, choices=[(1, "1"), (2, "2"), (3, "3")])
    price_e4 = models.BigIntegerField(_("price, 1/10000 ₽ per kWh"))

    class Meta:
        verbose_name = _("tariff rate")
        verbose_name_plural = _("tariff rates")
        ordering = ["tariff", "zone", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "zone", "tier"], name="billing_rate_unique"),
            models.CheckConstraint(condition=Q(price_e4__gte=0), name="billing_rate_price_nonneg"),
        ]

    def __str__(self) -> str:
        return f"T{self.zone}/{self.tier}: {price(self.price_e4)}"


class ZoneHours(models.Model):
    """Hours of each zone (households: night 23–7; peak 7–10 and 17–21; day 7–23). Used to split
    interval profiles of smart meters into registers."""

    zones = models.PositiveSmallIntegerField(_("zones of the tariff"))
    zone = models.PositiveSmallIntegerField(_("zone"), choices=Zone.choices)
    start_hour = models.PositiveSmallIntegerField(_("from hour"))
    end_hour = models.PositiveSmallIntegerField(_("to hour"), help_text=_("Exclusive; 24 is midnight."))

    class Meta:
        verbose_name = _("zone hours")
        verbose_name_plural = _("zone hours")
        ordering = ["zones", "zone", "start_hour"]

    def __str__(self) -> str:
        return f"{self.zones}/T{self.zone}: {self.start_hour}–{self.end_hour}"


class ConsumptionNorm(models.Model):
    """Consumption norm per resident per month for a region and category."""

    region = models.CharField(_("region"), max_length=100)
    category = models.ForeignKey(ConsumerCategory, verbose_name=_("category"), on_delete=models.PROTECT)
    valid_from = models.DateField(_("valid from"))
    wh_per_resident = models.BigIntegerField(_("Wh per resident a month"))

    class Meta:
        verbose_name = _("consumption norm")
        verbose_name_plural = _("consumption norms")
        ordering = ["region", "category", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "category", "valid_from"], name="billing_norm_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region} / {self.category}: {kwh(self.wh_per_resident)} kWh"


class Discount(models.Model):
    """A benefit as data: a percentage off the charge (e.g. 50 % for a category of veterans)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    percent = models.DecimalField(_("percent"), max_digits=5, decimal_places=2)
    limit_wh = models.BigIntegerField(
        _("applies to, Wh a month"), null=True, blank=True, help_text=_("Empty: the whole volume.")
    )

    class Meta:
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")

    def __str__(self) -> str:
        return f"{self.name} ({self.percent} %)"


class BillingProfile(models.Model):
    """What the billing of a household account needs beyond the account: category and residents."""

    account = models.OneToOneField(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="billing"
    )
    category = models.ForeignKey(ConsumerCategory, verbose_name=_("category"), on_delete=models.PROTECT)
    residents = models.PositiveSmallIntegerField(_("residents"), default=1)
    billable = models.BooleanField(_("billed by Okno"), default=True)

    class Meta:
        verbose_name = _("billing profile")
        verbose_name_plural = _("billing profiles")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.category}"


class AccountDiscount(models.Model):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="discounts"
    )
    discount = models.ForeignKey(Discount, verbose_name=_("discount"), on_delete=models.PROTECT)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("discount of an account")
        verbose_name_plural = _("discounts of accounts")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.discount}"


# --- rules with effective dates ----------------------------------------------------------------


class KeyRate(models.Model):
    """The Bank of Russia key rate from a date."""

    valid_from = models.DateField(_("from"), unique=True)
    rate = models.DecimalField(_("rate, % a year"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("key rate")
        verbose_name_plural = _("key rates")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.valid_from}: {self.rate} %"


class PenaltyRule(models.Model):
    """Which rate the late-payment penalty uses, from a date (Housing Code art. 155 p. 14 and the
    government's decrees): the rate on the day of payment, capped at ``cap_rate`` where set."""

    valid_from = models.DateField(_("from"), unique=True)
    cap_rate = models.DecimalField(
        _("cap, % a year"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The lesser of this and the key rate on the payment day."),
    )
    grace_days = models.PositiveSmallIntegerField(_("days without penalty"), default=30)
    first_divisor = models.PositiveSmallIntegerField(_("divisor from the 31st day"), default=300)
    second_from_day = models.PositiveSmallIntegerField(_("second divisor from day"), default=91)
    second_divisor = models.PositiveSmallIntegerField(_("divisor from the 91st day"), default=130)
    suspended = models.BooleanField(
        _("penalties suspended"), default=False, help_text=_("A moratorium: no penalty accrues.")
    )

    class Meta:
        verbose_name = _("penalty rule")
        verbose_name_plural = _("penalty rules")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.valid_from}: cap {self.cap_rate}"


class DueDayRule(models.Model):
    """The day of the following month by which a period's bill is due, from a period on."""

    valid_from = models.DateField(_("for periods from"), unique=True)
    day = models.PositiveSmallIntegerField(_("due day of the following month"))

    class Meta:
        verbose_name = _("due day rule")
        verbose_name_plural = _("due day rules")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.valid_from}: {self.day}"


# --- billing runs and the ledger ---------------------------------------------------------------


class BillingRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.DateField(_("period"))
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Empty: every branch."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress, %"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} [{self.status}]"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        # Company-wide runs concern every branch; a branch's run concerns that branch.
        return None if user.all_branches else Q(branch__isnull=True) | Q(branch_id__in=user.branch_ids)

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class Method(models.TextChoices):
    ACTUAL = "actual", _("By readings")
    AVERAGE = "average", _("By average consumption")
    NORM = "norm", _("By the norm")
    RECALCULATION = "recalculation", _("Recalculation by readings")
    REVERSAL = "reversal", _("Reversal of estimated charges")
    DISCOUNT = "discount", _("Discount")


class Charge(models.Model):
    """One line of a period's bill: a zone and tier of one meter (or the norm), priced."""

    # The run writes these rows most: (account, period) and (meter, period) cover the lookups, so the
    # foreign keys carry no index of their own.
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    period = models.DateField(_("period"))
    run = models.ForeignKey(
        BillingRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="charges", db_index=False
    )
    meter = models.ForeignKey(
        Meter,
        verbose_name=_("meter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    method = models.CharField(_("method"), max_length=14, choices=Method.choices)
    zones = models.PositiveSmallIntegerField(_("zones of the tariff"), default=1)
    zone = models.PositiveSmallIntegerField(_("zone"), choices=Zone.choices, default=1)
    tier = models.PositiveSmallIntegerField(_("tier"), default=1)
    volume_wh = models.BigIntegerField(_("volume, Wh"))
    price_e4 = models.BigIntegerField(_("price, 1/10000 ₽ per kWh"), default=0)
    amount_kop = models.BigIntegerField(_("amount, kopecks"))
    months = models.PositiveSmallIntegerField(_("months covered"), default=1)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("charge line")
        verbose_name_plural = _("charge lines")
        ordering = ["period", "meter_id", "zone", "tier", "id"]
        indexes = [
            models.Index(fields=["account", "period"], name="billing_charge_acc_period"),
            models.Index(fields=["meter", "period"], name="billing_charge_meter_period"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period:%Y-%m} T{self.zone}: {rub(self.amount_kop)}"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _account_scope(user)

    @property
    def volume_kwh(self) -> Decimal | None:
        return kwh(self.volume_wh)

    @property
    def amount(self) -> Decimal | None:
        return rub(self.amount_kop)

    @property
    def price(self) -> Decimal | None:
        return price(self.price_e4)


class LedgerEntry(models.Model):
    """The account's ledger: a debit (charge, penalty) is positive, a credit (payment) negative."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        RECALCULATION = "recalculation", _("Recalculation")
        PENALTY = "penalty", _("Penalty")
        PAYMENT = "payment", _("Payment")
        ADJUSTMENT = "adjustment", _("Adjustment")

    # (account, entry_date) and the unique (account, period) of charges cover the account lookups.
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="ledger", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    period = models.DateField(_("period"), null=True, blank=True)
    entry_date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    amount_kop = models.BigIntegerField(_("amount, kopecks"))
    run = models.ForeignKey(
        BillingRun,
        verbose_name=_("run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    payment = models.ForeignKey(
        "Payment",
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["entry_date", "id"]
        indexes = [models.Index(fields=["account", "entry_date"], name="billing_ledger_acc_date")]
        constraints = [
            # One charge per account and period: a restarted or repeated run cannot bill twice.
            models.UniqueConstraint(
                fields=["account", "period"], condition=Q(kind="charge"), name="billing_one_charge_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.entry_date} {self.kind}: {rub(self.amount_kop)}"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _account_scope(user)

    @property
    def amount(self) -> Decimal | None:
        return rub(self.amount_kop)


# --- payments ----------------------------------------------------------------------------------


class PaymentRegistry(models.Model):
    """A bank's registry file of payments; the same file (by SHA-256) is imported once."""

    name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    bank = models.CharField(_("bank"), max_length=100, blank=True)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), null=True, on_delete=models.SET_NULL
    )
    lines = models.PositiveIntegerField(_("lines"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    unidentified = models.PositiveIntegerField(_("unidentified"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    total_kop = models.BigIntegerField(_("total, kopecks"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("payment registry")
        verbose_name_plural = _("payment registries")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.name


class Payment(models.Model):
    class Source(models.TextChoices):
        REGISTRY = "registry", _("Bank registry")
        ACQUIRING = "acquiring", _("Online card payment")
        CASHIER = "cashier", _("Office cashier")
        SYSTEM = "system", _("System")

    class Status(models.TextChoices):
        ALLOCATED = "allocated", _("Allocated")
        UNIDENTIFIED = "unidentified", _("Unidentified")
        RETURNED = "returned", _("Returned to the payer")

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    account_text = models.CharField(_("account as given"), max_length=40, blank=True)
    payer = models.CharField(_("payer"), max_length=200, blank=True)
    amount_kop = models.BigIntegerField(_("amount, kopecks"))
    paid_on = models.DateField(_("paid on"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    provider = models.CharField(_("provider"), max_length=50, blank=True)
    external_id = models.CharField(_("provider's payment id"), max_length=100, blank=True)
    period = models.DateField(_("period named by the payer"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ALLOCATED)
    registry = models.ForeignKey(
        PaymentRegistry,
        verbose_name=_("registry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    registry_line = models.PositiveIntegerField(_("line"), null=True, blank=True)
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cashier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("matched by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    matched_at = models.DateTimeField(_("matched at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"],
                condition=~Q(external_id=""),
                name="billing_payment_external",
            ),
            models.CheckConstraint(condition=Q(amount_kop__gt=0), name="billing_payment_positive"),
        ]
        indexes = [models.Index(fields=["status", "paid_on"], name="billing_payment_status")]

    def __str__(self) -> str:
        return f"{self.paid_on} {rub(self.amount_kop)} ₽"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        # Unidentified payments have no account yet: staff who may match payments see them all.
        scope = _account_scope(user)
        return None if scope is None else scope | Q(account__isnull=True)

    @property
    def amount(self) -> Decimal | None:
        return rub(self.amount_kop)


class PaymentAllocation(models.Model):
    """Which period's charge (or penalty) a payment paid off."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.CASCADE, related_name="allocations"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.DateField(_("period"), null=True, blank=True, help_text=_("Empty: an advance."))
    is_penalty = models.BooleanField(_("penalty"), default=False)
    amount_kop = models.BigIntegerField(_("amount, kopecks"))
    paid_on = models.DateField(_("paid on"))

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        indexes = [models.Index(fields=["account", "period"], name="billing_alloc_acc_period")]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.period}: {rub(self.amount_kop)}"


# --- invoices and debt -------------------------------------------------------------------------


class Invoice(models.Model):
    """The monthly bill of an account (PDF generated on demand or in a batch for a run)."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="invoices"
    )
    period = models.DateField(_("period"))
    run = models.ForeignKey(
        BillingRun,
        verbose_name=_("run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    number = models.CharField(_("number"), max_length=30)
    amount_kop = models.BigIntegerField(_("charged for the period, kopecks"))
    debt_kop = models.BigIntegerField(_("debt at the start, kopecks"), default=0)
    penalty_kop = models.BigIntegerField(_("penalty, kopecks"), default=0)
    total_kop = models.BigIntegerField(_("to pay, kopecks"))
    due_date = models.DateField(_("due date"))
    qr_payload = models.TextField(_("payment QR payload"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-period", "account_id"]
        constraints = [models.UniqueConstraint(fields=["account", "period"], name="billing_invoice_unique")]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _account_scope(user)


class DebtCase(models.Model):
    """The debt collection of one account: warning → restriction → suspension → reconnection."""

    class Status(models.TextChoices):
        WARNED = "warned", _("Warning sent")
        RESTRICTED = "restricted", _("Supply restricted")
        SUSPENDED = "suspended", _("Supply suspended")
        PAID = "paid", _("Paid, reconnection ordered")
        CLOSED = "closed", _("Closed")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="debt_cases"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.WARNED)
    opened_on = models.DateField(_("opened on"))
    debt_kop = models.BigIntegerField(_("debt when opened, kopecks"))
    threshold_kop = models.BigIntegerField(_("threshold, kopecks"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("debt case")
        verbose_name_plural = _("debt cases")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=~Q(status__in=["closed"]), name="billing_one_open_debt_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.get_status_display()}"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _account_scope(user)


class DebtOrder(models.Model):
    """One step of a debt case, as an order with its date (and the warning's delivery date)."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning of restriction")
        RESTRICTION = "restriction", _("Restriction of supply")
        SUSPENSION = "suspension", _("Suspension of supply")
        RECONNECTION = "reconnection", _("Reconnection")

    case = models.ForeignKey(
        DebtCase, verbose_name=_("case"), on_delete=models.CASCADE, related_name="orders"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=30)
    issued_on = models.DateField(_("issued on"))
    scheduled_on = models.DateField(_("to be done on"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    debt_kop = models.BigIntegerField(_("debt, kopecks"))
    channel = models.CharField(_("sent by"), max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("debt order")
        verbose_name_plural = _("debt orders")
        ordering = ["issued_on", "id"]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"


# --- online payment orders ---------------------------------------------------------------------


class PaymentOrder(models.Model):
    """An online card payment a customer started in the personal cabinet (see ``okno.billing.online``).

    The order is what the customer is sent to the acquirer with: its random ``token`` names it in the
    URLs and in the acquirer's callback. The callback registers the :class:`Payment` (once, by the
    acquirer's payment id) and marks the order paid; a declined payment marks it declined. The money is
    the payment's, never the order's: an order only says what the customer meant to pay.
    """

    class Status(models.TextChoices):
        CREATED = "created", _("Waiting for the payment")
        PAID = "paid", _("Paid")
        DECLINED = "declined", _("Declined")

    token = models.CharField(_("token"), max_length=64, unique=True)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="payment_orders"
    )
    cabinet_user = models.ForeignKey(
        "customers.CabinetUser",
        verbose_name=_("cabinet user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    amount_kop = models.BigIntegerField(_("amount, kopecks"))
    provider = models.CharField(_("provider"), max_length=50)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("online payment order")
        verbose_name_plural = _("online payment orders")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount_kop__gt=0), name="billing_order_positive")]

    def __str__(self) -> str:
        return f"{self.account_id} {rub(self.amount_kop)} ₽ [{self.status}]"

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return _account_scope(user)

    @property
    def amount(self) -> Decimal | None:
        return rub(self.amount_kop)
