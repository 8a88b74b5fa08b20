"""Delivery of the assistant's and the operators' messages to messenger conversations.

The dialogue engine calls :func:`deliver` inside the transaction that writes every bot, operator and
system message of a conversation of channel ``messenger``. Telegram conversations (``external_id``
``telegram:<chat id>``) get their message queued in the Telegram outbox in that same transaction (the
rows commit with the message or not at all, so a crash right after the commit cannot lose an
operator's answer) and sent after the commit when nothing older of that chat is still waiting; what cannot be sent now is retried by the ``assistant.telegram_outbox`` job (see
:mod:`okno.assistant.messenger.outbox`). Nothing is lost silently: a message that could not be delivered
stays in the outbox as ``failed`` with the error, and the staff inbox marks it.
"""

from __future__ import annotations

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def deliver(message: object) -> None:
    """Queue ``message`` (a :class:`~okno.assistant.models.ChatMessage`) for its messenger and send it."""
    from okno.assistant.messenger import outbox
    from okno.assistant.models import ChatMessage

    if not isinstance(message, ChatMessage) or message.author == ChatMessage.Author.CUSTOMER:
        return
    conversation = message.conversation
    if conversation.channel != "messenger":
        return
    chat_id = outbox.chat_id_of(conversation)
    if chat_id is None:
        log.warning("message %s: conversation %s has no messenger to deliver to", message.pk, conversation.pk)
        return
    outbox.queue(message)

    def send() -> None:
        try:
            outbox.send_due(chat_id=chat_id)
        except Exception:  # the row stays pending for the retry job
            log.exception("sending message %s to Telegram chat %s failed", message.pk, chat_id)

    # Sent once the rows are committed (at once when called outside a transaction).
    transaction.on_commit(send)
