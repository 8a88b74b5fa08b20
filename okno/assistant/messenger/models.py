"""The Telegram adapter's tables: the update ids already processed, and the outbox of outgoing messages.

They belong to the ``assistant`` app (``okno.assistant.models`` imports them).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TelegramUpdate(models.Model):
    """One update Telegram posted to the webhook. The unique ``update_id`` makes processing idempotent:
    Telegram repeats an update until it gets a 2xx, and a repeat is ignored."""

    update_id = models.BigIntegerField(_("update id"), unique=True)
    kind = models.CharField(_("kind"), max_length=30, blank=True)
    chat_id = models.CharField(_("chat id"), max_length=40, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("Telegram update")
        verbose_name_plural = _("Telegram updates")
        ordering = ["-update_id"]

    def __str__(self) -> str:
        return f"{self.update_id} ({self.kind})"


class TelegramOutbox(models.Model):
    """One ``sendMessage`` call to make: kept until Telegram accepted it, retried by a job when it failed.

    A row is created for every part of every bot, operator or system message of a messenger conversation
    (:func:`okno.assistant.dialogue.delivery.deliver`); the rows of one chat are sent in ``id`` order.
    After :data:`okno.assistant.messenger.outbox.MAX_ATTEMPTS` failures a row is ``failed`` and the staff
    inbox shows the message as not delivered.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not delivered")

    conversation = models.ForeignKey(
        "assistant.Conversation",
        verbose_name=_("conversation"),
        on_delete=models.CASCADE,
        related_name="telegram_outbox",
    )
    message = models.ForeignKey(
        "assistant.ChatMessage",
        verbose_name=_("chat message"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="telegram_outbox",
    )
    part = models.PositiveSmallIntegerField(_("part"), default=0)
    chat_id = models.CharField(_("chat id"), max_length=40)
    payload = models.JSONField(_("request"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Telegram outgoing message")
        verbose_name_plural = _("Telegram outgoing messages")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "part"],
                condition=models.Q(message__isnull=False),
                name="assist_tg_outbox_message_part",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="assist_tg_outbox_due")]

    def __str__(self) -> str:
        return f"→ {self.chat_id} #{self.pk} ({self.status})"
