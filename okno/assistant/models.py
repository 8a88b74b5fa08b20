"""What the assistant remembers: the e-mail messages already taken in (each is processed once)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IntakeMessage(models.Model):
    """One incoming message by its Message-ID and what became of it."""

    class Outcome(models.TextChoices):
        APPEAL = "appeal", _("New appeal")
        THREADED = "threaded", _("Added to an appeal")
        IGNORED = "ignored", _("Ignored (auto-reply or bounce)")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel"), max_length=10, default="email")
    message_id = models.CharField(_("message ID"), max_length=255, unique=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    appeal = models.ForeignKey(
        "appeals.Appeal",
        verbose_name=_("appeal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    processed_at = models.DateTimeField(_("processed at"), default=timezone.now)

    class Meta:
        verbose_name = _("incoming message")
        verbose_name_plural = _("incoming messages")
        ordering = ["-processed_at"]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.outcome}"
