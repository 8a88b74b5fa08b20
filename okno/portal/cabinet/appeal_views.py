"""The cabinet's appeals: the list about the user's accounts, one appeal's card, a new appeal.

A cabinet user sees the appeals registered on the accounts they hold (:func:`my_appeals`) — not the
customer's other appeals, and nothing of anyone else: any other id answers 404, as one that does not
exist. The card shows what a customer may see of the appeal: the public part of the timeline (no staff
comments, routing or internal escalations), the answers, and the files the customer sent. Every change
goes through :mod:`okno.appeals.actions` as the system user ``system:cabinet``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.appeals import actions
from okno.appeals.choices import OPEN_STATUSES, AnswerChannel, AppealType, Channel, EventType, Status, Topic
from okno.appeals.models import Appeal, AppealEvent, Attachment
from okno.core.errors import Conflict
from okno.customers.models import Account, CabinetUser
from okno.customers.numbers import is_valid_phone
from okno.org.models import User, system_actor
from okno.portal.abuse import over_limit
from okno.portal.cabinet.session import cabinet_required, current_user, my_accounts, pop_draft
from okno.portal.fields import MultipleFileField

PAGE_SIZE = 20
MAX_FILES = 5
# How many appeals and escalations one cabinet user may send in an hour.
APPEALS_PER_HOUR = 20
# The system users that act for the customer on the public channels: files they uploaded are the
# customer's own and are shown in the cabinet; files staff attached are not.
CUSTOMER_UPLOADERS = ("system:cabinet", "system:web", "system:kiosk")
# Timeline entries a customer sees (routing, assignment, staff comments, links and internal deadline
# escalations stay inside the company).
CUSTOMER_EVENTS = {
    EventType.REGISTERED,
    EventType.STARTED,
    EventType.WAITING,
    EventType.RESUMED,
    EventType.ANSWERED,
    EventType.DELIVERED,
    EventType.CLOSED,
    EventType.REOPENED,
    EventType.CANCELLED,
    EventType.EXTENDED,
    EventType.ESCALATED,
    EventType.RATED,
    EventType.ATTACHMENT,
}
# How the customer may ask to get the answer from the cabinet.
ANSWER_CHANNELS = (AnswerChannel.CABINET, AnswerChannel.EMAIL, AnswerChannel.MAIL, AnswerChannel.SMS)


def cabinet_actor() -> User:
    """The system user the cabinet acts as (docs/decisions/0003)."""
    return system_actor("cabinet")


def my_appeals(user: CabinetUser) -> QuerySet[Appeal]:
    """Appeals registered on the accounts ``user`` holds, newest first."""
    return (
        Appeal.objects.filter(account__cabinetlink__user=user)
        .select_related("branch", "account__service_point__address")
        .order_by("-registered_at", "-id")
    )


def _my_appeal(request: HttpRequest, pk: int) -> Appeal:
    user = current_user(request)
    if user is None:  # pragma: no cover (cabinet_required let no one else in)
        raise Http404
    return get_object_or_404(my_appeals(user), pk=pk)


def _local(value: dt.datetime | None, appeal: Appeal) -> dt.datetime | None:
    return timezone.localtime(value, appeal.branch.tz) if value is not None else None


def answer_state(appeal: Appeal) -> tuple[str, str]:
    """(css, text): where the answer is, in the customer's words."""
    if appeal.status == Status.CANCELLED:
        return "off", _("not considered")
    if appeal.delivered_at is not None:
        return "ok", _("answer received %(d)s") % {"d": f"{_local(appeal.delivered_at, appeal):%d.%m.%Y}"}
    if appeal.answered_at is not None:
        return "ok", _("answer sent %(d)s") % {"d": f"{_local(appeal.answered_at, appeal):%d.%m.%Y}"}
    if appeal.status == Status.WAITING_CUSTOMER:
        return "unknown", _("waiting for your reply")
    if appeal.is_overdue():
        return "off", _("no answer yet, the deadline has passed")
    return "unknown", _("no answer yet")


# ---------------------------------------------------------------- the list


@cabinet_required
def appeal_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    assert user is not None
    show = "open" if request.GET.get("show") == "open" else "all"
    qs = my_appeals(user)
    if show == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "appeal": a,
            "registered": _local(a.registered_at, a),
            "deadline": _local(a.deadline_at, a),
            "answer": answer_state(a),
        }
        for a in page
    ]
    return render(
        request,
        "portal/cabinet/appeal_list.html",
        {
            "rows": rows,
            "page_obj": page,
            "show": show,
            "querystring_base": "show=open&" if show == "open" else "",
            "has_accounts": my_accounts(user).exists(),
        },
    )


