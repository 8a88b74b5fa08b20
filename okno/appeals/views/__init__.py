"""The operator web UI of the appeals registry (server-rendered pages)."""

from okno.appeals.views.card import answer_pdf, appeal_action, appeal_detail, attachment_download
from okno.appeals.views.queues import department_queue, my_queue
from okno.appeals.views.register import candidates_fragment, register, suggestion_fragment

__all__ = [
    "answer_pdf",
    "appeal_action",
    "appeal_detail",
    "attachment_download",
    "candidates_fragment",
    "department_queue",
    "my_queue",
    "register",
    "suggestion_fragment",
]
