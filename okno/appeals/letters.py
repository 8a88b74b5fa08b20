"""The answer as a PDF letter (WeasyPrint, HTML template)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation

from okno.appeals.models import Answer


def render_answer_html(answer: Answer) -> str:
    appeal = answer.appeal
    company = appeal.branch.company
    with translation.override("ru"):
        return render_to_string(
            "appeals/letters/answer.html",
            {
                "answer": answer,
                "appeal": appeal,
                "company": company,
                "branch": appeal.branch,
                "date": timezone.localtime(answer.created_at, appeal.branch.tz),
                "received": timezone.localtime(appeal.received_at, appeal.branch.tz),
                "author": answer.author,
            },
        )


def render_answer_pdf(answer: Answer) -> bytes:
    from weasyprint import HTML  # imported lazily: it takes about two seconds

    return HTML(string=render_answer_html(answer)).write_pdf()
