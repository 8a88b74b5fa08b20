"""Contact-centre records: queues, agents and skills, IVR flows (versioned data), calls and their events,
callbacks, outbound campaigns and the do-not-call list.

The routing decisions themselves are made in memory by :mod:`okno.contact_center.acd`; these tables are
its configuration and its history (the statistics and the Asterisk ``queue_log`` export read
:class:`CallEvent`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.contact_center.choices import (
    AgentState,
    CallbackStatus,
    CallOutcome,
    CampaignKind,
    CampaignStatus,
    Direction,
    Strategy,
    TargetStatus,
)


class Queue(models.Model):
    """A call queue for a topic or skill, with its distribution strategy and its waiting-time norm."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    topic = models.CharField(_("appeal topic"), max_length=30, blank=True)
    strategy = models.CharField(
        _("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.LONGEST_IDLE
    )
    wrapup_s = models.PositiveIntegerField(_("wrap-up time, s"), default=15)
    target_answer_s = models.PositiveIntegerField(
        _("waiting-time norm, s"),
        default=20,
        help_text=_("Calls answered within this time count as on norm."),
    )
    target_service_level = models.DecimalField(
        _("service level target"), max_digits=4, decimal_places=3, default=0.8
    )
    overflow_to = models.ForeignKey(
        "self",
        verbose_name=_("overflow queue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    overflow_after_s = models.PositiveIntegerField(_("overflow after, s"), default=0)
    callback_threshold_s = models.PositiveIntegerField(
        _("offer a callback above an expected wait of, s"),
        default=180,
        help_text=_("0: never offer a callback"),
    )
    announce_position = models.BooleanField(_("announce position and expected wait"), default=True)
    aht_s = models.PositiveIntegerField(_("expected handling time, s"), default=180)
    is_default = models.BooleanField(_("default queue"), default=False)

    class Meta:
        verbose_name = _("call queue")
        verbose_name_plural = _("call queues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.overflow_to_id and self.overflow_to_id == self.pk:
            raise ValidationError({"overflow_to": _("A queue cannot overflow to itself.")})


class Agent(models.Model):
    """A staff member working the phones: extension, current state and skills."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("staff"), on_delete=models.CASCADE, related_name="cc_agent"
    )
    extension = models.CharField(_("extension"), max_length=20, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=AgentState.choices, default=AgentState.OFFLINE
    )
    state_since = models.DateTimeField(_("in this state since"), default=timezone.now)
    queues = models.ManyToManyField(Queue, through="Skill", related_name="agents", blank=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return str(self.user)


class Skill(models.Model):
    """An agent's membership of a queue; penalty 0 is the best, higher is asked later."""

    agent = models.ForeignKey(Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="skills")
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="skills")
    penalty = models.PositiveSmallIntegerField(_("penalty"), default=0)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        constraints = [models.UniqueConstraint(fields=["agent", "queue"], name="cc_skill_unique")]

    def __str__(self) -> str:
        return f"{self.agent} · {self.queue} ({self.penalty})"


class WrapUpCode(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("label"), max_length=100)
    resolved = models.BooleanField(
        _("resolved on the call"), default=True, help_text=_("Counts towards first-contact resolution.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("wrap-up code")
        verbose_name_plural = _("wrap-up codes")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class IvrFlow(models.Model):
    """A named IVR flow (the main line, an emergency line); its steps live in versions."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    number = models.CharField(_("dialled number"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("IVR flow")
        verbose_name_plural = _("IVR flows")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def published(self) -> IvrFlowVersion | None:
        return self.versions.filter(published_at__isnull=False).order_by("-number").first()


class IvrFlowVersion(models.Model):
    """One version of a flow's steps (JSON, see ``okno.contact_center.ivr``); published ones are
    read-only: an edit makes a new version."""

    flow = models.ForeignKey(
        IvrFlow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("steps"))
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("IVR flow version")
        verbose_name_plural = _("IVR flow versions")
        ordering = ["flow", "-number"]
        constraints = [models.UniqueConstraint(fields=["flow", "number"], name="cc_flow_version_unique")]

    def __str__(self) -> str:
        return f"{self.flow.code} v{self.number}"

    def clean(self) -> None:
        from okno.contact_center.ivr import FlowError, validate_flow, validate_queues

        try:
            validate_flow(self.definition)
            validate_queues(self.definition, Queue.objects.values_list("code", flat=True))
        except FlowError as exc:
            raise ValidationError({"definition": str(exc)}) from exc


class Call(models.Model):
    """One call, inbound or outbound, from the first ring to hang-up; a contact in the customer's history."""

    uid = models.UUIDField(_("call id"), default=uuid.uuid4, unique=True, editable=False)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    caller = models.CharField(_("calling number"), max_length=32, blank=True, db_index=True)
    called = models.CharField(_("called number"), max_length=32, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True, on_delete=models.SET_NULL
    )
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL
    )
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    enqueued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    wrapup_ended_at = models.DateTimeField(_("wrap-up ended at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=15, choices=CallOutcome.choices, default=CallOutcome.IN_IVR
    )
    wrapup_code = models.ForeignKey(
        WrapUpCode, verbose_name=_("wrap-up code"), null=True, blank=True, on_delete=models.SET_NULL
    )
    topic = models.CharField(_("topic"), max_length=30, blank=True)
    ivr_path = models.JSONField(_("IVR path"), default=list, blank=True)
    appeal = models.ForeignKey(
        "appeals.Appeal",
        verbose_name=_("appeal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    campaign_target = models.ForeignKey(
        "CampaignTarget", verbose_name=_("campaign target"), null=True, blank=True, on_delete=models.SET_NULL
    )
    telephony_id = models.CharField(_("telephony id"), max_length=64, blank=True, db_index=True)
    # The IVR session between turns (step, retries, digits collected, the account identified) and what the
    # caller heard, so any web or adapter process can play the next turn (see okno.contact_center.engine).
    ivr_state = models.JSONField(_("IVR state"), default=dict, blank=True)
    # When the call entered its current queue (an overflow moves it on; ``enqueued_at`` keeps the first
    # entry, so its wait counts from there) and its place then (queue_log's ``origposition``).
    queue_entered_at = models.DateTimeField(_("in this queue since"), null=True, blank=True)
    entry_position = models.PositiveSmallIntegerField(_("position on entry"), default=0)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["queue", "started_at"], name="cc_call_queue_time")]

    def __str__(self) -> str:
        return f"{self.caller or '?'} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def wait_s(self) -> float | None:
        if self.enqueued_at is None:
            return None
        end = self.answered_at or self.ended_at
        return (end - self.enqueued_at).total_seconds() if end else None

    @property
    def talk_s(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()


class CallEvent(models.Model):
    """A queue or agent event of a call, in the spirit of Asterisk's queue_log (ENTERQUEUE, CONNECT,
    COMPLETEAGENT, ABANDON …) — the export writes these lines as they are."""

    call = models.ForeignKey(
        Call, verbose_name=_("call"), null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    queue = models.CharField(_("queue"), max_length=30, blank=True)
    agent = models.CharField(_("agent"), max_length=60, blank=True)
    event = models.CharField(_("event"), max_length=30)
    data = models.JSONField(_("data"), default=list, blank=True)

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.event}"


class Callback(models.Model):
    """A caller who chose to be called back instead of waiting: they keep their place in the queue."""

    call = models.OneToOneField(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="callback"
    )
    number = models.CharField(_("number"), max_length=32)
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), on_delete=models.PROTECT)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display()})"


class Campaign(models.Model):
    """An outbound campaign: who to call, when (a calling window in the customer's time zone), how often."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=CampaignKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    window_start = models.TimeField(_("calling window from"), default="09:00")
    window_end = models.TimeField(_("calling window to"), default="20:00")
    max_attempts = models.PositiveSmallIntegerField(_("attempts"), default=3)
    retry_after_min = models.PositiveIntegerField(_("retry after, min"), default=60)
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), null=True, blank=True, on_delete=models.SET_NULL
    )
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignTarget(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="targets"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), null=True, blank=True, on_delete=models.SET_NULL
    )
    account = models.ForeignKey(
        "customers.Account", verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL
    )
    number = models.CharField(_("number"), max_length=32)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    status = models.CharField(
        _("status"), max_length=10, choices=TargetStatus.choices, default=TargetStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now, db_index=True)
    result = models.CharField(_("result"), max_length=100, blank=True)
    answer = models.CharField(_("survey answer"), max_length=20, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)

    class Meta:
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        ordering = ["campaign", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="cc_target_unique")]

    def __str__(self) -> str:
        return self.number


class DoNotCall(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("do-not-call number")
        verbose_name_plural = _("do-not-call list")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number
