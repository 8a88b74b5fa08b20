"""The assistant's suggestion on the operator's registration screen, reached through a setting.

The registry sits below the assistant in the map of apps (docs/development), so it does not import it:
``OKNO_APPEAL_SUGGESTER`` names the function (default ``okno.assistant.suggest.suggest``, called as
``fn(text, customer=…, user=…)``). An empty setting, a missing module or a failing call means no
suggestion: the screen works as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from okno.customers.models import Customer

log = logging.getLogger(__name__)

DEFAULT_SUGGESTER = "okno.assistant.suggest.suggest"


def suggester() -> Callable[..., Any] | None:
    path = getattr(settings, "OKNO_APPEAL_SUGGESTER", DEFAULT_SUGGESTER)
    if not path:
        return None
    try:
        return import_string(path)  # type: ignore[no-any-return]
    except ImportError:
        log.warning("OKNO_APPEAL_SUGGESTER %r cannot be imported: no suggestions", path)
        return None


def suggest_for(text: str, *, user: Any, customer: Customer | None = None) -> Any | None:
    """The suggestion for ``text`` (accounts limited to ``user``'s scope and ``customer``), or None."""
    fn = suggester()
    if fn is None or not (text or "").strip():
        return None
    try:
        return fn(text, customer=customer, user=user)
    except Exception:  # noqa: BLE001 — a suggestion must never stop a registration
        log.exception("the appeal suggester failed")
        return None
