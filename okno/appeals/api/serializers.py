"""Serializers of the appeals API: a small list row, the created-appeal answer, the full detail, and
the request body of registration. Bodies of the lifecycle actions are in ``action_serializers``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from okno.appeals.choices import AnswerChannel, AppealType, Channel, Topic
from okno.appeals.models import Answer, Appeal, AppealEvent, Attachment
from okno.customers.models import Account, Customer
from okno.customers.numbers import is_valid_account_number, normalize_account_number


class AppealListSerializer(serializers.ModelSerializer):
    """One row of a list: identifiers and state only, no personal data and no joins."""

    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Appeal
        fields = [
            "id",
            "number",
            "status",
            "channel",
            "kind",
            "topic",
            "received_at",
            "registered_at",
            "deadline_at",
            "branch",
            "department",
            "assignee",
            "customer",
            "account",
            "is_overdue",
            "version",
        ]
        read_only_fields = fields

    def get_is_overdue(self, obj: Appeal) -> bool:
        return obj.is_overdue()


class AppealCreatedSerializer(serializers.ModelSerializer):
    """What ``POST /appeals/`` answers: the number, where the appeal went and when it is due."""

    class Meta:
        model = Appeal
        fields = ["id", "number", "status", "deadline_at", "branch", "department", "assignee", "version"]
        read_only_fields = fields


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AppealEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = AppealEvent
        fields = [
            "id",
            "type",
            "time",
            "actor",
            "actor_name",
            "from_status",
            "to_status",
            "reason",
            "payload",
        ]

    def get_actor_name(self, obj: AppealEvent) -> str:
        return obj.actor.short_name if obj.actor is not None else ""


class AnswerSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.short_name", read_only=True)

    class Meta:
        model = Answer
        fields = [
            "id",
            "text",
            "channel",
            "template",
            "author",
            "author_name",
            "created_at",
            "delivered_at",
            "outgoing_number",
        ]


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "name",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "uploaded_by",
            "download_url",
        ]

    def get_download_url(self, obj: Attachment) -> str:
        return reverse(
            "api:appeal-download-attachment",
            kwargs={"pk": obj.appeal_id, "attachment_id": obj.pk},
            request=self.context.get("request"),
        )


class AppealDetailSerializer(serializers.ModelSerializer):
    """The whole appeal with its timeline, answers and attachments (a personal-data view)."""

    branch = serializers.SerializerMethodField()
    department = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    customer = serializers.SerializerMethodField()
    account_number = serializers.CharField(source="account.number", read_only=True, default=None)
    address = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField()
    suggestion_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    suggested_account_number = serializers.CharField(
        source="suggested_account.number",
        read_only=True,
        default=None,
        help_text="An account named in the text and not linked (the sender was not identified as its holder)",
    )
    events = AppealEventSerializer(many=True, read_only=True)
    answers = AnswerSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Appeal
        fields = [
            "id",
            "number",
            "status",
            "channel",
            "kind",
            "topic",
            "text",
            "customer",
            "account",
            "account_number",
            "address",
            "address_text",
            "contact_name",
            "contact_phone",
            "contact_email",
            "preferred_answer_channel",
            "contract_number",
            "violation_place",
            "violation_at",
            "demand",
            "received_at",
            "registered_at",
            "registered_by",
            "registered_late",
            "branch",
            "department",
            "assignee",
            "deadline_at",
            "base_deadline_at",
            "paused_at",
            "paused_seconds",
            "extended_days",
            "extension_reason",
            "answered_at",
            "delivered_at",
            "on_time",
            "closed_at",
            "reopen_count",
            "cancel_reason",
            "cancel_comment",
            "incident",
            "repeat_of",
            "duplicate_of",
            "escalation_of",
            "rating",
            "rating_comment",
            "rated_at",
            "is_overdue",
            "classified_by",
            "suggested_kind",
            "suggested_topic",
            "suggested_kind_confidence",
            "suggested_topic_confidence",
            "suggestion_reasons",
            "suggested_account_number",
            "version",
            "events",
            "answers",
            "attachments",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer)
    def get_branch(self, obj: Appeal) -> dict[str, Any]:
        return {"id": obj.branch_id, "name": obj.branch.name}

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_department(self, obj: Appeal) -> dict[str, Any] | None:
        dept = obj.department
        return {"id": dept.pk, "name": dept.name} if dept is not None else None

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_assignee(self, obj: Appeal) -> dict[str, Any] | None:
        user = obj.assignee
        return {"id": user.pk, "name": str(user)} if user is not None else None

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_customer(self, obj: Appeal) -> dict[str, Any] | None:
        customer = obj.customer
        return {"id": customer.pk, "name": customer.display_name} if customer is not None else None

    def get_address(self, obj: Appeal) -> str:
        return str(obj.address) if obj.address_id else ""

    def get_is_overdue(self, obj: Appeal) -> bool:
        return obj.is_overdue()


def resolve_account(user: Any, value: Any, field: str) -> Account:
    """The account by number or id, within the user's scope; otherwise a field error naming it."""
    raw = str(value).strip()
    number = normalize_account_number(raw)
    qs = Account.objects.restrict(user, "view").select_related("customer", "service_point__address")
    account = None
    if field == "account_number" or is_valid_account_number(number):
        account = qs.filter(number=number).first()
    elif raw.isdigit() and len(raw) < 19:
        account = qs.filter(pk=int(raw)).first()
    if account is None:
        raise serializers.ValidationError({field: [_("Account %(n)s not found.") % {"n": raw}]})
    return account


class AppealCreateSerializer(serializers.Serializer):
    """The body of ``POST /appeals/`` (registration from any channel)."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    kind = serializers.ChoiceField(choices=AppealType.choices)
    topic = serializers.ChoiceField(choices=Topic.choices)
    text = serializers.CharField()
    customer = serializers.IntegerField(required=False, allow_null=True, help_text="Customer id")
    account = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=20, help_text="Account number or id"
    )
    account_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    address_text = serializers.CharField(required=False, allow_blank=True, max_length=400, default="")
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    preferred_answer_channel = serializers.ChoiceField(
        choices=AnswerChannel.choices, required=False, allow_blank=True, default=""
    )
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    contract_number = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    violation_place = serializers.CharField(required=False, allow_blank=True, max_length=400, default="")
    violation_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    demand = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        customer_id = attrs.pop("customer", None)
        account_value = attrs.pop("account", None)
        account_number = attrs.pop("account_number", "")
        account = None
        if account_number:
            account = resolve_account(user, account_number, "account_number")
        elif account_value not in (None, ""):
            account = resolve_account(user, account_value, "account")
        customer = None
        if customer_id is not None:
            if account is not None and account.customer_id == customer_id:
                customer = account.customer
            else:
                customer = Customer.objects.restrict(user, "view").filter(pk=customer_id).first()
            if customer is None:
                raise serializers.ValidationError(
                    {"customer": [_("Customer %(id)s not found.") % {"id": customer_id}]}
                )
        attrs["account"] = account
        attrs["customer"] = customer if customer is not None else (account.customer if account else None)
        return attrs
