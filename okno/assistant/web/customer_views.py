"""The customer's chat pages: ``/chat/`` on the public site and ``/cabinet/chat/`` in the personal cabinet.

Both work without JavaScript: the message form posts, the view hands the text to
:func:`engine.respond` and redirects back to the page, which renders the transcript on the server
(choices as submit buttons of the same form). The site chat keeps its conversation's ``public_id`` in
the Django session; the cabinet's conversations belong to the signed-in cabinet user and are addressed
by ``public_id`` in the URL (another user's id answers 404, as an unknown one does).

With JavaScript (``static/assistant/chat.js``) the same form sends through ``fetch`` — the site chat to
the chat API, the cabinet chat to ``/cabinet/chat/<id>/`` asking for JSON — appends the answers and polls
for an operator's answers while the conversation waits for or talks with an operator.

Anti-abuse as on the reception's forms: a honeypot field (a filled one pretends success and saves
nothing) and per-IP limits of messages and of new conversations (429 with a message).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from okno.assistant.dialogue import engine
from okno.assistant.models import Conversation
from okno.assistant.web import chat
from okno.assistant.web.forms import MAX_INPUT, MessageForm
from okno.portal import abuse
from okno.portal.cabinet.session import cabinet_required, current_user

SESSION_KEY = "assistant_chat"
SITE = Conversation.ChannelKind.CHAT
CABINET = Conversation.ChannelKind.CABINET


def _wants_json(request: HttpRequest) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "") or request.content_type == "application/json"
    )


def _throttled(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    text = _("Too many messages from your address. Please wait a little and try again.")
    if _wants_json(request):
        return JsonResponse({"detail": text}, status=429)
    return render(request, template, {**context, "error": text}, status=429)


def _read_text(request: HttpRequest) -> tuple[str | None, str]:
    """The text of a form post or a JSON body, and an error message when it is not acceptable."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None, _("The request is not valid JSON.")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            return None, _("Write a message.")
        if len(text) > MAX_INPUT:
            return None, _("The message is too long: at most {limit} characters.").format(limit=MAX_INPUT)
        return text, ""
    form = MessageForm(request.POST)
    if not form.is_valid():
        return None, " ".join(str(e) for e in form.errors.get("text", [])) or _("Write a message.")
    return form.cleaned_data["text"], ""


def _urls(conversation: Conversation | None) -> dict[str, str]:
    """Where the page's forms post and where its script sends and polls."""
    if conversation is None or conversation.channel == SITE:
        urls = {"post_url": reverse("chat:site"), "new_url": reverse("chat:site_new")}
        if conversation is not None:
            api = reverse("api:chat-messages", kwargs={"public_id": conversation.public_id})
            urls.update(send_url=api, poll_url=api)
        return urls
    page = reverse("chat:cabinet_conversation", kwargs={"public_id": conversation.public_id})
    return {
        "post_url": page,
        "new_url": reverse("chat:cabinet_new"),
        "send_url": page,
        "poll_url": reverse("chat:cabinet_messages", kwargs={"public_id": conversation.public_id}),
    }


def _page_context(
    conversation: Conversation | None, *, cabinet: bool = False, **extra: Any
) -> dict[str, Any]:
    lines, open_choices = (
        chat.transcript(conversation.messages.all()) if conversation is not None else ([], [])
    )
    urls = _urls(conversation)
    if conversation is None and cabinet:
        urls = {"post_url": reverse("chat:cabinet"), "new_url": reverse("chat:cabinet_new")}
    return {
        **urls,
        "conversation": conversation,
        "lines": lines,
        "open_choices": open_choices,
        "form": MessageForm(),
        "honeypot": abuse.HONEYPOT_FIELD,
        "live": conversation is not None and conversation.status in chat.LIVE_STATUSES,
        "poll_s": chat.POLL_S,
        **extra,
    }


def _answer(request: HttpRequest, conversation: Conversation, text: str, back: str) -> HttpResponse:
    """Hand ``text`` to the engine; JSON with the new messages, or a redirect back to the page."""
    try:
        new = engine.respond(conversation, text)
    except engine.ConversationClosed:
        detail = _("This conversation has ended. Start a new one.")
        if _wants_json(request):
            return JsonResponse({"detail": detail, "status": Conversation.Status.CLOSED}, status=409)
        flash.error(request, detail)
        return redirect(back)
    if _wants_json(request):
        conversation.refresh_from_db(fields=["status"])
        return JsonResponse({"status": conversation.status, "messages": chat.messages_data(new)}, status=201)
    return redirect(f"{back}#chat-end")


# ---------------------------------------------------------------- the public site


def _site_conversation(request: HttpRequest) -> Conversation | None:
    public_id = request.session.get(SESSION_KEY)
    if not public_id:
        return None
    try:
        return Conversation.objects.filter(public_id=public_id, channel=SITE).first()
    except (ValueError, TypeError):  # a session value that is not a UUID
        return None


def _start_site(request: HttpRequest) -> Conversation:
    conversation = engine.start(SITE, language=chat.language())
    request.session[SESSION_KEY] = str(conversation.public_id)
    return conversation