# ---------------------------------------------------------------- one appeal


class RateForm(forms.Form):
    score = forms.TypedChoiceField(
        label=gettext_lazy("Your rating of the answer"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("1 — very bad, 5 — excellent."),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EscalateForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Why do you disagree with the answer?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "Your objection is registered as a new complaint and considered one level up."
        ),
    )


def _event_row(
    ev: AppealEvent, appeal: Appeal, own_files: set[int], visible: dict[int, Appeal]
) -> dict | None:
    """What the customer reads of one timeline entry, or ``None`` for an internal one."""
    if ev.type not in CUSTOMER_EVENTS:
        return None
    detail = ""
    link = None
    payload = ev.payload or {}
    if ev.type == EventType.REGISTERED:
        channel = payload.get("channel", "")
        detail = str(Channel(channel).label) if channel in Channel.values else ""
    elif ev.type in (EventType.WAITING, EventType.CANCELLED):
        detail = ev.reason  # what is asked of the customer; why the appeal is not considered
    elif ev.type == EventType.EXTENDED:
        detail = ev.reason
        try:
            new = timezone.localtime(dt.datetime.fromisoformat(payload["deadline"]), appeal.branch.tz)
            detail = _("New deadline %(d)s. %(r)s") % {"d": f"{new:%d.%m.%Y %H:%M}", "r": ev.reason}
        except (KeyError, TypeError, ValueError):
            pass
    elif ev.type == EventType.ESCALATED:
        other = visible.get(payload.get("escalation") or 0)
        detail = _("Contested in appeal %(n)s") % {"n": payload.get("number", "")}
        link = other
    elif ev.type == EventType.RATED:
        detail = _("%(s)s of 5") % {"s": payload.get("score", "")}
    elif ev.type == EventType.ATTACHMENT:
        if payload.get("attachment") not in own_files:
            return None
        detail = str(payload.get("name", ""))
    return {
        "time": timezone.localtime(ev.time, appeal.branch.tz),
        "label": ev.get_type_display(),
        "detail": detail,
        "link": link,
    }


def _card_context(request: HttpRequest, appeal: Appeal, **forms_: Any) -> dict[str, Any]:
    user = current_user(request)
    assert user is not None
    attachments = list(appeal.attachments.filter(uploaded_by__username__in=CUSTOMER_UPLOADERS))
    own_files = {a.pk for a in attachments}
    visible = {a.pk: a for a in my_appeals(user).filter(escalation_of=appeal)}
    events = [
        row
        for ev in appeal.events.order_by("time", "id")
        if (row := _event_row(ev, appeal, own_files, visible)) is not None
    ]
    answers = [
        {
            "answer": ans,
            "written": _local(ans.created_at, appeal),
            "delivered": _local(ans.delivered_at, appeal),
        }
        for ans in appeal.answers.order_by("created_at", "id")
    ]
    answered = appeal.status in (Status.ANSWERED, Status.CLOSED)
    open_escalation = next((e for e in visible.values() if e.status in OPEN_STATUSES), None)
    escalation_of = None
    if appeal.escalation_of_id:
        escalation_of = my_appeals(user).filter(pk=appeal.escalation_of_id).first()
    return {
        "appeal": appeal,
        "registered": _local(appeal.registered_at, appeal),
        "deadline": _local(appeal.deadline_at, appeal),
        "answer_state": answer_state(appeal),
        "events": events,
        "answers": answers,
        "attachments": attachments,
        "escalations": sorted(visible.values(), key=lambda a: a.pk),
        "escalation_of": escalation_of,
        "can_rate": answered and appeal.delivered_at is not None,
        "can_escalate": answered and open_escalation is None,
        "open_escalation": open_escalation,
        "rated_at": _local(appeal.rated_at, appeal),
        "rate_form": forms_.get("rate_form") or RateForm(initial={"score": appeal.rating}),
        "escalate_form": forms_.get("escalate_form") or EscalateForm(),
        "rate_error": forms_.get("rate_error", ""),
        "escalate_error": forms_.get("escalate_error", ""),
    }


