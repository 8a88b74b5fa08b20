"""The dialogue engine: one customer message in, the bot's answers out (see docs/assistant/dialogue.md).

Public API (the contract with the chat channels, /work/briefs/dialogue-contract.md):
:func:`start`, :func:`respond`, :func:`hand_off`, :func:`take`, :func:`operator_reply`, :func:`close`,
:func:`messages_after`, :func:`close_idle`. Every function runs in a transaction with the conversation's
row locked. Messages of a messenger conversation written by the bot, an operator or the system are
handed to ``okno.assistant.dialogue.delivery.deliver`` after commit.

The engine's memory is ``conversation.state``:

* ``pending`` — the question the bot asked and waits an answer to (``{"kind": …, …}``);
* ``choices`` — the buttons offered last (a customer may type a label instead of pressing it);
* ``draft`` — the appeal being registered (text, name);
* ``unanswered`` — the last message nothing answered (the draft of an appeal if the customer wants one);
* ``done`` — what was done, for the contact-history line and the operator's summary;
* ``handoff`` — reason, summary and time of the hand-off; ``contact_event_id``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.assistant.dialogue import account as acc
from okno.assistant.dialogue import appeals, faq, history, intents, outage
from okno.assistant.dialogue.texts import MAX_TEXT, Choice, choice, menu, please_describe, storable
from okno.assistant.models import ChatMessage, Conversation
from okno.customers.models import Account
from okno.org.models import User, describe

log = logging.getLogger(__name__)

Status = Conversation.Status
Author = ChatMessage.Author
STATE_FIELDS = [
    "status",
    "customer",
    "account",
    "state",
    "operator",
    "appeal",
    "last_activity_at",
    "handed_off_at",
    "closed_at",
]
MAX_RETRIES = 2  # the same question asked again at most this many times, then operator/appeal offered


class DialogueError(ValueError):
    """An operation the conversation's state does not allow (the message says why)."""


class ConversationClosed(DialogueError):
    pass


class AlreadyTaken(DialogueError):
    pass


def idle_minutes() -> int:
    return int(getattr(settings, "OKNO_CHAT_IDLE_MINUTES", 30))


def handoff_idle_minutes() -> int:
    """Idle time after which a conversation handed to the staff (waiting or with an operator) is closed:
    much longer than the bot's, so a queue or an operator looking things up never loses the customer."""
    return max(idle_minutes(), int(getattr(settings, "OKNO_CHAT_HANDOFF_IDLE_MINUTES", 24 * 60)))


def _idle_limit(status: str) -> int:
    return handoff_idle_minutes() if status in (Status.WAITING, Status.OPERATOR) else idle_minutes()


# --- a turn: the messages written while one call runs ----------------------------------------------


class Turn:
    def __init__(self, conversation: Conversation) -> None:
        self.conv = conversation
        self.messages: list[ChatMessage] = []

    @property
    def state(self) -> dict[str, Any]:
        return self.conv.state

    def add(
        self, author: str, text: str, choices: list[Choice] | None = None, operator: User | None = None
    ) -> ChatMessage:
        msg = ChatMessage.objects.create(
            conversation=self.conv, author=author, text=text, choices=choices or [], operator=operator
        )
        self.messages.append(msg)
        return msg

    def say(self, text: str, choices: list[Choice] | None = None) -> ChatMessage:
        self.state["choices"] = choices or []
        return self.add(Author.BOT, text, choices)

    def system(self, text: str) -> ChatMessage:
        return self.add(Author.SYSTEM, text)

    def ask(self, kind: str, message: str, choices: list[Choice] | None = None, **data: Any) -> None:
        self.state["pending"] = {"kind": kind, **data}
        self.say(message, choices)

    def clear(self) -> None:
        self.state.pop("pending", None)

    def retry(self, kind: str) -> int:
        """Count one more time the pending question was not answered; returns the count."""
        pending = self.state.get("pending") or {}
        if pending.get("kind") != kind:
            return 0
        pending["retries"] = int(pending.get("retries", 0)) + 1
        return int(pending["retries"])


def _lock(conversation: Conversation) -> Conversation:
    # ``of=("self",)``: the customer and the account are nullable (outer joins), which PostgreSQL cannot
    # lock ("FOR UPDATE cannot be applied to the nullable side of an outer join"); only the row is needed.
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("customer", "account")
        .get(pk=conversation.pk)
    )


def _finish(turn: Turn, original: Conversation) -> None:
    conv = turn.conv
    conv.last_activity_at = timezone.now()
    history.sync(conv)
    conv.save(update_fields=STATE_FIELDS)
    for name in [*STATE_FIELDS, "customer_id", "account_id", "operator_id", "appeal_id"]:
        setattr(original, name, getattr(conv, name))
    if conv.channel == Conversation.ChannelKind.MESSENGER:
        for msg in turn.messages:
            if msg.author != Author.CUSTOMER:
                _deliver(msg)


