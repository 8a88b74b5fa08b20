"""Reception fixtures: the outage grid (for "no power" reports), a clean rate-limit cache, form data."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.outages.conftest import grid  # noqa: F401  (the grid fixture, reused by the no-power tests)

ADDRESS = "Северск, ул. Ленина, 10"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML_AS_PDF = b"<!DOCTYPE html><html><body><script>alert('x')</script></body></html>"


@pytest.fixture(autouse=True)
def _fresh_limits():
    """The rate-limit counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


def pdf(name: str = "photo.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def html_as_pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, HTML_AS_PDF, content_type="application/pdf")


CONTACTS = {
    "contact_name": "Иванов Пётр Сергеевич",
    "contact_email": "ivanov@example.ru",
    "contact_phone": "+7 912 345-67-89",
    "consent": "on",
}

#: Valid data of every form (url name → POST data).
VALID: dict[str, dict[str, str]] = {
    "question": {"topic_choice": "billing", "text": "Как рассчитывается плата за ОДН?", "address": ADDRESS},
    "appeal": {
        "kind_choice": "suggestion",
        "topic_choice": "service_quality",
        "text": "Прошу продлить часы работы офиса в Северске.",
        "address": ADDRESS,
    },
    "quality_complaint": {
        "address": ADDRESS,
        "problem": "voltage_low",
        "violation_at": "2026-11-20T19:30",
        "ongoing": "on",
        "contract_number": "Д-1001",
        "text": "Лампы горят вполнакала, холодильник не включается.",
        "demand": "Проверить напряжение и восстановить качество электроэнергии.",
    },
    "theft": {"address": "Северск, ул. Ленина, 3", "text": "Наброс на провода ВЛ у дома 3."},
    "no_power": {"address": ADDRESS, "text": "Нет света во всём доме."},
    "connection_individual": {
        "reason": "new",
        "address": "Северск, ул. Садовая, 7",
        "cadastral_number": "70:21:0100001:123",
        "capacity": "12,5",
        "voltage": "0.4",
        "category": "III",
        "inn": "",
    },
    "connection_legal": {
        "organisation": "ПАО Сбербанк",
        "inn": "7707083893",
        "ogrn": "1027700132195",
        "reason": "new",
        "address": "Северск, ул. Промышленная, 1",
        "capacity": "250",
        "voltage": "10",
        "category": "II",
    },
    "metering": {"service": "replace", "address": ADDRESS, "account_number": "", "meter_serial": "0123456"},
    "reissue": {"document": "act", "reason": "owner", "address": ADDRESS},
}

#: What each form registers: (kind, topic).
REGISTERS = {
    "question": ("info_request", "billing"),
    "appeal": ("suggestion", "service_quality"),
    "quality_complaint": ("complaint", "power_quality"),
    "theft": ("report", "theft"),
    "no_power": ("report", "outage"),
    "connection_individual": ("application", "grid_connection"),
    "connection_legal": ("application", "grid_connection"),
    "metering": ("application", "metering"),
    "reissue": ("application", "grid_connection"),
}

WITH_FILES = {"appeal", "quality_complaint", "theft", "connection_individual", "connection_legal", "reissue"}


def data_for(name: str, **overrides: str) -> dict[str, str]:
    data = {**VALID[name], **CONTACTS}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