@cabinet_required
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = _my_appeal(request, pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rate":
            return _rate(request, appeal)
        if action == "escalate":
            return _escalate(request, appeal)
        raise Http404
    draft = pop_draft(request)  # the form the person was filling in when the session expired
    bound: dict[str, Any] = {}
    if draft.get("action") == "rate":
        bound["rate_form"] = RateForm(initial=draft)
    elif draft.get("action") == "escalate":
        bound["escalate_form"] = EscalateForm(initial=draft)
    return render(request, "portal/cabinet/appeal_detail.html", _card_context(request, appeal, **bound))


def _rate(request: HttpRequest, appeal: Appeal) -> HttpResponse:
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            actions.rate(
                appeal,
                actor=cabinet_actor(),
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except Conflict as exc:
            context = _card_context(request, appeal, rate_form=form, rate_error=exc.message)
            return render(request, "portal/cabinet/appeal_detail.html", context, status=400)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Thank you: your rating is recorded."))
            return redirect("cabinet:appeal", pk=appeal.pk)
    context = _card_context(request, appeal, rate_form=form)
    return render(request, "portal/cabinet/appeal_detail.html", context, status=400)


def _throttled(request: HttpRequest, user: CabinetUser) -> bool:
    return over_limit("cabinet-appeal", str(user.pk), limit=APPEALS_PER_HOUR, window_s=3600)


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/cabinet/appeal_throttled.html",
        {"limit": APPEALS_PER_HOUR},
        status=429,
    )


def _escalate(request: HttpRequest, appeal: Appeal) -> HttpResponse:
    user = current_user(request)
    assert user is not None
    form = EscalateForm(request.POST)
    if form.is_valid():
        if _throttled(request, user):
            return _too_many(request)
        try:
            new = actions.escalate(
                appeal, actor=cabinet_actor(), text=form.cleaned_data["text"], channel=Channel.CABINET
            )
        except Conflict as exc:
            context = _card_context(request, appeal, escalate_form=form, escalate_error=exc.message)
            return render(request, "portal/cabinet/appeal_detail.html", context, status=400)
        except ValidationError as exc:
            messages_ = exc.messages
            context = _card_context(
                request, appeal, escalate_form=form, escalate_error=" ".join(str(m) for m in messages_)
            )
            return render(request, "portal/cabinet/appeal_detail.html", context, status=400)
        messages.success(
            request,
            _("Your objection is registered as appeal %(n)s; the answer is due by %(d)s.")
            % {"n": new.number, "d": f"{new.local_deadline:%d.%m.%Y}"},
        )
        return redirect("cabinet:appeal", pk=new.pk)
    context = _card_context(request, appeal, escalate_form=form)
    return render(request, "portal/cabinet/appeal_detail.html", context, status=400)


@cabinet_required
def attachment_download(request: HttpRequest, pk: int, att_pk: int) -> HttpResponse:
    """One of the customer's own files of their appeal, always as a download (never shown inline)."""
    appeal = _my_appeal(request, pk)
    att = get_object_or_404(
        Attachment.objects.filter(appeal=appeal, uploaded_by__username__in=CUSTOMER_UPLOADERS), pk=att_pk
    )
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=att.name, content_type=att.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]  # cabinet_required is typed for HttpResponse only


# ---------------------------------------------------------------- a new appeal


