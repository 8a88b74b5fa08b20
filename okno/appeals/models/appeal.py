"""The appeal (обращение) and what hangs off it: timeline events, attachments, incidents, counters."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.appeals.choices import (
    OPEN_STATUSES,
    AnswerChannel,
    AppealType,
    CancelReason,
    Channel,
    ClassifiedBy,
    EventType,
    Status,
    Topic,
)
from okno.core.access import RestrictedQuerySet
from okno.customers.models import Account, Address, Customer
from okno.org.models import Branch, Department


class Incident(models.Model):
    """A group of appeals about one event (an outage, a fault); used by the outages capability."""

    title = models.CharField(_("title"), max_length=300)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices, default=Topic.OUTAGE)
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="incidents"
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return None if user.all_branches else Q(branch_id__in=user.branch_ids)


class AppealCounter(models.Model):
    """The last registration number issued in a year (row-locked while a number is taken)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("registration counter")
        verbose_name_plural = _("registration counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Appeal(models.Model):
    """One appeal of a customer (or an anonymous contact), from registration to closing."""

    number = models.CharField(_("registration number"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    kind = models.CharField(_("type"), max_length=20, choices=AppealType.choices)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED)

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    contact_name = models.CharField(_("contact name"), max_length=300, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    address = models.ForeignKey(
        Address,
        verbose_name=_("address"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    address_text = models.CharField(_("address (as given)"), max_length=400, blank=True)
    text = models.TextField(_("text"))
    preferred_answer_channel = models.CharField(
        _("preferred answer channel"),
        max_length=20,
        choices=AnswerChannel.choices,
        default=AnswerChannel.MAIL,
    )

    # Fields the retail-market rules require in a complaint about reliability or quality of supply.
    contract_number = models.CharField(_("contract number"), max_length=50, blank=True)
    violation_place = models.CharField(
        _("place of the violation (device address)"), max_length=400, blank=True
    )
    violation_at = models.DateTimeField(_("time of the violation"), null=True, blank=True)
    demand = models.TextField(_("demand"), blank=True)

    received_at = models.DateTimeField(_("received at"))
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    registered_late = models.BooleanField(_("registered late"), default=False)

    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="appeals"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_appeals",
    )

    policy = models.ForeignKey(
        "appeals.DeadlinePolicy",
        verbose_name=_("deadline policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deadline_at = models.DateTimeField(_("deadline"))
    base_deadline_at = models.DateTimeField(_("deadline before pauses and extension"))
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("time paused, s"), default=0)
    extended_days = models.PositiveSmallIntegerField(_("extended by, days"), default=0)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    warned_at = models.DateTimeField(_("deadline warning sent at"), null=True, blank=True)
    overdue_escalated_at = models.DateTimeField(_("overdue escalation at"), null=True, blank=True)

    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("answer delivered at"), null=True, blank=True)
    on_time = models.BooleanField(_("answered on time"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    cancel_reason = models.CharField(
        _("cancel reason"), max_length=20, choices=CancelReason.choices, blank=True
    )
    cancel_comment = models.TextField(_("cancel comment"), blank=True)

    incident = models.ForeignKey(
        Incident,
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appeals",
    )
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("repeat of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    escalation_of = models.ForeignKey(
        "self",
        verbose_name=_("escalation of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalations",
    )

    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)

    # What the assistant read in the text at registration, and who decided the type and topic.
    classified_by = models.CharField(
        _("type and topic set by"), max_length=20, choices=ClassifiedBy.choices, blank=True
    )
    suggested_kind = models.CharField(
        _("type suggested by the assistant"), max_length=20, choices=AppealType.choices, blank=True
    )
    suggested_topic = models.CharField(
        _("topic suggested by the assistant"), max_length=20, choices=Topic.choices, blank=True
    )
    suggested_kind_confidence = models.FloatField(
        _("confidence of the suggested type"), null=True, blank=True
    )
    suggested_topic_confidence = models.FloatField(
        _("confidence of the suggested topic"), null=True, blank=True
    )
    suggestion_reasons = models.JSONField(_("words behind the suggestion"), default=list, blank=True)
    suggested_account = models.ForeignKey(
        Account,
        verbose_name=_("account named in the text"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Found in the text but not linked: the sender was not identified as its holder."),
    )

    version = models.PositiveIntegerField(_("version"), default=1)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "deadline_at"], name="appeal_status_deadline"),
            models.Index(fields=["branch", "status"], name="appeal_branch_status"),
            models.Index(fields=["department", "status"], name="appeal_dept_status"),
            models.Index(fields=["assignee", "status"], name="appeal_assignee_status"),
            models.Index(fields=["customer", "topic", "received_at"], name="appeal_customer_topic"),
            models.Index(fields=["received_at"], name="appeal_received"),
        ]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return None if user.all_branches else Q(branch_id__in=user.branch_ids)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        """Open, not paused and past the deadline; or answered after the deadline."""
        if self.on_time is not None:
            return not self.on_time
        if not self.is_open or self.is_paused:
            return False
        return (now or timezone.now()) > self.deadline_at

    @property
    def has_suggestion(self) -> bool:
        return bool(self.suggested_kind or self.suggested_topic)

    @property
    def suggestion_confidence(self) -> float | None:
        """The lower of the two confidences (what the threshold is compared with for both)."""
        values = [
            v for v in (self.suggested_kind_confidence, self.suggested_topic_confidence) if v is not None
        ]
        return min(values) if values else None

    @property
    def suggestion_followed(self) -> bool | None:
        """Whether the type and topic are those the assistant suggested (None: nothing was suggested)."""
        if not self.has_suggestion:
            return None
        return self.kind == self.suggested_kind and self.topic == self.suggested_topic

    @property
    def awaits_classification(self) -> bool:
        """Registered with the default type and topic: an operator should confirm or change them."""
        return self.classified_by == ClassifiedBy.DEFAULT and self.is_open

    @property
    def requester(self) -> str:
        return self.customer.display_name if self.customer is not None else self.contact_name

    @property
    def local_received_at(self) -> dt.datetime:
        return timezone.localtime(self.received_at, self.branch.tz)

    @property
    def local_deadline(self) -> dt.datetime:
        return timezone.localtime(self.deadline_at, self.branch.tz)


class AppealEvent(models.Model):
    """The appeal's own timeline: every transition and action with actor, time, reason."""

    appeal = models.ForeignKey(
        Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(_("event"), max_length=20, choices=EventType.choices)
    time = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        ordering = ["time", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.type} {self.time:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"appeals/{instance.appeal.received_at:%Y/%m}/{instance.appeal.number}/{filename}"


class Attachment(models.Model):
    """A file attached to an appeal (scan of a letter, photo, document)."""

    appeal = models.ForeignKey(
        Appeal, verbose_name=_("appeal"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def access_q(cls, user, action: str) -> Q | None:
        return None if user.all_branches else Q(appeal__branch_id__in=user.branch_ids)


class AppealStat(models.Model):
    """Daily rollup of the registry for reports: counts by local day × branch × channel × type × topic.

    Kept in step by the actions (registration adds to ``received``, delivery to ``on_time`` or
    ``late``, cancellation to ``cancelled``); ``okno rebuild_stats`` recomputes it from the appeals.
    """

    day = models.DateField(_("day"))
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    kind = models.CharField(_("type"), max_length=20, choices=AppealType.choices)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    received = models.PositiveIntegerField(_("received"), default=0)
    on_time = models.PositiveIntegerField(_("answered on time"), default=0)
    late = models.PositiveIntegerField(_("answered late"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)

    class Meta:
        verbose_name = _("appeal statistics")
        verbose_name_plural = _("appeal statistics")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "branch", "channel", "kind", "topic"], name="appeal_stat_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.branch_id} {self.channel}/{self.kind}/{self.topic}: {self.received}"
