"""``okno telegram``: the assistant's Telegram bot.

* ``okno telegram set-webhook --url https://okno.example/assistant/telegram/webhook/`` — tells Telegram
  where to post updates (``setWebhook`` with ``OKNO_TELEGRAM_WEBHOOK_SECRET`` as the secret token);
* ``okno telegram send-pending`` — sends the outbox's due messages now (what the retry job does).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from okno.assistant.messenger.client import BotApi, BotApiError
from okno.assistant.messenger.outbox import send_due


class Command(BaseCommand):
    help = "The assistant's Telegram bot: set the webhook, send the pending messages."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        hook = sub.add_parser("set-webhook", help="tell Telegram the webhook URL (setWebhook)")
        hook.add_argument("--url", required=True, help="https://…/assistant/telegram/webhook/")
        sub.add_parser("send-pending", help="send the outbox's due messages now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "send-pending":
            self.stdout.write(json.dumps(send_due(), sort_keys=True))
            return
        url = options["url"]
        parts = urlsplit(url)
        if (
            parts.scheme != "https"
            and not settings.DEBUG
            and parts.hostname not in {"127.0.0.1", "localhost"}
        ):
            raise CommandError("Telegram posts only to https:// webhook URLs")
        secret = getattr(settings, "OKNO_TELEGRAM_WEBHOOK_SECRET", "")
        if not secret:
            raise CommandError(
                "set OKNO_TELEGRAM_WEBHOOK_SECRET first: the webhook refuses updates without it"
            )
        try:
            api = BotApi.from_settings()
            api.set_webhook(url, secret)
        except BotApiError as exc:
            raise CommandError(f"setWebhook failed: {exc}") from exc
        self.stdout.write(f"webhook set: {url}")