def _incoming(
    request: HttpRequest, template: str, conversation: Conversation | None, back: str
) -> tuple[str, HttpResponse | None]:
    """The text a POST to a conversation carries, or the answer refusing it: a bot's honeypot (back to
    the page), a bad text (400 with the error), the per-address message limit (429)."""
    if abuse.is_bot(request):
        return "", redirect(back)
    text, error = _read_text(request)
    if text is None:
        if _wants_json(request):
            return "", JsonResponse({"errors": {"text": [error]}}, status=400)
        return "", render(request, template, _page_context(conversation, error=error), status=400)
    if chat.over_message_limit(request):
        return "", _throttled(request, template, _page_context(conversation))
    return text, None


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def site_chat(request: HttpRequest) -> HttpResponse:
    """The public site's chat: the transcript and the message form; a POST sends a message."""
    template = "assistant/chat_site.html"
    conversation = _site_conversation(request)
    if request.method != "POST":
        return render(request, template, _page_context(conversation))
    back = reverse("chat:site")
    text, refused = _incoming(request, template, conversation, back)
    if refused is not None:
        return refused
    if conversation is None or conversation.is_closed:
        if chat.over_start_limit(request):
            return _throttled(request, template, _page_context(conversation))
        conversation = _start_site(request)
    return _answer(request, conversation, text, back)


@require_POST
def site_new(request: HttpRequest) -> HttpResponse:
    """End the current conversation (if any) and start a new one."""
    if abuse.is_bot(request):
        return redirect("chat:site")
    if chat.over_start_limit(request):
        return _throttled(request, "assistant/chat_site.html", _page_context(_site_conversation(request)))
    current = _site_conversation(request)
    if current is not None and not current.is_closed:
        engine.close(current)
    _start_site(request)
    return redirect("chat:site")


# ---------------------------------------------------------------- the personal cabinet


def _mine(request: HttpRequest, public_id: Any) -> Conversation:
    """One of the signed-in user's cabinet conversations; 404 for any other id."""
    user = current_user(request)
    conversation = (
        Conversation.objects.filter(public_id=public_id, channel=CABINET, cabinet_user=user).first()
        if user is not None
        else None
    )
    if conversation is None:
        raise Http404
    return conversation


def _start_cabinet(request: HttpRequest) -> Conversation:
    return engine.start(CABINET, cabinet_user=current_user(request), language=chat.language())


@never_cache
@cabinet_required
@require_http_methods(["GET", "HEAD", "POST"])
def cabinet_chat(request: HttpRequest) -> HttpResponse:
    """``/cabinet/chat/``: go on with the open conversation, or start one (a POST may carry a first text)."""
    template = "assistant/chat_cabinet.html"
    user = current_user(request)
    current = (
        Conversation.objects.filter(channel=CABINET, cabinet_user=user)
        .exclude(status=Conversation.Status.CLOSED)
        .order_by("-id")
        .first()
    )
    if request.method != "POST":
        if current is not None:
            return redirect("chat:cabinet_conversation", public_id=current.public_id)
        return render(request, template, _page_context(None, cabinet=True))
    if abuse.is_bot(request):
        return redirect("chat:cabinet")
    text, error = _read_text(request)
    if text is None:
        return render(request, template, _page_context(None, cabinet=True, error=error), status=400)
    # Limits before anything is created: a message over the limit is refused with a message, never
    # swallowed by a conversation started for it.
    if text.strip() and chat.over_message_limit(request):
        return _throttled(request, template, _page_context(None, cabinet=True))
    if current is None:
        # A repeated post (a double click, the form of an old page) goes on with the open conversation.
        if chat.over_start_limit(request):
            return _throttled(request, template, _page_context(None, cabinet=True))
        current = _start_cabinet(request)
    back = reverse("chat:cabinet_conversation", kwargs={"public_id": current.public_id})
    if not text.strip():
        return redirect(back)
    return _answer(request, current, text, back)


@never_cache
@cabinet_required
@require_http_methods(["GET", "HEAD", "POST"])
def cabinet_conversation(request: HttpRequest, public_id: Any) -> HttpResponse:
    template = "assistant/chat_cabinet.html"
    conversation = _mine(request, public_id)
    if request.method != "POST":
        return render(request, template, _page_context(conversation))
    back = reverse("chat:cabinet_conversation", kwargs={"public_id": conversation.public_id})
    text, refused = _incoming(request, template, conversation, back)
    if refused is not None:
        return refused
    return _answer(request, conversation, text, back)


@never_cache
@cabinet_required
@require_safe
def cabinet_messages(request: HttpRequest, public_id: Any) -> HttpResponse:
    """JSON for the page's script: the messages after ``?after=<id>`` and the status."""
    conversation = _mine(request, public_id)
    after = request.GET.get("after", "0")
    if not after.isascii() or not after.isdigit():
        return JsonResponse({"errors": {"after": [_("A whole number.")]}}, status=400)
    new = engine.messages_after(conversation, int(after))
    return JsonResponse({"status": conversation.status, "messages": chat.messages_data(new)})


@cabinet_required
@require_POST
def cabinet_new(request: HttpRequest) -> HttpResponse:
    """End the user's open cabinet conversations and start a new one."""
    if chat.over_start_limit(request):
        return _throttled(request, "assistant/chat_cabinet.html", _page_context(None, cabinet=True))
    for current in Conversation.objects.filter(channel=CABINET, cabinet_user=current_user(request)).exclude(
        status=Conversation.Status.CLOSED
    ):
        engine.close(current)
    conversation = _start_cabinet(request)
    return redirect("chat:cabinet_conversation", public_id=conversation.public_id)
