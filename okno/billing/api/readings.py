"""API routes: meters, readings (every channel), held-reading review, corrections and bulk imports.

Every change goes through :mod:`okno.billing.readings` (or the SMS, IVR and import modules); this
module resolves input, checks the role permission (403) and the row scope (404), and renders. A
refused reading answers 400 problem+json with the field error and the machine ``code``.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters as filters
from django.apps import apps
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from okno.billing import imports, ivr, readings, sms
from okno.billing.models import Meter, Reading, ReadingImport
from okno.core.api import problem
from okno.customers.models import Account
from okno.customers.numbers import normalize_account_number
from okno.org.api.permissions import OknoPermission
from okno.org.models import User

PROBLEMS = {
    400: OpenApiResponse(description="Invalid input or reading refused (problem+json: errors, code)"),
    403: OpenApiResponse(description="The role lacks the permission"),
    404: OpenApiResponse(description="Not in your scope"),
}
# Channels a staff member or an integration may name when submitting one reading through the API.
API_CHANNELS = (
    Reading.Channel.CABINET,
    Reading.Channel.OFFICE,
    Reading.Channel.PHONE,
    Reading.Channel.TERMINAL,
    Reading.Channel.CONTROLLER,
    Reading.Channel.SMART,
)


def refused(exc: readings.ReadingRefused) -> Response:
    return problem(400, "Reading refused", exc.text, {exc.field: [exc.text]}, code=exc.code)


def _account(user: Any, number: str, field: str = "account") -> Account:
    number = normalize_account_number(number)
    account = (
        Account.objects.restrict(user, "view")
        .select_related("service_point__branch", "customer")
        .filter(number=number)
        .first()
    )
    if account is None:
        raise readings.ReadingRefused(
            "not_found", _("Account %(n)s not found.") % {"n": number or "—"}, field
        )
    return account


# --- serializers -------------------------------------------------------------------------------


class ReadingSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.number", read_only=True)
    meter_serial = serializers.CharField(source="meter.serial", read_only=True)
    values = serializers.ListField(
        child=serializers.DecimalField(max_digits=12, decimal_places=3),
        source="values_kwh",
        read_only=True,
        help_text=gettext_lazy("kWh in the meter's zone order (T1, T2, T3)."),
    )
    kind = serializers.CharField(read_only=True, help_text="regular | initial | final")
    channel = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text="accepted | held | rejected | superseded")
    flags = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="jump, verification_expired, unknown_phone",
    )

    class Meta:
        model = Reading
        fields = [
            "id",
            "account",
            "meter",
            "meter_serial",
            "period",
            "taken_on",
            "values",
            "kind",
            "channel",
            "status",
            "flags",
            "version",
            "supersedes",
            "reason",
            "source_import",
            "submitted_at",
        ]
        read_only_fields = fields


class ReadingCreateSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=20)
    values = serializers.ListField(
        child=serializers.CharField(max_length=20), min_length=1, max_length=3, help_text="kWh per zone"
    )
    taken_on = serializers.DateField(required=False, allow_null=True, default=None)
    meter = serializers.IntegerField(required=False, allow_null=True, default=None)
    channel = serializers.CharField(
        default=Reading.Channel.OFFICE, help_text="cabinet | office | phone | terminal | controller | smart"
    )

    def validate_channel(self, value: str) -> str:
        if value not in API_CHANNELS:
            raise serializers.ValidationError(_("Unknown channel “%(c)s”.") % {"c": value})
        return value


class CorrectSerializer(serializers.Serializer):
    values = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=3)
    reason = serializers.CharField(max_length=300)


class ReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SmsSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=30)
    text = serializers.CharField(max_length=1000, allow_blank=True)


class IvrSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=20, help_text="Digits keyed in")
    zones = serializers.ListField(
        child=serializers.CharField(max_length=20),
        min_length=1,
        max_length=3,
        help_text="`*` is the decimal point",
    )
    caller = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


SmsReplySerializer = inline_serializer(
    "SmsReply",
    {
        "reply": serializers.CharField(help_text="The text to send back to the phone"),
        "accepted": serializers.BooleanField(help_text="A reading was taken (accepted or held for review)"),
        "status": serializers.CharField(allow_null=True),
        "reading_id": serializers.IntegerField(allow_null=True),
        "outcome": serializers.ChoiceField(
            choices=["reading", "reading_refused", "appeal", "unclear"],
            help_text="reading: taken; reading_refused: a reading that was refused (the reply says why); "
            "appeal: not a reading, registered as an appeal (channel sms); unclear: empty or too short, "
            "the reply asks to describe the question",
        ),
        "appeal_number": serializers.CharField(
            allow_null=True, help_text="The registration number when the SMS became an appeal"
        ),
    },
)
IvrReplySerializer = inline_serializer(
    "IvrReply",
    {
        "ok": serializers.BooleanField(),
        "prompt": serializers.CharField(),
        "text": serializers.CharField(),
        "reading_id": serializers.IntegerField(allow_null=True),
    },
)


class ReadingFilter(filters.FilterSet):
    account = filters.CharFilter(label=gettext_lazy("Account number"), method="filter_account")
    meter = filters.NumberFilter(label=gettext_lazy("Meter (id)"), field_name="meter_id")
    status = filters.CharFilter(label=gettext_lazy("Status"), field_name="status")
    period = filters.DateFilter(label=gettext_lazy("Period (first day)"), field_name="period")

    class Meta:
        model = Reading
        fields: list[str] = []

    def filter_account(self, qs: QuerySet[Reading], name: str, value: str) -> QuerySet[Reading]:
        return qs.filter(account__number=normalize_account_number(value))


class MeterSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.number", read_only=True)
    status = serializers.CharField(read_only=True, help_text="active | faulty | removed")
    verification_due = serializers.DateField(read_only=True, allow_null=True)

    class Meta:
        model = Meter
        fields = [
            "id",
            "account",
            "model",
            "serial",
            "zones",
            "integer_digits",
            "fraction_digits",
            "installed_on",
            "sealed_on",
            "verified_on",
            "verification_interval_years",
            "verification_due",
            "location",
            "status",
            "is_smart",
            "removed_on",
            "replaced_by",
        ]
        read_only_fields = fields


class MeterFieldsSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=100)
    serial = serializers.CharField(max_length=40)
    zones = serializers.IntegerField(min_value=1, max_value=3)
    integer_digits = serializers.IntegerField(min_value=1, max_value=9, default=6)
    fraction_digits = serializers.IntegerField(min_value=0, max_value=3, default=1)
    initial_values = serializers.ListField(
        child=serializers.CharField(max_length=20), min_length=1, max_length=3
    )
    sealed_on = serializers.DateField(required=False, allow_null=True, default=None)
    verified_on = serializers.DateField(required=False, allow_null=True, default=None)
    verification_interval_years = serializers.IntegerField(min_value=1, max_value=50, default=16)
    location = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    is_smart = serializers.BooleanField(default=False)


class MeterInstallSerializer(MeterFieldsSerializer):
    account = serializers.CharField(max_length=20)
    installed_on = serializers.DateField()


class MeterReplaceSerializer(MeterFieldsSerializer):
    on = serializers.DateField(help_text="Date of the replacement")
    final_values = serializers.ListField(
        child=serializers.CharField(max_length=20), min_length=1, max_length=3
    )


class ReadingImportSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="agent | round | smart_daily | smart_interval")

    class Meta:
        model = ReadingImport
        fields = [
            "id",
            "kind",
            "name",
            "sha256",
            "source",
            "imported_at",
            "imported_by",
            "lines",
            "accepted",
            "held",
            "rejected",
            "errors",
        ]
        read_only_fields = fields


class ReadingImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.CharField(help_text="agent | round | smart_daily | smart_interval")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # Declared here: a class attribute named ``source`` would shadow ``Field.source``.
        fields["source"] = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        return fields

    def validate_kind(self, value: str) -> str:
        if value not in ReadingImport.Kind.values:
            raise serializers.ValidationError(_("Unknown kind of file “%(k)s”.") % {"k": value})
        return value


# --- views -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Readings in your scope (filter by account number, meter, status, period)"),
    retrieve=extend_schema(summary="A reading"),
)
class ReadingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [OknoPermission]
    serializer_class = ReadingSerializer
    filterset_class = ReadingFilter
    lookup_value_regex = "[0-9]+"
    queryset = Reading.objects.none()
    required_perms = {
        "list": "reading.view",
        "retrieve": "reading.view",
        "create": "reading.add",
        "sms": "reading.add",
        "ivr": "reading.add",
        "correct": "reading.review",
        "review": "reading.review",
    }

    @property
    def actor(self) -> User:
        return cast(User, self.request.user)

    def get_queryset(self) -> QuerySet[Reading]:
        return Reading.objects.restrict(self.request.user, "view").select_related("account", "meter")

    def _show(self, reading: Reading, code: int = status.HTTP_200_OK) -> Response:
        reading = Reading.objects.select_related("account", "meter").get(pk=reading.pk)
        return Response(ReadingSerializer(reading).data, status=code)

    @extend_schema(
        summary="Submit a reading (office, phone, cabinet, terminal, controller, smart)",
        request=ReadingCreateSerializer,
        responses={201: ReadingSerializer, **PROBLEMS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ReadingCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        try:
            account = _account(self.actor, d["account"])
            meter = None
            if d["meter"] is not None:
                meter = Meter.objects.restrict(self.actor, "view").filter(pk=d["meter"]).first()
                if meter is None:
                    raise readings.ReadingRefused("not_found", _("Meter not found."), "meter")
            reading = readings.submit_reading(
                account=account,
                values=d["values"],
                channel=d["channel"],
                actor=self.actor,
                taken_on=d["taken_on"],
                meter=meter,
            )
        except readings.ReadingRefused as exc:
            return refused(exc)
        return self._show(reading, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Correct a reading: a new version with a reason",
        request=CorrectSerializer,
        responses={201: ReadingSerializer, **PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str) -> Response:
        reading = self.get_object()
        body = CorrectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            new = readings.correct_reading(
                reading,
                values=body.validated_data["values"],
                reason=body.validated_data["reason"],
                actor=self.actor,
            )
        except readings.ReadingRefused as exc:
            return refused(exc)
        return self._show(new, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Accept or reject a reading held for review",
        request=ReviewSerializer,
        responses={200: ReadingSerializer, **PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str) -> Response:
        reading = self.get_object()
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = readings.review_reading(
            reading, accept=body.validated_data["accept"], actor=self.actor, note=body.validated_data["note"]
        )
        return self._show(done)

    @extend_schema(
        summary="An incoming SMS from the SMS gateway: readings, or any other text as an appeal; "
        "answers the reply to send",
        description='Readings ("5001234567 04512", "лс … Т1 … Т2 …") are submitted for the account; '
        "another text of at least ten letters is registered as an appeal (channel sms, answer by SMS); "
        "an empty or too short one is answered with a request to describe the question. The gateway "
        "sends `reply` back to `phone`.",
        request=SmsSerializer,
        responses={200: SmsReplySerializer, **PROBLEMS},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def sms(self, request: Request) -> Response:
        body = SmsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        phone, text = body.validated_data["phone"], body.validated_data["text"]
        if apps.is_installed("okno.assistant"):
            # The assistant's SMS intake (an upper app, so imported here): readings still go to
            # billing.sms.receive_sms with this gateway account's scope; other texts become appeals.
            from okno.assistant.intake.sms import handle_sms

            outcome = handle_sms(phone=phone, text=text, user=request.user)
            reply, reading, kind = outcome.reply, outcome.reading, outcome.kind
            number = outcome.appeal.number if outcome.appeal is not None else None
        else:
            result = sms.receive_sms(phone=phone, text=text, user=request.user)
            reply, reading, number = result.reply, result.reading, None
            kind = "reading" if reading is not None else "reading_refused"
        return Response(
            {
                "reply": reply,
                "accepted": reading is not None,
                "status": reading.status if reading else None,
                "reading_id": reading.pk if reading else None,
                "outcome": kind,
                "appeal_number": number,
            }
        )

    @extend_schema(
        summary="Readings keyed in on the phone (IVR); answers the prompt to play",
        request=IvrSerializer,
        responses={200: IvrReplySerializer, **PROBLEMS},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def ivr(self, request: Request) -> Response:
        body = IvrSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        result = ivr.ivr_submit(
            account_digits=d["account"], zone_digits=d["zones"], caller=d["caller"] or None, user=request.user
        )
        return Response(
            {"ok": result.ok, "prompt": result.prompt, "text": result.text, "reading_id": result.reading_id}
        )


class MeterFilter(filters.FilterSet):
    account = filters.CharFilter(label=gettext_lazy("Account number"), method="filter_account")
    serial = filters.CharFilter(label=gettext_lazy("Serial number"), field_name="serial")

    class Meta:
        model = Meter
        fields: list[str] = []

    def filter_account(self, qs: QuerySet[Meter], name: str, value: str) -> QuerySet[Meter]:
        return qs.filter(account__number=normalize_account_number(value))


def _meter_fields(d: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "model",
        "serial",
        "zones",
        "integer_digits",
        "fraction_digits",
        "initial_values",
        "sealed_on",
        "verified_on",
        "verification_interval_years",
        "location",
        "is_smart",
    )
    return {k: d[k] for k in keys}


@extend_schema_view(
    list=extend_schema(summary="Meters in your scope (filter by account number or serial)"),
    retrieve=extend_schema(summary="A meter"),
)
class MeterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [OknoPermission]
    serializer_class = MeterSerializer
    filterset_class = MeterFilter
    lookup_value_regex = "[0-9]+"
    queryset = Meter.objects.none()
    required_perms = {
        "list": "meter.view",
        "retrieve": "meter.view",
        "create": "meter.change",
        "replace": "meter.change",
    }

    def get_queryset(self) -> QuerySet[Meter]:
        return Meter.objects.restrict(self.request.user, "view").select_related("account")

    @extend_schema(
        summary="Install a meter with its initial reading",
        request=MeterInstallSerializer,
        responses={201: MeterSerializer, **PROBLEMS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = MeterInstallSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        try:
            meter = readings.install_meter(
                account=_account(request.user, d["account"]),
                actor=request.user,
                installed_on=d["installed_on"],
                **_meter_fields(d),
            )
        except readings.ReadingRefused as exc:
            return refused(exc)
        return Response(MeterSerializer(meter).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a meter: final reading of the old one, the new one with its initial reading",
        request=MeterReplaceSerializer,
        responses={201: MeterSerializer, **PROBLEMS},
    )
    @action(detail=True, methods=["post"])
    def replace(self, request: Request, pk: str) -> Response:
        meter = self.get_object()
        body = MeterReplaceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        try:
            new = readings.replace_meter(
                meter=meter,
                actor=request.user,
                on=d["on"],
                final_values=d["final_values"],
                **_meter_fields(d),
            )
        except readings.ReadingRefused as exc:
            return refused(exc)
        return Response(MeterSerializer(new).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Bulk files of readings imported"),
    retrieve=extend_schema(summary="One import with its counts and line errors"),
)
class ReadingImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [OknoPermission]
    serializer_class = ReadingImportSerializer
    lookup_value_regex = "[0-9]+"
    queryset = ReadingImport.objects.none()
    parser_classes = [MultiPartParser, FormParser]
    required_perms = {"list": "reading.import", "retrieve": "reading.import", "create": "reading.import"}

    def get_queryset(self) -> QuerySet[ReadingImport]:
        # Imports are company-level files (lines of any branch); who may import may see them.
        return ReadingImport.objects.all()

    @extend_schema(
        summary="Upload a bulk file of readings (idempotent per file: the same file answers 200 and adds nothing)",
        request={"multipart/form-data": ReadingImportUploadSerializer},
        responses={201: ReadingImportSerializer, 200: ReadingImportSerializer, **PROBLEMS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ReadingImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        imp, created = imports.import_readings_once(
            data=upload.read(),
            name=upload.name or "readings.csv",
            kind=body.validated_data["kind"],
            actor=request.user,
            source=body.validated_data["source"],
        )
        return Response(
            ReadingImportSerializer(imp).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


router = SimpleRouter()
router.register("readings", ReadingViewSet, basename="reading")
router.register("meters", MeterViewSet, basename="meter")
router.register("reading-imports", ReadingImportViewSet, basename="reading-import")

urlpatterns = router.urls
