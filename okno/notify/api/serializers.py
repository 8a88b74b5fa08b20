"""Serializers of the notifications API: subscriptions (staff and public) and the delivery log."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from okno.notify.choices import Channel, Language
from okno.notify.models import Notice, NoticeAttempt, Subscription


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(max_length=200)
    auth = serializers.CharField(max_length=100)


class PushSerializer(serializers.Serializer):
    endpoint = serializers.URLField(max_length=1000)
    keys = PushKeysSerializer()


class ContactsMixin(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices, default=Language.RU)
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    push = PushSerializer(required=False, allow_null=True)
    messenger = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not any(attrs.get(f) for f in ("email", "phone", "push", "messenger")):
            raise serializers.ValidationError(
                {"email": [_("Give at least one contact: e-mail, phone, push or messenger.")]}
            )
        return attrs


class SubscriptionSerializer(serializers.ModelSerializer):
    channels = serializers.ListField(child=serializers.CharField(), read_only=True)
    account_number = serializers.CharField(source="account.number", read_only=True, default=None)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "customer",
            "account",
            "account_number",
            "settlement",
            "street",
            "house",
            "branch",
            "language",
            "preferred_channel",
            "email",
            "phone",
            "push",
            "messenger",
            "channels",
            "source",
            "active",
            "confirmed_at",
            "consent_given_at",
            "consent_withdrawn_at",
            "unsubscribed_at",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionCreateSerializer(ContactsMixin):
    """Staff create a subscription for a customer: by account id, or by building."""

    customer = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    account = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    settlement = serializers.CharField(required=False, allow_blank=True, max_length=100)
    street = serializers.CharField(required=False, allow_blank=True, max_length=150)
    house = serializers.CharField(required=False, allow_blank=True, max_length=20)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs.get("account") and not (attrs.get("settlement") and attrs.get("house")):
            raise serializers.ValidationError(
                {"account": [_("Give an account or a building (settlement and house).")]}
            )
        if not attrs.get("account") and not attrs.get("customer"):
            raise serializers.ValidationError(
                {"customer": [_("Staff subscribe a customer; the public site subscribes anyone.")]}
            )
        return attrs


class SubscriptionUpdateSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    push = PushSerializer(required=False, allow_null=True)
    messenger = serializers.CharField(required=False, allow_blank=True, max_length=100)
    active = serializers.BooleanField(required=False)


class PublicSubscribeSerializer(ContactsMixin):
    """The public form "Есть свет!": a building, contacts and the consent checkbox."""

    settlement = serializers.CharField(max_length=100)
    street = serializers.CharField(required=False, allow_blank=True, max_length=150)
    house = serializers.CharField(max_length=20)
    consent = serializers.BooleanField()

    def validate_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(_("Consent to receive the notices is required."))
        return value


class ConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=64)
    code = serializers.CharField(max_length=6, required=False, allow_blank=True)


class NoticeAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = NoticeAttempt
        fields = ["at", "result", "error", "provider_id"]


class NoticeSerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event.key", read_only=True)
    template = serializers.CharField(source="event.template", read_only=True)
    attempts_log = NoticeAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Notice
        fields = [
            "id",
            "event",
            "template",
            "channel",
            "recipient",
            "language",
            "customer",
            "subscription",
            "branch",
            "status",
            "skip_reason",
            "due_at",
            "attempts",
            "subject",
            "sent_at",
            "delivered_at",
            "provider_id",
            "last_error",
            "created_at",
            "attempts_log",
        ]
        read_only_fields = fields
