"""``POST /assistant/telegram/webhook/``: Telegram posts the bot's updates here.

404 while the bot is not configured (no ``OKNO_TELEGRAM_TOKEN`` or ``OKNO_TELEGRAM_WEBHOOK_SECRET``);
403 unless the header ``X-Telegram-Bot-Api-Secret-Token`` equals the secret (compared in constant time);
400 for a body that is not a JSON object. Otherwise 200 — also for an update that is ignored or repeated
— so Telegram does not repeat it; a failure while processing answers 500 and Telegram repeats the
update, which is then processed again (nothing of it was kept).
"""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from okno.assistant.messenger.adapter import handle_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header's name, not a secret)
#: Telegram's updates are small; anything bigger is not one.
MAX_BODY = 1024 * 1024


def configured() -> bool:
    return bool(
        getattr(settings, "OKNO_TELEGRAM_TOKEN", "") and getattr(settings, "OKNO_TELEGRAM_WEBHOOK_SECRET", "")
    )


@csrf_exempt  # Telegram cannot send a CSRF token; the secret header authenticates it
@require_POST
def telegram_webhook(request: HttpRequest) -> HttpResponse:
    if not configured():
        raise Http404
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8"), settings.OKNO_TELEGRAM_WEBHOOK_SECRET.encode("utf-8")):
        return HttpResponse(status=403)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return HttpResponse(status=413)
    try:
        update = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"ok": False, "description": "not JSON"}, status=400)
    if not isinstance(update, dict):
        return JsonResponse({"ok": False, "description": "not an update"}, status=400)
    outcome = handle_update(update)
    return JsonResponse({"ok": True, "result": outcome.status})
