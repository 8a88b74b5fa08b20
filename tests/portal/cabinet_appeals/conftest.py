"""Fixtures of the cabinet's appeals and settings tests: a clean throttle cache, answered appeals, files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _clean_cache():
    """The per-user appeal throttle counts in the cache, which outlives a test's database."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def html(name: str = "page.pdf") -> SimpleUploadedFile:
    """A web page that claims to be a PDF: the sniffer refuses it."""
    return SimpleUploadedFile(name, b"<html><script>alert(1)</script></html>", content_type="application/pdf")


@pytest.fixture
def answered(org):
    """Answer an appeal in the personal cabinet (delivered at once), as staff would."""
    from okno.appeals import actions

    def _answer(appeal, text: str = "Свет восстановлен, причина — повреждение кабеля."):
        actions.answer_appeal(appeal, actor=org.specialist_a1, text=text, channel="cabinet")
        appeal.refresh_from_db()
        return appeal

    return _answer
