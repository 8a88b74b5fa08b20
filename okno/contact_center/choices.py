"""Enumerations of the contact centre (codes are stable English words, labels translated)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Strategy(models.TextChoices):
    LONGEST_IDLE = "longest_idle", _("Longest idle agent")
    ROUND_ROBIN = "round_robin", _("Round robin with memory")
    FEWEST_CALLS = "fewest_calls", _("Fewest calls")
    SKILLS = "skills", _("Skills with penalties")
    RING_ALL = "ring_all", _("Ring all")


class AgentState(models.TextChoices):
    AVAILABLE = "available", _("Available")
    ON_CALL = "on_call", _("On a call")
    WRAP_UP = "wrap_up", _("Wrap-up")
    BREAK = "break", _("Break")
    OFFLINE = "offline", _("Offline")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class CallOutcome(models.TextChoices):
    IN_IVR = "in_ivr", _("In the IVR")
    SELF_SERVICE = "self_service", _("Served by the IVR")
    QUEUED = "queued", _("Waiting for an operator")
    ANSWERED = "answered", _("Answered by an operator")
    ABANDONED = "abandoned", _("Abandoned while waiting")
    CALLBACK = "callback", _("Callback requested")
    FAILED = "failed", _("Not connected")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")


class CallbackStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DIALLING = "dialling", _("Dialling")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignKind(models.TextChoices):
    PLANNED_OUTAGE = "planned_outage", _("Planned outage notice")
    DEBT_REMINDER = "debt_reminder", _("Debt reminder")
    SURVEY = "survey", _("Satisfaction survey")
    CALLBACK = "callback", _("Callbacks")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")


class TargetStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DIALLING = "dialling", _("Dialling")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed after all attempts")
    SKIPPED = "skipped", _("Skipped")
