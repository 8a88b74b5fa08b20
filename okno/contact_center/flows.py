"""The contact centre's defaults: the main IVR flow, the queues and the wrap-up codes.

:func:`ensure_defaults` writes them where they are missing (the demo seed and a fresh installation call
it); an administrator edits them afterwards in the admin, where a published flow version is read-only and
an edit makes a new version.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from okno.contact_center.ivr import validate_flow
from okno.contact_center.models import IvrFlow, IvrFlowVersion, Queue, WrapUpCode

MAIN_FLOW: dict[str, Any] = {
    "start": "greeting",
    "operator": "operator",
    "steps": {
        "greeting": {"type": "say", "prompt": "greeting", "next": "emergency"},
        "emergency": {"type": "emergency", "next": "menu"},
        "menu": {
            "type": "menu",
            "prompt": "main_menu",
            "options": {
                "1": "outage",
                "2": "reading",
                "3": "balance",
                "4": "planned",
                "5": "connection",
                "6": "other",
                "9": "bye",
            },
        },
        "outage": {"type": "outage_status", "next": "outage_menu"},
        "outage_menu": {
            "type": "menu",
            "prompt": "outage_menu",
            "options": {"1": "outage_queue", "2": "menu"},
        },
        "outage_queue": {"type": "queue", "queue": "outage"},
        # A reading refused after the retries, no meter in service, or 0: the readings queue.
        "reading": {"type": "reading", "next": "menu", "operator": "readings_queue"},
        "readings_queue": {"type": "queue", "queue": "readings"},
        "balance": {"type": "balance", "next": "balance_menu"},
        "balance_menu": {
            "type": "menu",
            "prompt": "balance_menu",
            "options": {"1": "billing_queue", "2": "menu"},
        },
        "billing_queue": {"type": "queue", "queue": "billing"},
        "planned": {"type": "planned_outages", "next": "menu"},
        "connection": {"type": "queue", "queue": "connection"},
        "other": {"type": "queue", "queue": "general"},
        "operator": {"type": "queue", "queue": "general"},
        "bye": {"type": "hangup"},
    },
}
validate_flow(MAIN_FLOW)


@dataclass(frozen=True)
class QueueDefault:
    code: str
    name: str
    topic: str
    strategy: str = "longest_idle"
    overflow_to: str = ""
    overflow_after_s: int = 0
    callback_threshold_s: int = 180
    target_answer_s: int = 20
    aht_s: int = 180
    wrapup_s: int = 15


QUEUES = [
    QueueDefault("general", "Общие вопросы", "other", strategy="longest_idle"),
    QueueDefault(
        "outage",
        "Отключения электроэнергии",
        "outage",
        strategy="skills",
        overflow_to="general",
        overflow_after_s=60,
        callback_threshold_s=120,
        aht_s=120,
    ),
    QueueDefault(
        "readings", "Показания приборов учёта", "metering", overflow_to="general", overflow_after_s=90
    ),
    QueueDefault(
        "billing",
        "Начисления и оплата",
        "billing",
        strategy="fewest_calls",
        overflow_to="general",
        overflow_after_s=90,
        aht_s=240,
    ),
    QueueDefault(
        "connection",
        "Технологическое присоединение",
        "grid_connection",
        strategy="skills",
        callback_threshold_s=240,
        target_answer_s=30,
        aht_s=300,
    ),
]
DEFAULT_QUEUE = "general"

WRAP_UP_CODES = [
    ("resolved", "Вопрос решён", True),
    ("info", "Дана справка", True),
    ("outage_info", "Сообщено о сроках восстановления", True),
    ("appeal", "Зарегистрировано обращение", False),
    ("transfer", "Переадресован специалисту", False),
    ("callback_needed", "Нужен обратный звонок", False),
    ("wrong_number", "Ошибочный звонок", True),
    ("dropped", "Звонок прервался", False),
]


def ensure_defaults(*, actor: Any = None) -> dict[str, int]:
    """Create the default queues, wrap-up codes and the published main flow where they are missing;
    returns how many of each were created (existing rows are left as the administrator set them)."""
    created = {"queues": 0, "wrapup_codes": 0, "flows": 0}
    with transaction.atomic():
        queues: dict[str, Queue] = {}
        for spec in QUEUES:
            queue, made = Queue.objects.get_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "topic": spec.topic,
                    "strategy": spec.strategy,
                    "overflow_after_s": spec.overflow_after_s,
                    "callback_threshold_s": spec.callback_threshold_s,
                    "target_answer_s": spec.target_answer_s,
                    "aht_s": spec.aht_s,
                    "wrapup_s": spec.wrapup_s,
                    "is_default": spec.code == DEFAULT_QUEUE,
                },
            )
            queues[spec.code] = queue
            created["queues"] += made
        for spec in QUEUES:
            queue = queues[spec.code]
            if spec.overflow_to and queue.overflow_to_id is None and queue.overflow_after_s:
                Queue.objects.filter(pk=queue.pk).update(overflow_to=queues[spec.overflow_to])
        for code, label, resolved in WRAP_UP_CODES:
            _code, made = WrapUpCode.objects.get_or_create(
                code=code, defaults={"label": label, "resolved": resolved}
            )
            created["wrapup_codes"] += made
        flow, _made = IvrFlow.objects.get_or_create(
            code="main", defaults={"name": "Основная линия", "number": "88000000000"}
        )
        if not flow.versions.exists():
            IvrFlowVersion.objects.create(
                flow=flow,
                number=1,
                definition=copy.deepcopy(MAIN_FLOW),
                note="Исходная версия",
                created_by=actor if getattr(actor, "pk", None) else None,
                published_at=timezone.now(),
            )
            created["flows"] += 1
    return created


__all__ = ["DEFAULT_QUEUE", "MAIN_FLOW", "QUEUES", "WRAP_UP_CODES", "QueueDefault", "ensure_defaults"]
