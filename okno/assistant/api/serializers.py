"""Serializers of the chat API (``/api/v1/chat/…``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from okno.assistant.web.forms import MAX_INPUT


class ChatChoiceSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="What the button says.")  # type: ignore[assignment]
    value = serializers.CharField(help_text="What to send as the next message's text to choose it.")


class ChatMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Increasing; poll with ?after=<the last id you have>.")
    author = serializers.CharField(help_text="customer, bot, operator or system.")
    author_label = serializers.CharField(
        help_text="The author as the customer sees it, in the request's language."
    )
    text = serializers.CharField(help_text="Plain text (show it escaped, never as HTML).")
    display = serializers.CharField(
        help_text="What to show: the text, or for a choice the customer pressed, the choice's label."
    )
    choices = ChatChoiceSerializer(many=True, help_text="Buttons offered with this message.")
    created_at = serializers.DateTimeField()


class ConversationStartSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=[("ru", "ru"), ("en", "en")],
        required=False,
        help_text="The conversation's language; by default the request's (Accept-Language).",
    )


class ConversationSerializer(serializers.Serializer):
    public_id = serializers.UUIDField(help_text="The conversation's secret id: keep it, do not share it.")
    status = serializers.CharField(help_text="bot, waiting (for an operator), operator or closed.")
    messages = ChatMessageSerializer(many=True, help_text="The greeting.")


class MessagesSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="bot, waiting (for an operator), operator or closed.")
    messages = ChatMessageSerializer(many=True)


class SendSerializer(serializers.Serializer):
    text = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_INPUT,
        help_text="The customer's message, or the value of one of the last message's choices.",
    )

    def validate_text(self, value: object) -> object:
        if not isinstance(self.initial_data.get("text"), str):  # type: ignore[union-attr]
            raise serializers.ValidationError(_("Not a valid string."))
        return value
