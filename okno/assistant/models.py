"""What the assistant remembers: the e-mail messages already taken in (each is processed once) and the
chat conversations with their messages."""

from __future__ import annotations

import uuid

from django.conf import settings
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


class Conversation(models.Model):
    """One chat with the assistant: on the public site, in the personal cabinet or in a messenger.

    The bot answers while the status is "bot"; a hand-off puts it in the staff inbox ("waiting") until
    an operator takes it ("operator"); idle or finished conversations are "closed". ``state`` is the
    dialogue engine's memory (the pending question, collected slots, identification attempts).
    """

    class ChannelKind(models.TextChoices):
        # The codes match ``appeals.Channel`` where one exists ("chat", "cabinet", "messenger").
        CHAT = "chat", _("Chat on the site")
        CABINET = "cabinet", _("Personal cabinet")
        MESSENGER = "messenger", _("Messenger")

    class Status(models.TextChoices):
        BOT = "bot", _("With the assistant")
        WAITING = "waiting", _("Waiting for an operator")
        OPERATOR = "operator", _("With an operator")
        CLOSED = "closed", _("Closed")

    public_id = models.UUIDField(_("public id"), unique=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=ChannelKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOT, db_index=True
    )
    language = models.CharField(_("language"), max_length=10, default="ru")
    cabinet_user = models.ForeignKey(
        "customers.CabinetUser",
        verbose_name=_("cabinet user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True, db_index=True)
    state = models.JSONField(_("state"), default=dict, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    appeal = models.ForeignKey(
        "appeals.Appeal",
        verbose_name=_("appeal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now, db_index=True)
    handed_off_at = models.DateTimeField(_("handed off at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["status", "last_activity_at"], name="assist_conv_status_activity"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class ChatMessage(models.Model):
    """One line of a conversation, with the buttons offered with it."""

    class Author(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        BOT = "bot", _("Assistant")
        OPERATOR = "operator", _("Operator")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(
        Conversation,
        verbose_name=_("conversation"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author = models.CharField(_("author"), max_length=10, choices=Author.choices)
    text = models.TextField(_("text"), blank=True)
    # Buttons offered with this message: [{"label": str, "value": str}].
    choices = models.JSONField(_("choices"), default=list, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_author_display()}: {self.text[:60]}"


from okno.assistant.messenger.models import TelegramOutbox, TelegramUpdate  # noqa: E402, F401  (the messenger adapter's tables)