def _deliver(msg: ChatMessage) -> None:
    """Hand a messenger message to the delivery module *inside* the turn's transaction: its outbox rows
    commit (or roll back) together with the message, so a crash between the commit and the sending never
    loses an operator's answer (the retry job finds the rows); the sending itself runs after the commit.
    Only a missing transport module is tolerated (logged); a failure to queue rolls the turn back."""
    try:
        delivery = importlib.import_module("okno.assistant.dialogue.delivery")
    except ImportError:
        log.warning("chat message %s: no messenger delivery module", msg.pk)
        return
    delivery.deliver(msg)


def _language(conversation: Conversation) -> str:
    return conversation.language or settings.LANGUAGE_CODE


# --- the public API ---------------------------------------------------------------------------------


def start(
    channel: str, *, cabinet_user: Any = None, external_id: str = "", language: str = "ru"
) -> Conversation:
    """Create a conversation and the bot's greeting."""
    if channel not in Conversation.ChannelKind.values:
        raise DialogueError(f"unknown chat channel {channel!r}")
    if channel == Conversation.ChannelKind.CABINET and cabinet_user is None:
        raise DialogueError("the cabinet channel needs the cabinet user")
    with transaction.atomic(), translation.override(language or settings.LANGUAGE_CODE):
        conv = Conversation.objects.create(
            channel=channel,
            cabinet_user=cabinet_user,
            external_id=external_id[:100],
            language=language or settings.LANGUAGE_CODE,
        )
        if cabinet_user is not None:
            accounts = list(acc.cabinet_accounts(conv))
            customers = {a.customer_id for a in accounts}
            if len(customers) == 1:
                conv.customer = accounts[0].customer
            if len(accounts) == 1:
                conv.account = accounts[0]
        turn = Turn(conv)
        turn.say(_greeting(), menu())
        _finish(turn, conv)
    return conv


def respond(conversation: Conversation, text: str) -> list[ChatMessage]:
    """Store the customer's message (always) and answer it; returns the new messages in order."""
    text = storable("" if text is None else str(text))
    with transaction.atomic():
        conv = _lock(conversation)
        if conv.status == Status.CLOSED:
            raise ConversationClosed(_("The conversation is closed."))
        turn = Turn(conv)
        turn.add(Author.CUSTOMER, text)
        with translation.override(_language(conv)):
            if conv.status in (Status.WAITING, Status.OPERATOR):
                if not conv.state.get("queued_notice"):
                    conv.state["queued_notice"] = True
                    if conv.status == Status.WAITING:
                        turn.system(
                            _("Your message is passed to the operator; please wait for the answer here.")
                        )
            else:
                _dispatch(turn, text)
        _finish(turn, conversation)
    return turn.messages


def hand_off(conversation: Conversation, *, reason: str = "") -> list[ChatMessage]:
    """Pass the conversation to the staff inbox ("waiting"); the transcript stays with it."""
    with transaction.atomic():
        conv = _lock(conversation)
        if conv.status == Status.CLOSED:
            raise ConversationClosed(_("The conversation is closed."))
        turn = Turn(conv)
        with translation.override(_language(conv)):
            if conv.status == Status.BOT:
                _hand_off(turn, reason or "requested")
        _finish(turn, conversation)
    return turn.messages


def take(conversation: Conversation, operator: User) -> ChatMessage:
    """An operator takes the conversation over (waiting or still with the bot → "operator")."""
    with transaction.atomic():
        conv = _lock(conversation)
        if conv.status == Status.CLOSED:
            raise ConversationClosed(_("The conversation is closed."))
        if conv.status == Status.OPERATOR:
            if conv.operator_id != operator.pk:
                raise AlreadyTaken(_("Another operator has already taken this conversation."))
            last = conv.messages.filter(author=Author.SYSTEM).order_by("-id").first()
            if last is not None:
                return last
        turn = Turn(conv)
        with translation.override(_language(conv)):
            if conv.handed_off_at is None:
                conv.handed_off_at = timezone.now()
                conv.state.setdefault("handoff", {"reason": "taken", "summary": handoff_summary(conv)})
            conv.status = Status.OPERATOR
            conv.operator = operator
            conv.state.pop("pending", None)
            conv.state["queued_notice"] = False
            msg = turn.system(_joined_text(operator))
            history.note(conv, _("talked to operator %(name)s") % {"name": describe(operator)})
        _finish(turn, conversation)
    return msg


def operator_reply(conversation: Conversation, operator: User, text: str) -> ChatMessage:
    """An operator's message to the customer (takes the conversation first when nobody has)."""
    text = storable(text or "").strip()
    if not text:
        raise DialogueError(_("The message is empty."))
    if len(text) > MAX_TEXT * 2:
        raise DialogueError(_("The message is longer than %(n)s characters.") % {"n": MAX_TEXT * 2})
    with transaction.atomic():
        conv = _lock(conversation)
        if conv.status == Status.CLOSED:
            raise ConversationClosed(_("The conversation is closed."))
        if conv.status == Status.OPERATOR and conv.operator_id != operator.pk:
            raise AlreadyTaken(_("Another operator has already taken this conversation."))
        turn = Turn(conv)
        with translation.override(_language(conv)):
            if conv.status != Status.OPERATOR:
                if conv.handed_off_at is None:
                    conv.handed_off_at = timezone.now()
                    conv.state.setdefault("handoff", {"reason": "taken", "summary": handoff_summary(conv)})
                conv.status = Status.OPERATOR
                conv.operator = operator
                conv.state.pop("pending", None)
                turn.system(_joined_text(operator))
                history.note(conv, _("talked to operator %(name)s") % {"name": describe(operator)})
            msg = turn.add(Author.OPERATOR, text, operator=operator)
        _finish(turn, conversation)
    return msg


