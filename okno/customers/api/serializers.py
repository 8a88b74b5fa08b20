"""Serializers of customers, their contacts, accounts and contact history."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from okno.customers.choices import CustomerKind
from okno.customers.models import Account, ContactEvent, ContactPoint, Customer
from okno.org.models import Branch


class ContactPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPoint
        fields = ["id", "kind", "value", "is_primary", "verified_at"]


class CustomerListSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "kind",
            "display_name",
            "last_name",
            "first_name",
            "patronymic",
            "organisation",
            "inn",
            "branch",
        ]


class AccountBriefSerializer(serializers.ModelSerializer):
    address = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ["id", "number", "contract_number", "opened_on", "closed_on", "address"]

    def get_address(self, obj: Account) -> str:
        return str(obj.service_point.address)


class CustomerDetailSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    contacts = ContactPointSerializer(many=True, read_only=True)
    accounts = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [*CustomerListSerializer.Meta.fields, "ogrn", "created_at", "note", "contacts", "accounts"]

    @extend_schema_field(AccountBriefSerializer(many=True))
    def get_accounts(self, obj: Customer) -> Any:
        """The customer's accounts the user may see (prefetched by the view as ``visible_accounts``)."""
        return AccountBriefSerializer(getattr(obj, "visible_accounts", []), many=True).data


class CustomerCreateSerializer(serializers.Serializer):
    """The body of ``POST /customers/``: the customer's fields and lists of phones and e-mails."""

    kind = serializers.ChoiceField(choices=CustomerKind.choices, default=CustomerKind.INDIVIDUAL)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    patronymic = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    organisation = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    inn = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    ogrn = serializers.CharField(max_length=15, required=False, allow_blank=True, default="")
    branch = serializers.IntegerField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    phones = serializers.ListField(child=serializers.CharField(max_length=30), required=False, default=list)
    emails = serializers.ListField(child=serializers.EmailField(), required=False, default=list)

    def validate_branch(self, value: int | None) -> Branch | None:
        if value is None:
            return None
        user = self.context["request"].user
        qs = Branch.objects.filter(pk=value)
        if not user.all_branches:
            qs = qs.filter(pk__in=user.branch_ids)
        branch = qs.first()
        if branch is None:
            raise serializers.ValidationError(_("Branch %(id)s not found.") % {"id": value})
        return branch


class AccountSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.display_name", read_only=True)
    address = serializers.SerializerMethodField()
    branch = serializers.IntegerField(source="service_point.branch_id", read_only=True)
    grid_district = serializers.IntegerField(
        source="service_point.grid_district_id", read_only=True, allow_null=True
    )
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "contract_number",
            "opened_on",
            "closed_on",
            "is_open",
            "address",
            "branch",
            "grid_district",
        ]

    def get_address(self, obj: Account) -> str:
        return str(obj.service_point.address)


class ContactEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactEvent
        fields = [
            "id",
            "kind",
            "occurred_at",
            "channel",
            "summary",
            "ref_type",
            "ref_id",
            "ref_label",
            "actor",
        ]
