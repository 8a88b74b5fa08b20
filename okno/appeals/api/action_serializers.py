"""Request bodies of the appeal lifecycle actions (``POST /appeals/{id}/<action>/``).

Each resolves ids to objects within the user's scope (an id outside it reads as "not found") and
carries the optional ``expected_version`` for optimistic locking (409 ``stale_version``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from rest_framework import serializers

from okno.appeals.choices import AnswerChannel, CancelReason, Channel
from okno.appeals.models import Answer, AnswerTemplate, Appeal
from okno.org.models import Department, User


def _user(ser: serializers.Serializer) -> Any:
    return ser.context["request"].user


def _not_found(field: str, what: str, value: Any) -> serializers.ValidationError:
    return serializers.ValidationError({field: [_("%(what)s %(v)s not found.") % {"what": what, "v": value}]})


class VersionedSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read; 409 stale_version when the appeal has changed since.",
    )


class AssignSerializer(VersionedSerializer):
    department = serializers.IntegerField(required=False, allow_null=True, help_text="Department id")
    assignee = serializers.IntegerField(required=False, allow_null=True, help_text="Staff member id")
    reason = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = _user(self)
        dept_id = attrs.get("department")
        if dept_id is not None:
            depts = Department.objects.filter(pk=dept_id)
            if not user.all_branches:
                depts = depts.filter(branch_id__in=user.branch_ids)
            attrs["department"] = depts.first()
            if attrs["department"] is None:
                raise _not_found("department", _("Department"), dept_id)
        person_id = attrs.get("assignee")
        if person_id is not None:
            people = User.objects.filter(pk=person_id, is_active=True).select_related("department")
            if not user.all_branches:
                ids = user.branch_ids
                people = people.filter(Q(branches__in=ids) | Q(department__branch_id__in=ids)).distinct()
            attrs["assignee"] = people.first()
            if attrs["assignee"] is None:
                raise _not_found("assignee", _("Staff member"), person_id)
        return attrs


class ReasonRequiredSerializer(VersionedSerializer):
    reason = serializers.CharField(allow_blank=True)


class ReasonOptionalSerializer(VersionedSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AnswerBodySerializer(VersionedSerializer):
    text = serializers.CharField(allow_blank=True)
    channel = serializers.ChoiceField(
        choices=AnswerChannel.choices, required=False, allow_blank=True, default=""
    )
    template = serializers.IntegerField(required=False, allow_null=True, help_text="Answer template id")
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_template(self, value: int | None) -> AnswerTemplate | None:
        if value is None:
            return None
        template = AnswerTemplate.objects.filter(pk=value, active=True).first()
        if template is None:
            raise serializers.ValidationError(_("Answer template %(v)s not found.") % {"v": value})
        return template


class DeliverSerializer(VersionedSerializer):
    answer = serializers.IntegerField(help_text="Answer id")
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_answer(self, value: int) -> Answer:
        appeal: Appeal = self.context["appeal"]
        answer = Answer.objects.filter(pk=value, appeal_id=appeal.pk).first()
        if answer is None:
            raise serializers.ValidationError(_("Answer %(v)s not found.") % {"v": value})
        return answer


class CancelSerializer(VersionedSerializer):
    reason = serializers.ChoiceField(choices=CancelReason.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    duplicate_of = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, help_text="Id or registration number"
    )

    def validate_duplicate_of(self, value: str | None) -> Appeal | None:
        if value in (None, ""):
            return None
        qs = Appeal.objects.restrict(_user(self), "view")
        value = str(value).strip()
        found = qs.filter(pk=int(value)).first() if value.isdigit() and len(value) < 19 else None
        found = found or qs.filter(number=value).first()
        if found is None:
            raise serializers.ValidationError(_("Appeal %(v)s not found.") % {"v": value})
        return found


class ExtendSerializer(VersionedSerializer):
    days = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True)


class EscalateSerializer(VersionedSerializer):
    text = serializers.CharField(allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default=Channel.OFFICE)


class RateSerializer(VersionedSerializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(VersionedSerializer):
    text = serializers.CharField(allow_blank=True)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, image, text or office document")