def close(conversation: Conversation, *, by: User | None = None, reason: str = "") -> ChatMessage:
    """Close the conversation (an operator, the customer, or the idle job); closing twice returns the
    closing message again."""
    with transaction.atomic():
        conv = _lock(conversation)
        if conv.status == Status.CLOSED:
            last = conv.messages.order_by("-id").first()
            if last is not None:
                return last
        turn = Turn(conv)
        with translation.override(_language(conv)):
            idle_limit = _idle_limit(conv.status)
            conv.status = Status.CLOSED
            conv.closed_at = timezone.now()
            conv.state.pop("pending", None)
            if by is not None:
                text = _closed_by_text(by)
            elif reason == "idle":
                text = _(
                    "The conversation is closed because there were no messages for %(minutes)s min. "
                    "Start a new one whenever you need."
                ) % {"minutes": idle_limit}
            else:
                text = _("The conversation is closed. Thank you for contacting us!")
            msg = turn.system(text)
            last_activity = conv.last_activity_at
        _finish(turn, conversation)
        if reason == "idle":
            # Closing for idleness is not activity: keep the time of the last real message.
            Conversation.objects.filter(pk=conv.pk).update(last_activity_at=last_activity)
            conversation.last_activity_at = last_activity
    return msg


def messages_after(conversation: Conversation, after_id: int = 0) -> list[ChatMessage]:
    return list(conversation.messages.filter(id__gt=after_id).order_by("id"))


