"""Company → branches (each in its time zone) → grid districts; service centres, offices,
departments and the staff who work in them."""

from __future__ import annotations

import zoneinfo
from functools import cached_property
from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from okno.core.access import RestrictedQuerySet
from okno.org.choices import Role, ServiceCentreCategory
from okno.org.roles import PERMISSIONS


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value}) from exc


class Company(models.Model):
    """The utility itself (a grid company or a supplier)."""

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    hotline = models.CharField(_("hotline"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.short_name or self.name


class Branch(models.Model):
    """A regional division (филиал), in its own time zone."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="branches"
    )
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_timezone]
    )
    region = models.CharField(_("region"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @classmethod
    def access_q(cls, user: User, action: str) -> Q | None:
        return None if user.all_branches else Q(pk__in=user.branch_ids)


class GridDistrict(models.Model):
    """A grid district (РЭС) of a branch: the territory unit used for routing."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="districts"
    )
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    settlements = models.TextField(
        _("settlements"),
        blank=True,
        help_text=_("Settlements served, one per line (used to place addresses)."),
    )

    class Meta:
        verbose_name = _("grid district")
        verbose_name_plural = _("grid districts")
        ordering = ["branch__name", "name"]

    def __str__(self) -> str:
        return self.name

    def settlement_list(self) -> list[str]:
        return [s.strip() for s in self.settlements.splitlines() if s.strip()]


class ServiceCentre(models.Model):
    """A customer service centre (ЦОК) of category 1, 2 or 3."""

    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_centres",
    )
    district = models.ForeignKey(
        GridDistrict,
        verbose_name=_("grid district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=200)
    category = models.PositiveSmallIntegerField(_("category"), choices=ServiceCentreCategory.choices)

    class Meta:
        verbose_name = _("service centre")
        verbose_name_plural = _("service centres")
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_category_display()})"

    def clean(self) -> None:
        if self.category != ServiceCentreCategory.FIRST and self.branch_id is None:
            raise ValidationError({"branch": _("A service centre of category 2 or 3 belongs to a branch.")})
        if self.category == ServiceCentreCategory.THIRD and self.district_id is None:
            raise ValidationError(
                {"district": _("A service centre of category 3 belongs to a grid district.")}
            )


class Office(models.Model):
    """A place where customers are served in person."""

    service_centre = models.ForeignKey(
        ServiceCentre, verbose_name=_("service centre"), on_delete=models.PROTECT, related_name="offices"
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    hours = models.TextField(
        _("opening hours"), blank=True, help_text=_("For example: Mon–Thu 8:00–17:00, Fri 8:00–16:00")
    )
    services = models.TextField(_("services"), blank=True, help_text=_("Services provided, one per line"))
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def service_list(self) -> list[str]:
        return [s.strip() for s in self.services.splitlines() if s.strip()]


class Department(models.Model):
    """A department responsible for topics on a territory; ``parent`` is the level above for escalations."""

    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="departments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("higher department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=200)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    districts = models.ManyToManyField(
        GridDistrict, verbose_name=_("grid districts"), blank=True, related_name="departments"
    )
    head = models.ForeignKey(
        "User",
        verbose_name=_("head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["branch__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.branch})"

    @classmethod
    def access_q(cls, user: User, action: str) -> Q | None:
        return None if user.all_branches else Q(branch_id__in=user.branch_ids)


class OknoUserManager(UserManager["User"]):
    pass


class User(AbstractUser):
    """A staff member (or a system actor). Role gives permissions; branches give scope."""

    role = models.CharField(_("role"), max_length=30, choices=Role.choices, blank=True)
    branches = models.ManyToManyField(Branch, verbose_name=_("branches"), blank=True, related_name="staff")
    all_branches = models.BooleanField(_("whole company"), default=False, help_text=_("Sees every branch"))
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )
    office = models.ForeignKey(
        Office,
        verbose_name=_("office"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_system = models.BooleanField(_("system actor"), default=False)

    objects = OknoUserManager()  # type: ignore[misc]  # django-stubs declares it a ClassVar on AbstractUser

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        name = " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)
        return name or self.username

    @property
    def short_name(self) -> str:
        if not self.last_name:
            return self.username
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.patronymic) if p)
        return f"{self.last_name} {initials}".strip()

    def permissions(self) -> frozenset[str]:
        if self.is_superuser:
            return PERMISSIONS["administrator"] | {"refdata.change"}
        return PERMISSIONS.get(self.role, frozenset())

    def has_okno_perm(self, perm: str) -> bool:
        return self.is_active and perm in self.permissions()

    @cached_property
    def branch_ids(self) -> list[int]:
        return list(self.branches.values_list("pk", flat=True))

    def in_scope(self, branch_id: int | None) -> bool:
        return (
            self.all_branches or self.is_superuser or (branch_id is not None and branch_id in self.branch_ids)
        )

    def clean(self) -> None:
        super().clean()
        if self.role in {Role.SPECIALIST, Role.HEAD_OF_DEPARTMENT} and self.department_id is None:
            raise ValidationError(
                {"department": _("A specialist or head of department belongs to a department.")}
            )


def system_actor(name: str = "system") -> User:
    """The named system user that jobs and commands act as (``system:jobs``, ``system:seed``…)."""
    username = f"system:{name}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": Role.SYSTEM,
                "all_branches": True,
                "is_system": True,
                "is_active": True,
                "first_name": name,
            },
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def describe(user: Any) -> str:
    return str(user) if user is not None else str(_("anonymous"))
