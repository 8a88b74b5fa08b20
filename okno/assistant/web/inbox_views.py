"""The staff inbox of chats, ``/assistant/chats/`` (permission ``call.handle``).

The list shows the conversations waiting for an operator (longest waiting first, with how long) and the
operator's own; a conversation's page shows the transcript, the customer's card link when the customer
is known, and the actions: take (waiting → operator), answer (the operator who took it), close. Every
action goes through :mod:`okno.assistant.dialogue.engine`. Both pages refresh themselves every few
seconds with a small script (a fragment of the same page); without JavaScript a Refresh link does it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from okno.assistant.dialogue import engine
from okno.assistant.messenger.outbox import undelivered
from okno.assistant.models import ChatMessage, Conversation
from okno.assistant.web import chat
from okno.assistant.web.forms import ReplyForm
from okno.core.audit import log_access
from okno.core.errors import Conflict
from okno.org.api.permissions import client_ip

PERM = "call.handle"
SUPERVISE = "call.supervise"
#: Conversations shown per table.
ROWS = 100


def _may_close(request: HttpRequest, conversation: Conversation) -> bool:
    """Open conversations close by any operator; one an operator holds only by that operator or a
    supervisor (another operator cannot end a colleague's conversation under their feet)."""
    if conversation.status == Conversation.Status.CLOSED:
        return False
    if conversation.status != Conversation.Status.OPERATOR or conversation.operator_id == request.user.pk:
        return True
    return bool(request.user.has_okno_perm(SUPERVISE))  # type: ignore[union-attr]


def _require(request: HttpRequest) -> None:
    if not request.user.has_okno_perm(PERM):  # type: ignore[union-attr]
        raise PermissionDenied


def waiting_count() -> int:
    return Conversation.objects.filter(status=Conversation.Status.WAITING).count()


def _rows(qs: Any) -> list[Conversation]:
    return list(
        qs.select_related("customer", "account", "operator").annotate(
            n_messages=Count("messages"),
            last_customer_id=Max("messages__id", filter=Q(messages__author=ChatMessage.Author.CUSTOMER)),
        )[:ROWS]
    )


def _with_last_text(rows: list[Conversation]) -> list[Conversation]:
    ids = [getattr(r, "last_customer_id", None) for r in rows]
    texts = dict(ChatMessage.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "text"))
    for row, message_id in zip(rows, ids, strict=True):
        row.last_text = texts.get(message_id or 0, "")  # type: ignore[attr-defined]
    return rows


def _lists(request: HttpRequest) -> dict[str, Any]:
    me = request.user.pk
    base = Conversation.objects.all()
    waiting = _with_last_text(
        _rows(base.filter(status=Conversation.Status.WAITING).order_by("handed_off_at", "id"))
    )
    mine = _with_last_text(
        _rows(base.filter(status=Conversation.Status.OPERATOR, operator_id=me).order_by("-last_activity_at"))
    )
    others = _rows(
        base.filter(status=Conversation.Status.OPERATOR).exclude(operator_id=me).order_by("-last_activity_at")
    )
    return {"waiting": waiting, "mine": mine, "others": others, "now": timezone.now(), "poll_s": chat.POLL_S}


@never_cache
@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    _require(request)
    context = _lists(request)
    if request.GET.get("fragment"):
        return render(request, "assistant/inbox_lists.html", context)
    return render(request, "assistant/inbox.html", context)


def _conversation_context(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    status = conversation.status
    mine = status == Conversation.Status.OPERATOR and conversation.operator_id == request.user.pk
    items = list(conversation.messages.select_related("operator"))
    labels = chat.chosen_labels(items)
    failed = undelivered(conversation) if conversation.channel == Conversation.ChannelKind.MESSENGER else {}
    return {
        "conversation": conversation,
        "chat_rows": [(m, failed.get(m.pk, ""), labels.get(m.pk, "")) for m in items],
        "can_take": status in (Conversation.Status.WAITING, Conversation.Status.BOT),
        "can_reply": mine,
        "can_close": _may_close(request, conversation),
        "reply_form": ReplyForm(),
        "now": timezone.now(),
        "poll_s": chat.POLL_S,
        "show_card": conversation.customer_id is not None and request.user.has_okno_perm("customer.view"),  # type: ignore[union-attr]
    }


@never_cache
@login_required
@require_safe
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    item = get_object_or_404(
        Conversation.objects.select_related("customer", "account", "operator", "appeal", "cabinet_user"),
        pk=pk,
    )
    context = _conversation_context(request, item)
    if request.GET.get("fragment"):
        return render(request, "assistant/inbox_transcript.html", context)
    if item.customer_id:
        log_access(
            actor=request.user,
            customer_id=item.customer_id,
            context_name="assistant:chat",
            remote_addr=client_ip(request),
        )
    return render(request, "assistant/inbox_conversation.html", context)


def _act(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    _require(request)
    item = get_object_or_404(Conversation, pk=pk)
    try:
        if what == "take":
            engine.take(item, request.user)  # type: ignore[arg-type]
            flash.success(request, _("You have taken the conversation."))
        elif what == "reply":
            form = ReplyForm(request.POST)
            if not form.is_valid():
                for error in form.errors.get("text", []):
                    flash.error(request, str(error))
                return redirect("chat:inbox_conversation", pk=pk)
            item.refresh_from_db()
            if item.status != Conversation.Status.OPERATOR or item.operator_id != request.user.pk:
                flash.error(request, _("Take the conversation first: only its operator answers."))
                return redirect("chat:inbox_conversation", pk=pk)
            engine.operator_reply(item, request.user, form.cleaned_data["text"])  # type: ignore[arg-type]
        elif what == "close":
            if item.status != Conversation.Status.CLOSED and not _may_close(request, item):
                flash.error(request, _("Another operator has taken this conversation: only they close it."))
                return redirect("chat:inbox_conversation", pk=pk)
            engine.close(item, by=request.user)  # type: ignore[arg-type]
            flash.success(request, _("The conversation is closed."))
    except engine.DialogueError as exc:  # closed meanwhile, taken by someone else, an empty answer
        flash.error(request, str(exc))
    except Conflict as exc:
        flash.error(request, str(exc.message))
    except ValidationError as exc:
        for text in exc.messages:
            flash.error(request, str(text))
    return redirect(reverse("chat:inbox_conversation", kwargs={"pk": pk}) + "#chat-end")


@login_required
@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "take")


@login_required
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "reply")


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "close")
