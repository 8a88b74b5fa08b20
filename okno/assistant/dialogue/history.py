"""Every conversation with a known customer is one line of their contact history (kind "chat").

The line is created once — when the conversation starts with a known customer, or when the customer
becomes known later (identification, the cabinet's account chosen) — and its summary is rewritten as
things happen (a reading handed in, an appeal registered, a hand-off). Its id is kept in
``conversation.state["contact_event_id"]``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from okno.assistant.models import Conversation
from okno.customers.actions import record_contact
from okno.customers.choices import ContactEventKind
from okno.customers.models import ContactEvent

REF_TYPE = "assistant.conversation"
MAX_DONE = 12  # the most recent actions named in the summary


def note(conversation: Conversation, what: str) -> None:
    """Remember an action for the summary (the caller saves the conversation)."""
    done = list(conversation.state.get("done", []))
    if what and (not done or done[-1] != what):
        done.append(what)
    conversation.state["done"] = done[-MAX_DONE:]


def summary(conversation: Conversation) -> str:
    done = conversation.state.get("done", [])
    head = _("Chat with the assistant")
    if conversation.status == Conversation.Status.CLOSED:
        head = _("Chat with the assistant (closed)")
    text = f"{head}: {'; '.join(done)}" if done else head
    return text[:300]


def sync(conversation: Conversation) -> ContactEvent | None:
    """Create the history line once the customer is known, or bring its summary up to date."""
    if conversation.customer_id is None or conversation.pk is None:
        return None
    text = summary(conversation)
    event_id = conversation.state.get("contact_event_id")
    if event_id:
        event = ContactEvent.objects.filter(pk=event_id, customer_id=conversation.customer_id).first()
        if event is not None:
            if event.summary != text:
                event.summary = text
                event.save(update_fields=["summary"])
            return event
    event = ContactEvent.objects.filter(
        ref_type=REF_TYPE, ref_id=conversation.pk, customer_id=conversation.customer_id
    ).first()
    if event is None:
        event = record_contact(
            conversation.customer_id,
            kind=ContactEventKind.CHAT,
            summary=text,
            channel=conversation.channel,
            ref=(REF_TYPE, conversation.pk, str(conversation.public_id)[:8]),
            occurred_at=conversation.started_at,
        )
    conversation.state["contact_event_id"] = event.pk
    return event