class NewAppealForm(forms.Form):
    account = forms.ChoiceField(label=gettext_lazy("Account"))
    kind = forms.ChoiceField(label=gettext_lazy("Type of appeal"), choices=AppealType.choices)
    topic = forms.ChoiceField(label=gettext_lazy("Topic"), choices=Topic.choices)
    text = forms.CharField(
        label=gettext_lazy("Your appeal"), max_length=10000, widget=forms.Textarea(attrs={"rows": 8})
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Files"),
        required=False,
        help_text=gettext_lazy(
            "Up to 5 files: PDF, JPEG, PNG, TIFF, text or office documents, each up to %(mb)s MB."
        ),
    )
    preferred_answer_channel = forms.ChoiceField(
        label=gettext_lazy("How would you like to get the answer?"),
        choices=[(c.value, c.label) for c in ANSWER_CHANNELS],
        initial=AnswerChannel.CABINET,
    )
    violation_place = forms.CharField(
        label=gettext_lazy("Where it happened"),
        required=False,
        max_length=400,
        help_text=gettext_lazy("Empty: the address of the account."),
    )
    violation_at = forms.DateTimeField(
        label=gettext_lazy("When it happened"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
        help_text=gettext_lazy("Local time at the address."),
    )
    demand = forms.CharField(
        label=gettext_lazy("What you ask us to do"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    # The complaint fields the retail-market rules require for supply complaints.
    complaint_fields = ("violation_place", "violation_at", "demand")

    def __init__(self, *args: Any, accounts: list[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = {str(a.pk): a for a in accounts}
        self.fields["account"].choices = [  # type: ignore[attr-defined]
            (str(a.pk), f"{a.number} — {a.service_point.address.short()}") for a in accounts
        ]
        if len(accounts) == 1:
            self.fields["account"].initial = str(accounts[0].pk)
        limit_mb = _max_attachment_mb()
        self.fields["attachments"].help_text = str(self.fields["attachments"].help_text) % {"mb": limit_mb}

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.complaint_fields]

    def complaint(self) -> list[forms.BoundField]:
        return [self[name] for name in self.complaint_fields]

    def clean_attachments(self) -> list:
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_FILES:
            raise ValidationError(_("At most %(n)s files can be attached.") % {"n": MAX_FILES})
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        account = self.accounts.get(str(data.get("account") or ""))
        data["account_obj"] = account
        when = data.get("violation_at")
        if when is not None and account is not None:
            # The person typed the wall-clock time at the address: read it in that branch's zone.
            data["violation_at"] = timezone.make_aware(
                timezone.make_naive(when), account.service_point.branch.tz
            )
        return data


def _max_attachment_mb() -> int:
    from django.conf import settings

    return int(settings.OKNO_MAX_ATTACHMENT_BYTES) // (1024 * 1024)


class _BadFile(Exception):
    def __init__(self, name: str, error: ValidationError) -> None:
        super().__init__(name)
        self.name = name
        self.error = error


def _apply_errors(form: forms.Form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def register_with_files(*, user: CabinetUser, account: Account, data: dict[str, Any], files: list) -> Appeal:
    """Register the appeal and attach its files in ONE transaction: a refused file leaves no appeal
    (and no stored file). Raises ``ValidationError`` (field errors) or :class:`_BadFile`."""
    actor = cabinet_actor()
    stored: list[str] = []
    violation_place = data.get("violation_place") or ""
    if data["kind"] == AppealType.COMPLAINT and not violation_place:
        violation_place = str(account.service_point.address)
    try:
        with transaction.atomic():
            appeal = actions.register_appeal(
                channel=Channel.CABINET,
                kind=data["kind"],
                topic=data["topic"],
                text=data["text"],
                actor=actor,
                account=account,
                contact_name=user.name,
                contact_email=user.email,
                contact_phone=user.phone if user.phone and is_valid_phone(user.phone) else "",
                preferred_answer_channel=data["preferred_answer_channel"],
                violation_place=violation_place,
                violation_at=data.get("violation_at"),
                demand=data.get("demand") or "",
            )
            for upload in files:
                try:
                    att = actions.add_attachment(appeal, actor=actor, upload=upload)
                except ValidationError as exc:
                    raise _BadFile(upload.name or "", exc) from exc
                stored.append(str(att.file.name))
    except _BadFile:
        for name in stored:  # the rows are rolled back; the files already written are not
            default_storage.delete(name)
        raise
    return appeal


@cabinet_required
def appeal_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    assert user is not None
    accounts = list(my_accounts(user))
    if not accounts:
        return render(request, "portal/cabinet/appeal_new.html", {"form": None})
    if request.method != "POST":
        draft = pop_draft(request)
        form = NewAppealForm(accounts=accounts, initial=draft or None)
        return render(request, "portal/cabinet/appeal_new.html", {"form": form})
    form = NewAppealForm(request.POST, request.FILES, accounts=accounts)
    if form.is_valid():
        if _throttled(request, user):
            return _too_many(request)
        data = form.cleaned_data
        try:
            appeal = register_with_files(
                user=user, account=data["account_obj"], data=data, files=data["attachments"]
            )
        except _BadFile as bad:
            for message in bad.error.messages:
                form.add_error("attachments", f"{bad.name}: {message}")
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Appeal %(n)s is registered; the answer is due by %(d)s.")
                % {"n": appeal.number, "d": f"{appeal.local_deadline:%d.%m.%Y}"},
            )
            return redirect("cabinet:appeal", pk=appeal.pk)
    return render(request, "portal/cabinet/appeal_new.html", {"form": form}, status=400)
