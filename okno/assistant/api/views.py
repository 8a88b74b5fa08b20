"""The chat API for the site's chat widget and other front ends (anonymous, by the conversation's secret).

* ``POST chat/conversations/`` — start a conversation of channel ``chat``: 201 with its ``public_id`` (a
  random UUID: whoever holds it reads and writes the conversation) and the greeting;
* ``POST chat/conversations/{public_id}/messages/`` ``{"text"}`` — 201 with the new messages (the
  customer's own first, then the answers);
* ``GET chat/conversations/{public_id}/messages/?after=<id>`` — the messages after ``id`` and the status
  (poll this while the status is ``waiting`` or ``operator``).

Only conversations of the public site's channel are reachable here (the cabinet's and the messenger's are
not, whoever knows their id). Errors are problem+json: 400 with field errors, 404 for an unknown id, 409
for a closed conversation, 429 over the per-IP limits (the same as the site chat's page).
"""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from okno.assistant.api.serializers import (
    ConversationSerializer,
    ConversationStartSerializer,
    MessagesSerializer,
    SendSerializer,
)
from okno.assistant.dialogue import engine
from okno.assistant.models import Conversation
from okno.assistant.web import chat
from okno.core.api import problem
from okno.portal import abuse

#: Polls one IP address may make an hour (a page polls every few seconds while an operator is involved).
POLL_LIMIT = 3600
POLL_SCOPE = "chat-poll"


class _IpLimit(BaseThrottle):
    """A per-IP limit counted in the shared cache (okno.portal.abuse), per clock hour."""

    scope = ""

    def limit(self) -> int:
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        return not abuse.ip_over_limit(request, self.scope, limit=self.limit(), window_s=chat.WINDOW_S)

    def wait(self) -> float:
        return float(abuse.minutes_left(chat.WINDOW_S) * 60)


class StartThrottle(_IpLimit):
    scope = chat.START_SCOPE

    def limit(self) -> int:
        return chat.start_limit()


class MessageThrottle(_IpLimit):
    scope = chat.MESSAGE_SCOPE

    def limit(self) -> int:
        return chat.message_limit()


class PollThrottle(_IpLimit):
    scope = POLL_SCOPE

    def limit(self) -> int:
        return POLL_LIMIT


class _NeverCached(APIView):
    """A transcript holds what the customer typed and was told after identification (balance, account,
    an appeal's answer): no browser or shared cache may keep it."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response


def _conversation(public_id: str) -> Conversation:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("No such conversation.")) from None
    conversation = Conversation.objects.filter(public_id=key, channel=Conversation.ChannelKind.CHAT).first()
    if conversation is None:
        raise NotFound(_("No such conversation."))
    return conversation


def _closed() -> Response:
    return problem(
        status.HTTP_409_CONFLICT,
        "Conflict",
        _("This conversation has ended. Start a new one."),
        code="conversation_closed",
    )


class ConversationStartView(_NeverCached):
    """Start a conversation with the assistant on the public site's channel."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # anonymous by design: no session, so no CSRF and no staff rights
    throttle_classes = [StartThrottle]

    @extend_schema(
        summary="Start a chat with the assistant (public, rate-limited per IP)",
        request=ConversationStartSerializer,
        responses={
            201: ConversationSerializer,
            400: OpenApiResponse(description="Invalid input (problem+json)."),
            429: OpenApiResponse(description="Too many conversations from this address."),
        },
        tags=["chat"],
    )
    def post(self, request: Request) -> Response:
        body = ConversationStartSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        conversation = engine.start(
            Conversation.ChannelKind.CHAT, language=body.validated_data.get("language") or chat.language()
        )
        data = {
            "public_id": conversation.public_id,
            "status": conversation.status,
            "messages": chat.messages_data(engine.messages_after(conversation, 0)),
        }
        return Response(ConversationSerializer(data).data, status=status.HTTP_201_CREATED)


class ConversationMessagesView(_NeverCached):
    """Send a message in a conversation, or read what came after a message."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_throttles(self) -> list[BaseThrottle]:
        return [MessageThrottle()] if self.request.method == "POST" else [PollThrottle()]

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise Throttled(wait, detail=_("Too many requests from your address. Please wait and try again."))

    @extend_schema(
        summary="The messages after a given one, and the conversation's status",
        parameters=[
            OpenApiParameter("public_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
            OpenApiParameter("after", OpenApiTypes.INT, description="The last message id you have (0: all)."),
        ],
        responses={
            200: MessagesSerializer,
            400: OpenApiResponse(description="after is not a whole number."),
            404: OpenApiResponse(description="No such conversation."),
        },
        tags=["chat"],
    )
    def get(self, request: Request, public_id: str) -> Response:
        conversation = _conversation(public_id)
        after = request.query_params.get("after", "0").strip() or "0"
        if not (after.isascii() and after.isdigit()):
            raise ValidationError({"after": [_("A whole number.")]})
        new = engine.messages_after(conversation, int(after))
        data = {"status": conversation.status, "messages": chat.messages_data(new)}
        return Response(MessagesSerializer(data).data)

    @extend_schema(
        summary="Send the customer's message; the answer is in the new messages",
        parameters=[OpenApiParameter("public_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        request=SendSerializer,
        responses={
            201: MessagesSerializer,
            400: OpenApiResponse(description="text missing, not a string or too long (problem+json)."),
            404: OpenApiResponse(description="No such conversation."),
            409: OpenApiResponse(description="The conversation has ended (code conversation_closed)."),
            429: OpenApiResponse(description="Too many messages from this address."),
        },
        tags=["chat"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        conversation = _conversation(public_id)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_("Send a JSON object with the field text.")]})
        body = SendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if conversation.is_closed:
            return _closed()
        try:
            new = engine.respond(conversation, body.validated_data["text"])
        except engine.ConversationClosed:
            return _closed()
        conversation.refresh_from_db(fields=["status"])
        data = {"status": conversation.status, "messages": chat.messages_data(new)}
        return Response(MessagesSerializer(data).data, status=status.HTTP_201_CREATED)
