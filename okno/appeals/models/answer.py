from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.appeals.choices import AnswerChannel


class Answer(models.Model):
    """The written response to an appeal; ``delivered_at`` is when it reached the customer (stops the clock)."""

    appeal = models.ForeignKey(
        "appeals.Appeal", verbose_name=_("appeal"), on_delete=models.CASCADE, related_name="answers"
    )
    template = models.ForeignKey(
        "appeals.AnswerTemplate",
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("text"))
    channel = models.CharField(_("answer channel"), max_length=20, choices=AnswerChannel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    outgoing_number = models.CharField(_("outgoing number"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal.number} → {self.outgoing_number or self.pk}"