def close_idle(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Close the conversations with the bot without a message for more than ``OKNO_CHAT_IDLE_MINUTES``,
    and those handed to the staff (waiting, with an operator) after ``OKNO_CHAT_HANDOFF_IDLE_MINUTES``
    (default a day): an operator's conversation is the operator's to close."""
    now = now or timezone.now()

    def cutoff(status: str) -> dt.datetime:
        return now - dt.timedelta(minutes=_idle_limit(status))

    ids = list(
        Conversation.objects.filter(
            Q(status=Status.BOT, last_activity_at__lt=cutoff(Status.BOT))
            | Q(
                status__in=[Status.WAITING, Status.OPERATOR],
                last_activity_at__lt=cutoff(Status.OPERATOR),
            )
        )
        .order_by("last_activity_at")
        .values_list("pk", flat=True)[:limit]
    )
    closed = 0
    for pk in ids:
        with transaction.atomic():
            conv = Conversation.objects.select_for_update().filter(pk=pk).first()
            if conv is None or conv.status == Status.CLOSED or conv.last_activity_at >= cutoff(conv.status):
                continue  # a message arrived meanwhile, or it was handed off
            close(conv, reason="idle")
            closed += 1
    return closed


def handoff_summary(conversation: Conversation) -> str:
    """A few lines for the operator: who, which account, what was done, the last question."""
    parts = []
    if conversation.customer is not None:
        parts.append(_("Customer: %(name)s.") % {"name": str(conversation.customer)})
    else:
        parts.append(_("Customer: not identified."))
    if conversation.account is not None:
        parts.append(_("Account: %(number)s.") % {"number": conversation.account.number})
    done = conversation.state.get("done", [])
    if done:
        parts.append(_("Done in the chat: %(done)s.") % {"done": "; ".join(done)})
    last = (
        conversation.messages.filter(author=Author.CUSTOMER)
        .exclude(text="")
        .order_by("-id")
        .values_list("text", flat=True)
        .first()
        if conversation.pk
        else None
    )
    if last:
        parts.append(_("Last message: «%(text)s».") % {"text": last[:200]})
    return " ".join(parts)[:1000]


# --- helpers ---------------------------------------------------------------------------------------


def _joined_text(user: User) -> str:
    """What the customer reads when an operator joins: the first name only — never the staff login or the
    full name (``describe`` falls back to the username, which must not reach the public)."""
    if user.first_name:
        return _("Operator %(name)s has joined the conversation.") % {"name": user.first_name}
    return _("An operator has joined the conversation.")


def _closed_by_text(user: User) -> str:
    if user.first_name:
        return _("Operator %(name)s has closed the conversation. Thank you for contacting us!") % {
            "name": user.first_name
        }
    return _("The operator has closed the conversation. Thank you for contacting us!")


def _greeting() -> str:
    from okno.org.models import Company

    company = Company.objects.order_by("pk").first()
    name = (company.short_name or company.name) if company is not None else ""
    intro = (
        _("Hello! I am the virtual assistant of %(company)s.") % {"company": name}
        if name
        else _("Hello! I am the virtual assistant.")
    )
    return " ".join(
        [
            intro,
            _(
                "I can tell whether there is power at an address, take meter readings, tell your balance and "
                "the date to pay by, tell the status of an appeal by its number, answer common questions, "
                "register an appeal or connect you to an operator. What would you like?"
            ),
        ]
    )


def _hand_off(turn: Turn, reason: str) -> None:
    conv = turn.conv
    turn.clear()
    conv.status = Status.WAITING
    conv.handed_off_at = timezone.now()
    conv.state["queued_notice"] = False
    history.note(conv, _("passed to an operator"))
    conv.state["handoff"] = {
        "reason": reason,
        "summary": handoff_summary(conv),
        "at": conv.handed_off_at.isoformat(),
    }
    turn.state["choices"] = []
    turn.system(
        _(
            "I am passing the conversation to an operator. Please stay in this chat: the operator will answer "
            "here, usually within a few minutes during working hours. The whole conversation is passed on, so "
            "there is no need to repeat anything."
        )
    )


YES = frozenset(
    {
        "да",
        "ага",
        "верно",
        "конечно",
        "давай",
        "давайте",
        "yes",
        "y",
        "ok",
        "ок",
        "хорошо",
        "зарегистрировать",
        "зарегистрируйте",
        "подтверждаю",
    }
)
NO = frozenset({"нет", "не", "no", "n", "неверно", "не надо"})
CHOICE_PENDING = {"address_choice", "account_choice", "meter_choice", "faq_feedback", "register_confirm"}


def _choice_value(turn: Turn, text: str) -> str:
    """The value of a button pressed (or its label typed, or its number for a pending choice)."""
    offered = turn.state.get("choices") or []
    stripped = text.strip()
    values = {c.get("value") for c in offered}
    if stripped in values or stripped in {"operator", "cancel"} or stripped.startswith("intent:"):
        return stripped
    folded = stripped.lower().rstrip(".!")
    for c in offered:
        if str(c.get("label", "")).lower() == folded:
            return str(c.get("value", ""))
    pending = turn.state.get("pending") or {}
    if pending.get("kind") in CHOICE_PENDING and stripped.isdigit() and 1 <= int(stripped) <= len(offered):
        return str(offered[int(stripped) - 1].get("value", ""))
    return ""


def _dispatch(turn: Turn, raw: str) -> None:
    text = raw.strip()
    if not text:
        turn.say(please_describe(), menu())
        return
    if len(raw) > MAX_TEXT:
        turn.say(
            _(
                "Your message is too long (%(length)s characters). Please describe your question briefly, in "
                "up to %(max)s characters."
            )
            % {"length": len(raw), "max": MAX_TEXT},
            menu(),
        )
        return
    value = _choice_value(turn, text)
    if value == "cancel" or (not value and intents.is_cancel(text)):
        had = bool(turn.state.get("pending"))
        turn.clear()
        turn.state.pop("draft", None)
        turn.say(_("Cancelled. What else can I help with?") if had else _("What can I help with?"), menu())
        return
    if value == "operator" or (not value and intents.wants_operator(text)):
        _hand_off(turn, "customer asked")
        return
    if value.startswith("intent:"):
        turn.clear()
        _start_intent(turn, value.split(":", 1)[1], "")
        return
    pending = turn.state.get("pending")
    if pending:
        handler = PENDING.get(str(pending.get("kind")))
        if handler is not None and handler(turn, text, value, pending):
            return
        turn.clear()
    if value:
        turn.say(_("This choice is no longer available. What can I help with?"), menu())
        return
    if _not_russian(turn, text):
        turn.say(
            _("Please describe your question in Russian: for example «is there power at Lenina 15»."),
            menu(),
        )
        return
    place = outage.place_in(text) if _may_hold_address(text) else None
    hit = faq.best(text, language=_language(turn.conv)) if not intents.appeal_number(text) else None
    intent = intents.detect(
        text, has_address=bool(place and (place.address_id or place.options)), faq_hit=hit
    )
    _start_intent(turn, intent.name, text, place=place, data=intent.data)


def _not_russian(turn: Turn, text: str) -> bool:
    if _language(turn.conv).startswith("en"):
        return False
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(1 for ch in letters if "a" <= ch.lower() <= "z")
    cyrillic = sum(1 for ch in letters if "а" <= ch.lower() <= "я" or ch in "ёЁ")
    return latin >= 3 and latin > cyrillic


def _may_hold_address(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _start_intent(
    turn: Turn, name: str, text: str, *, place: Any = None, data: dict[str, Any] | None = None
) -> None:
    data = data or {}
    if name == "outage":
        _outage(turn, text, place)
    elif name in ("balance", "reading"):
        _with_account(turn, name, text)
    elif name == "appeal_status":
        number = data.get("number") or intents.appeal_number(text)
        if number:
            _appeal_status(turn, number)
        else:
            turn.ask(
                "appeal_number",
                _("Please write the appeal's registration number, for example «2026-000123»."),
            )
    elif name == "faq":
        _faq_answer(turn, data["hit"], text)
    elif name == "register":
        _register_start(turn, text)
    elif name == "greeting":
        turn.say(_("Hello! What can I help with?"), menu())
    elif name == "thanks":
        turn.say(_("You are welcome! Anything else I can help with?"), menu())
    elif name == "bye":
        turn.say(_("Goodbye! Write whenever you need."))
    else:
        _fallback(turn, text)


# --- outage -------------------------------------------------------------------------------------------


def _outage(turn: Turn, text: str, place: Any = None) -> None:
    if place is None and text and _may_hold_address(text):
        place = outage.place_in(text)
    if place is not None and place.address_id:
        _outage_answer(turn, place.address_id)
        return
    if place is not None and place.options:
        turn.ask(
            "address_choice",
            _("I found several addresses like this. Which one do you mean?"),
            outage.options_choices(place.options),
            options=[pk for pk, _label in place.options[: outage.MAX_CHOICES]],
        )
        return
    mentioned = place is not None and place.mentioned
    if not mentioned:
        own = _own_account(turn)
        if own is not None:
            _outage_answer(turn, outage.account_address_id(own))
            return
        if turn.conv.channel == Conversation.ChannelKind.CABINET:
            accounts = list(acc.cabinet_accounts(turn.conv))
            if len(accounts) > 1:
                turn.ask(
                    "account_choice",
                    _("Which address? Choose an account or write the address."),
                    _account_choices(accounts),
                    after="outage",
                    text="",
                )
                return
    if mentioned:
        turn.ask(
            "address_text",
            _(
                "I did not find the address «%(address)s» in our records. Please write the settlement, street and "
                "house, for example «Seversk, Lenina street 15»."
            )
            % {"address": place.typed},
        )
    else:
        turn.ask(
            "address_text",
            _(
                "Please write the address: settlement, street and house, for example «Seversk, Lenina street 15»."
            ),
        )


def _outage_answer(turn: Turn, address_id: int) -> None:
    turn.clear()
    text, power_on = outage.answer_for_address(address_id)
    from okno.customers.models import Address

    row = Address.objects.filter(pk=address_id).first()
    label = outage.spoken_address(row) if row is not None else str(address_id)
    if power_on is False:
        history.note(turn.conv, _("asked about power at %(address)s: off") % {"address": label})
    else:
        history.note(turn.conv, _("asked about power at %(address)s") % {"address": label})
    choices = [choice(_("Another address"), "intent:outage")]
    if power_on is not False:
        choices.append(choice(_("I have no power: register an appeal"), "intent:register"))
        turn.state["unanswered"] = _("No power at %(address)s.") % {"address": label}
    choices.append(choice(_("Talk to an operator"), "operator"))
    turn.say(text, choices)


def _pending_address_choice(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if value.startswith("addr:"):
        try:
            pk = int(value.split(":", 1)[1])
        except ValueError:
            pk = 0
        if pk in pending.get("options", []):
            _outage_answer(turn, pk)
            return True
        return False
    if _may_hold_address(text):
        place = outage.place_in(text)
        if place.address_id or place.options or place.mentioned:
            _outage(turn, text, place)
            return True
    return False


def _pending_address_text(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if value:
        return False
    place = outage.place_in(text) if _may_hold_address(text) else None
    if place is not None and (place.address_id or place.options):
        _outage(turn, text, place)
        return True
    if not _may_hold_address(text) and intents.detect(text, has_address=False).name not in (
        "unknown",
        "outage",
    ):
        return False  # something else entirely
    if turn.retry("address_text") > MAX_RETRIES:
        turn.clear()
        turn.say(
            _("I still cannot find this address. An operator can help, or I can register an appeal."),
            [
                choice(_("Talk to an operator"), "operator"),
                choice(_("Register an appeal"), "intent:register"),
            ],
        )
        return True
    typed = place.typed if place is not None and place.typed else text[:100]
    turn.say(
        _(
            "I did not find the address «%(address)s» in our records. Please write the settlement, street and "
            "house, for example «Seversk, Lenina street 15»."
        )
        % {"address": typed}
    )
    return True


# --- the account: identification, balance, readings -------------------------------------------------


def _own_account(turn: Turn) -> Account | None:
    conv = turn.conv
    if conv.account is not None:
        return conv.account
    return None


def _account_choices(accounts: list[Account]) -> list[Choice]:
    return [
        choice(f"{a.number}, {outage.spoken_address(a.service_point.address)}", f"acc:{a.pk}")
        for a in accounts[: outage.MAX_CHOICES]
    ]


def _set_account(turn: Turn, account: Account) -> None:
    conv = turn.conv
    conv.account = account
    conv.customer = account.customer
    history.sync(conv)


def _with_account(turn: Turn, purpose: str, text: str) -> None:
    conv = turn.conv
    if conv.channel == Conversation.ChannelKind.CABINET:
        accounts = list(acc.cabinet_accounts(conv))
        if conv.account is not None and any(a.pk == conv.account_id for a in accounts):
            _continue(turn, purpose, conv.account, text)
            return
        if len(accounts) == 1:
            _set_account(turn, accounts[0])
            _continue(turn, purpose, accounts[0], text)
            return
        if not accounts:
            turn.say(
                _("There is no account in your cabinet yet. Link one on the «Accounts» page first."),
                menu(),
            )
            return
        turn.ask("account_choice", _("Which account?"), _account_choices(accounts), after=purpose, text=text)
        return
    if conv.account is not None:
        _continue(turn, purpose, conv.account, text)
        return
    number, rest = acc.split_proof(text)
    if number and rest:
        _identify(turn, purpose, number, rest, text="")
    elif number:
        turn.ask(
            "ident_check",
            _(
                "Now please write the check value: the amount to pay on your last bill (or your meter's serial "
                "number if you have had no bill yet)."
            ),
            after=purpose,
            number=number,
        )
    else:
        turn.ask("ident_number", acc.ask_proof_text(), after=purpose, text=text)


def _identify(turn: Turn, purpose: str, number: str, check_value: str, text: str) -> None:
    account, wait = acc.identify(turn.conv, number, check_value)
    if wait:
        turn.clear()
        turn.say(acc.throttled_text(wait), [choice(_("Talk to an operator"), "operator")])
        return
    if account is None:
        failures = int(turn.state.get("ident_failures", 0)) + 1
        turn.state["ident_failures"] = failures
        if failures > MAX_RETRIES:
            turn.clear()
            turn.say(acc.failed_text(), [choice(_("Talk to an operator"), "operator")])
            return
        turn.state["pending"] = {"kind": "ident_number", "after": purpose, "text": text}
        turn.say(acc.failed_text())
        return
    turn.clear()
    _set_account(turn, account)
    history.note(turn.conv, _("account %(number)s confirmed") % {"number": account.number})
    turn.say(_("Thank you, account %(number)s is confirmed.") % {"number": account.number})
    _continue(turn, purpose, account, text)


def _continue(turn: Turn, purpose: str, account: Account, text: str) -> None:
    if purpose == "balance":
        history.note(turn.conv, _("balance of account %(number)s") % {"number": account.number})
        turn.say(
            acc.balance_text(account),
            [
                choice(_("Hand in meter readings"), "intent:reading"),
                choice(_("Register an appeal"), "intent:register"),
                choice(_("Talk to an operator"), "operator"),
            ],
        )
    elif purpose == "reading":
        _reading_start(turn, account, text)
    elif purpose == "outage":
        _outage_answer(turn, outage.account_address_id(account))


def _pending_account_choice(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if not value.startswith("acc:"):
        if pending.get("after") == "outage" and _may_hold_address(text):
            turn.clear()
            _outage(turn, text)
            return True
        return False
    try:
        pk = int(value.split(":", 1)[1])
    except ValueError:
        return False
    account = acc.cabinet_accounts(turn.conv).filter(pk=pk).first()
    if account is None:
        return False
    turn.clear()
    _set_account(turn, account)
    _continue(turn, str(pending.get("after", "")), account, str(pending.get("text", "")))
    return True


def _pending_ident_number(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if value:
        return False
    number, rest = acc.split_proof(text)
    purpose = str(pending.get("after", "balance"))
    if number and rest:
        _identify(turn, purpose, number, rest, str(pending.get("text", "")))
        return True
    if number:
        turn.state["pending"] = {**pending, "kind": "ident_check", "number": number}
        turn.say(
            _(
                "Now please write the check value: the amount to pay on your last bill (or your meter's serial "
                "number if you have had no bill yet)."
            )
        )
        return True
    if not any(ch.isdigit() for ch in text):
        return False
    turn.say(acc.ask_proof_text())
    return True


def _pending_ident_check(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if value:
        return False
    if not any(ch.isalnum() for ch in text):
        return False
    _identify(
        turn,
        str(pending.get("after", "balance")),
        str(pending.get("number", "")),
        text,
        str(pending.get("text", "")),
    )
    return True


def _reading_start(turn: Turn, account: Account, text: str) -> None:
    meters = acc.meters(account)
    if not meters:
        turn.say(
            _("Account %(number)s has no meter in service, so readings cannot be taken.")
            % {"number": account.number},
            menu(),
        )
        return
    if len(meters) > 1:
        turn.ask(
            "meter_choice",
            _("Which meter?"),
            [
                choice(_("Meter %(serial)s") % {"serial": m.serial}, f"meter:{m.pk}")
                for m in meters[: outage.MAX_CHOICES]
            ],
            options=[m.pk for m in meters[: outage.MAX_CHOICES]],
        )
        return
    meter = meters[0]
    if text and _has_reading(text):
        values, why = acc.reading_values(text, meter.zones)
        if values is not None:
            _submit_reading(turn, account, meter.pk, values)
            return
    turn.ask("reading_values", acc.meter_prompt(meter), meter=meter.pk)


def _has_reading(text: str) -> bool:
    from okno.assistant.extract import extract

    return bool(extract(text, resolve_addresses=False).readings)


def _submit_reading(turn: Turn, account: Account, meter_id: int, values: list[Any]) -> None:
    from okno.billing.models import Meter

    meter = Meter.objects.get(pk=meter_id)
    ok, message = acc.submit(turn.conv, account, meter, values, appeals.actor_for(turn.conv))
    if ok:
        turn.clear()
        history.note(turn.conv, _("reading of meter %(serial)s handed in") % {"serial": meter.serial})
        turn.say(
            message,
            [
                choice(_("Balance and due date"), "intent:balance"),
                choice(_("Talk to an operator"), "operator"),
            ],
        )
    else:
        history.note(turn.conv, _("reading of meter %(serial)s refused") % {"serial": meter.serial})
        turn.state["pending"] = {"kind": "reading_values", "meter": meter.pk}
        turn.say(
            message + " " + _("You can write the reading again or talk to an operator."),
            [choice(_("Talk to an operator"), "operator")],
        )


def _pending_meter_choice(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if not value.startswith("meter:"):
        return False
    try:
        pk = int(value.split(":", 1)[1])
    except ValueError:
        return False
    if pk not in pending.get("options", []) or turn.conv.account is None:
        return False
    from okno.billing.models import Meter

    meter = Meter.objects.get(pk=pk)
    turn.ask("reading_values", acc.meter_prompt(meter), meter=meter.pk)
    return True


def _pending_reading_values(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    from okno.billing.models import Meter

    if value or not any(ch.isdigit() for ch in text) or turn.conv.account is None:
        return False
    if intents.appeal_number(text):
        return False
    meter = Meter.objects.filter(pk=int(pending.get("meter") or 0), account=turn.conv.account).first()
    if meter is None:
        return False
    values, why = acc.reading_values(text, meter.zones)
    if values is None:
        turn.say(why)
        return True
    _submit_reading(turn, turn.conv.account, meter.pk, values)
    return True


# --- appeals --------------------------------------------------------------------------------------------


def _appeal_status(turn: Turn, number: str) -> None:
    turn.clear()
    history.note(turn.conv, _("status of appeal %(number)s") % {"number": number})
    choices = [choice(_("Talk to an operator"), "operator")]
    if turn.conv.customer_id is None and turn.conv.channel != Conversation.ChannelKind.CABINET:
        choices.insert(0, choice(_("Balance and due date"), "intent:balance"))
    turn.say(appeals.status_text(turn.conv, number), choices)


def _pending_appeal_number(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if value:
        return False
    number = intents.appeal_number(text)
    if number:
        _appeal_status(turn, number)
        return True
    if any(ch.isdigit() for ch in text):
        turn.say(_("The registration number looks like «2026-000123»: the year, a dash and six digits."))
        return True
    return False


def _register_start(turn: Turn, text: str) -> None:
    draft = ""
    if text and len(intents.words(text)) >= 8:
        draft = text.strip()
    elif turn.state.get("unanswered"):
        draft = str(turn.state["unanswered"])
    turn.state.pop("unanswered", None)
    if draft:
        _register_confirm(turn, draft)
    else:
        turn.ask(
            "register_text",
            _(
                "Please describe your question or problem in one message: what happened, where and since when."
            ),
        )


def _register_confirm(turn: Turn, draft: str) -> None:
    turn.state["draft"] = {"text": draft[:MAX_TEXT]}
    turn.ask(
        "register_confirm",
        _("I will register an appeal with this text: «%(text)s». Is that right?")
        % {"text": draft[:MAX_TEXT]},
        [
            choice(_("Yes, register"), "yes"),
            choice(_("Change the text"), "edit"),
            choice(_("Cancel"), "cancel"),
        ],
    )


def _pending_register_text(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if value:
        return False
    from okno.assistant import nlu

    if nlu.usable(text) is not None or len(intents.words(text)) < 2:
        turn.say(please_describe())
        return True
    _register_confirm(turn, text)
    return True


def _yes_no(text: str, value: str) -> str:
    if value in ("yes", "no", "edit"):
        return value
    low = text.strip().lower().rstrip(".!")
    if low in YES:
        return "yes"
    if low in NO:
        return "no"
    return ""


def _pending_register_confirm(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    answer = _yes_no(text, value)
    if answer == "edit":
        turn.ask("register_text", _("Please write the new text of the appeal."))
        return True
    if answer == "no":
        turn.clear()
        turn.state.pop("draft", None)
        turn.say(_("The appeal is not registered. What else can I help with?"), menu())
        return True
    if answer != "yes":
        if len(intents.words(text)) >= 3:
            _register_confirm(turn, text)  # a corrected text
            return True
        return False
    _register_contact_step(turn)
    return True


def _known_contact(conv: Conversation) -> bool:
    if conv.customer is not None:
        return True
    return conv.cabinet_user is not None


def _register_contact_step(turn: Turn) -> None:
    conv = turn.conv
    draft = turn.state.get("draft") or {}
    if _known_contact(conv):
        phone = email = ""
        name = ""
        if conv.customer is None and conv.cabinet_user is not None:
            email, phone, name = conv.cabinet_user.email, conv.cabinet_user.phone, conv.cabinet_user.name
        _register_now(turn, name or _("Cabinet user"), phone, email)
        return
    if not draft.get("name"):
        turn.ask("register_name", _("How should we address you? Please write your name."))
        return
    turn.ask("register_contact", _("Please write a phone number or an e-mail address for the answer."))


def _pending_register_name(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if value:
        return False
    name = " ".join(text.split())[:200]
    if sum(ch.isalpha() for ch in name) < 2:
        turn.say(_("Please write your name."))
        return True
    turn.state.setdefault("draft", {})["name"] = name
    turn.ask("register_contact", _("Please write a phone number or an e-mail address for the answer."))
    return True


def _pending_register_contact(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    if value:
        return False
    phone, email = appeals.parse_contact(text)
    if not (phone or email):
        if turn.retry("register_contact") > MAX_RETRIES:
            turn.clear()
            turn.say(
                _("Without a phone or an e-mail we cannot send the answer. An operator can help."),
                [choice(_("Talk to an operator"), "operator")],
            )
            return True
        turn.say(
            _(
                "I did not recognise a phone number or an e-mail. Please write, for example, «+7 912 345-67-89» or «name@example.ru»."
            )
        )
        return True
    draft = turn.state.get("draft") or {}
    _register_now(turn, str(draft.get("name", "")), phone, email)
    return True


def _register_now(turn: Turn, name: str, phone: str, email: str) -> None:
    conv = turn.conv
    draft = turn.state.get("draft") or {}
    text = str(draft.get("text", "")).strip()
    if not text:
        turn.ask(
            "register_text",
            _(
                "Please describe your question or problem in one message: what happened, where and since when."
            ),
        )
        return
    try:
        with transaction.atomic():
            appeal = appeals.register(conv, text=text, name=name, phone=phone, email=email)
    except ValidationError as exc:
        turn.clear()
        turn.say(
            _("The appeal could not be registered: %(errors)s") % {"errors": appeals.errors_text(exc)},
            [choice(_("Talk to an operator"), "operator")],
        )
        return
    turn.clear()
    turn.state.pop("draft", None)
    conv.appeal = appeal
    if conv.customer is None and appeal.customer_id is not None:
        conv.customer = appeal.customer
    history.note(conv, _("appeal %(number)s registered") % {"number": appeal.number})
    turn.say(appeals.registered_text(appeal), menu())


# --- FAQ and the rest ------------------------------------------------------------------------------------


def _faq_answer(turn: Turn, hit: faq.Hit, text: str) -> None:
    from okno.content import markup

    entry = hit.entry
    with translation.override(_language(turn.conv)):
        question, answer = entry.tr("question"), markup.plain(entry.tr("answer"))
    history.note(turn.conv, _("FAQ: %(question)s") % {"question": question[:80]})
    turn.ask(
        "faq_feedback",
        f"{question}\n{answer.strip()}\n\n" + _("Did this help?"),
        [choice(_("Yes, thank you"), "faq:yes"), choice(_("No"), "faq:no")],
        question=text[:MAX_TEXT],
    )


def _pending_faq_feedback(turn: Turn, text: str, value: str, pending: dict[str, Any]) -> bool:
    answer = value or {"yes": "faq:yes", "no": "faq:no"}.get(_yes_no(text, ""), "")
    if answer == "faq:yes":
        turn.clear()
        turn.say(_("Glad to help! Anything else?"), menu())
        return True
    if answer == "faq:no":
        turn.clear()
        turn.state["unanswered"] = pending.get("question", "")
        turn.say(
            _("Sorry about that. I can register your question as an appeal, or connect you to an operator."),
            [
                choice(_("Register an appeal"), "intent:register"),
                choice(_("Talk to an operator"), "operator"),
            ],
        )
        return True
    return False


def _fallback(turn: Turn, text: str) -> None:
    from okno.assistant import nlu

    if nlu.usable(text) is not None or len([w for w in intents.words(text) if w not in faq.STOP]) < 2:
        turn.say(please_describe(), menu())
        return
    turn.state["unanswered"] = text
    topic, confidence = "", 0.0
    try:
        result = nlu.classify(text)
        topic, confidence = result.topic, result.topic_confidence
    except Exception:  # noqa: BLE001 — no model: the generic offer below
        log.info("assistant chat: classifier unavailable", exc_info=True)
    if topic == "outage" and confidence >= 0.6:
        _outage(turn, text)
        return
    offers = [
        choice(_("Register an appeal"), "intent:register"),
        choice(_("Talk to an operator"), "operator"),
    ]
    if topic == "billing" and confidence >= 0.5:
        turn.say(
            _(
                "Is this about your bill? I can tell your balance and the date to pay by, register an appeal or connect you to an operator."
            ),
            [choice(_("Balance and due date"), "intent:balance"), *offers],
        )
        return
    if topic == "metering" and confidence >= 0.5:
        turn.say(
            _(
                "Is this about your meter? I can take the readings, register an appeal or connect you to an operator."
            ),
            [choice(_("Hand in meter readings"), "intent:reading"), *offers],
        )
        return
    turn.say(
        _(
            "I have no ready answer to this. I can register your message as an appeal (a specialist will answer "
            "within the legal time limit) or connect you to an operator."
        ),
        offers,
    )


PENDING: dict[str, Callable[[Turn, str, str, dict[str, Any]], bool]] = {
    "address_choice": _pending_address_choice,
    "address_text": _pending_address_text,
    "account_choice": _pending_account_choice,
    "ident_number": _pending_ident_number,
    "ident_check": _pending_ident_check,
    "meter_choice": _pending_meter_choice,
    "reading_values": _pending_reading_values,
    "appeal_number": _pending_appeal_number,
    "register_text": _pending_register_text,
    "register_confirm": _pending_register_confirm,
    "register_name": _pending_register_name,
    "register_contact": _pending_register_contact,
    "faq_feedback": _pending_faq_feedback,
}


__all__ = [
    "AlreadyTaken",
    "ConversationClosed",
    "DialogueError",
    "close",
    "close_idle",
    "hand_off",
    "handoff_summary",
    "messages_after",
    "operator_reply",
    "respond",
    "start",
    "take",
]
