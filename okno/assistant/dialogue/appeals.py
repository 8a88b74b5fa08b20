"""Appeals in a chat: the status of one by its registration number, and registering a new one with
the conversation's transcript attached."""

from __future__ import annotations

import logging
import re

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.appeals import actions
from okno.appeals.choices import AnswerChannel, Channel, Status
from okno.appeals.models import Appeal
from okno.assistant.dialogue.texts import local_date, local_time
from okno.assistant.models import ChatMessage, Conversation
from okno.customers.numbers import is_valid_phone, normalize_phone
from okno.org.models import User, system_actor

log = logging.getLogger(__name__)

#: Appeal status look-ups per requester (account.requester_key) in an hour (numbers are sequential: no walking through them).
STATUS_SCOPE = "assistant-appeal-status"
STATUS_LIMIT = 20
STATUS_WINDOW_S = 3600

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def actor_for(conversation: Conversation) -> User:
    return system_actor("messenger" if conversation.channel == Conversation.ChannelKind.MESSENGER else "chat")


def appeal_channel(conversation: Conversation) -> str:
    return Channel.MESSENGER if conversation.channel == Conversation.ChannelKind.MESSENGER else Channel.CHAT


def is_owner(conversation: Conversation, appeal: Appeal) -> bool:
    """The identified customer (or a cabinet user holding one of the customer's accounts) owns it."""
    if appeal.customer_id is None:
        return False
    if conversation.customer_id is not None and conversation.customer_id == appeal.customer_id:
        return True
    if conversation.cabinet_user_id is not None:
        from okno.customers.models import Account

        return Account.objects.filter(
            cabinetlink__user_id=conversation.cabinet_user_id, customer_id=appeal.customer_id
        ).exists()
    return False


def status_text(conversation: Conversation, number: str) -> str:
    from okno.assistant.dialogue.account import requester_key
    from okno.portal import abuse

    if abuse.over_limit(
        STATUS_SCOPE, requester_key(conversation), limit=STATUS_LIMIT, window_s=STATUS_WINDOW_S
    ):
        return _("Too many requests. Please try again later or talk to an operator.")
    appeal = Appeal.objects.select_related("branch").filter(number=number).first()
    if appeal is None:
        return _("I did not find appeal %(number)s. Please check the number: it looks like 2026-000123.") % {
            "number": number
        }
    tz = appeal.branch.tz
    parts = [
        _("Appeal %(number)s: %(status)s.")
        % {"number": appeal.number, "status": str(appeal.get_status_display()).lower()}
    ]
    if appeal.status in (Status.ANSWERED, Status.CLOSED):
        if appeal.answered_at is not None:
            parts.append(_("Answered on %(date)s.") % {"date": local_date(appeal.answered_at, tz)})
    elif appeal.status != Status.CANCELLED:
        parts.append(_("The answer is due by %(time)s.") % {"time": local_time(appeal.deadline_at, tz)})
    if is_owner(conversation, appeal):
        answer = appeal.answers.order_by("-created_at", "-id").first()
        if answer is not None and appeal.status in (Status.ANSWERED, Status.CLOSED):
            parts.append(_("The answer: %(text)s") % {"text": answer.text.strip()})
    elif appeal.status in (Status.ANSWERED, Status.CLOSED):
        parts.append(
            _(
                "The answer itself is shown only to the customer who made the appeal, once the account is confirmed."
            )
        )
    return " ".join(parts)


# --- registration -------------------------------------------------------------------------------


def parse_contact(text: str) -> tuple[str, str]:
    """(phone, e-mail) found in a message; both may be empty."""
    email = ""
    m = _EMAIL.search(text or "")
    if m:
        try:
            validate_email(m.group(0))
            email = m.group(0).lower()
        except ValidationError:
            email = ""
    phone = ""
    rest = _EMAIL.sub(" ", text or "")
    for m2 in re.finditer(r"\+?[\d\s()\-]{10,20}", rest):
        candidate = m2.group(0).strip()
        if is_valid_phone(candidate):
            phone = normalize_phone(candidate)
            break
    return phone, email


def transcript(conversation: Conversation) -> str:
    labels = dict(ChatMessage.Author.choices)
    lines = [
        _("Chat %(id)s, %(channel)s, started %(time)s")
        % {
            "id": str(conversation.public_id)[:8],
            "channel": conversation.get_channel_display(),
            "time": f"{timezone.localtime(conversation.started_at):%d.%m.%Y %H:%M}",
        },
        "",
    ]
    for msg in conversation.messages.order_by("id"):
        when = f"{timezone.localtime(msg.created_at):%d.%m.%Y %H:%M}"
        lines.append(f"[{when}] {labels.get(msg.author, msg.author)}: {msg.text}")
    return "\n".join(lines) + "\n"


def preferred_answer(conversation: Conversation, phone: str, email: str) -> str:
    if conversation.channel == Conversation.ChannelKind.CABINET:
        return AnswerChannel.CABINET
    if email or (
        conversation.customer is not None and actions.customer_contact(conversation.customer, "email")
    ):
        return AnswerChannel.EMAIL
    if phone or (
        conversation.customer is not None and actions.customer_contact(conversation.customer, "phone")
    ):
        return AnswerChannel.SMS
    return AnswerChannel.MAIL


def register(conversation: Conversation, *, text: str, name: str, phone: str, email: str) -> Appeal:
    """Register the appeal (through the intake's shared ``register``: classified like every text channel)
    and attach the transcript; raises ``ValidationError`` with the registration's field errors."""
    from okno.assistant.intake import common

    actor = actor_for(conversation)
    body = text.strip()
    if conversation.account is not None and conversation.account.number not in body:
        body = f"{body}\n\n" + _("Account: %(number)s") % {"number": conversation.account.number}
    fields: dict[str, object] = {
        "channel": appeal_channel(conversation),
        "preferred_answer_channel": preferred_answer(conversation, phone, email),
    }
    if conversation.customer is None:
        fields["contact_name"] = name
    if phone:
        fields["contact_phone"] = phone
    if email:
        fields["contact_email"] = email
    appeal = common.register(actor=actor, text=body, customer=conversation.customer, **fields)
    attach_transcript(conversation, appeal, actor)
    return appeal


def attach_transcript(conversation: Conversation, appeal: Appeal, actor: User) -> None:
    """The transcript as a text attachment; as a comment when the attachment is refused (markup typed)."""
    content = transcript(conversation).encode("utf-8")
    upload = SimpleUploadedFile(
        f"chat-{str(conversation.public_id)[:8]}.txt", content, content_type="text/plain"
    )
    try:
        actions.add_attachment(appeal, actor=actor, upload=upload)
    except ValidationError:
        log.info("chat transcript refused as an attachment, kept as a comment", exc_info=True)
        actions.comment(appeal, actor=actor, text=content.decode("utf-8")[:20000])


def registered_text(appeal: Appeal) -> str:
    return _("Your appeal is registered under number %(number)s. The answer is due by %(time)s.") % {
        "number": appeal.number,
        "time": local_time(appeal.deadline_at, appeal.branch.tz),
    }


def errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        messages = [str(m) for msgs in exc.message_dict.values() for m in msgs]
    else:
        messages = [str(m) for m in exc.messages]
    return " ".join(messages[:3])
