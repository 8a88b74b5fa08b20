"""The appeal card: every field, deadline, timeline, answers, attachments and the allowed actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from okno.appeals import queries
from okno.appeals.choices import Status
from okno.appeals.letters import render_answer_pdf
from okno.appeals.models import Answer, AnswerTemplate, Appeal, AppealEvent, Attachment
from okno.appeals.views.act import BY_NAME, ActionSpec, allowed_specs, apply_errors
from okno.appeals.views.common import deadline_state, fill_template, format_span
from okno.core.audit import log_access
from okno.core.errors import Conflict, TransitionNotAllowed
from okno.customers.models import Account


def get_appeal(request: HttpRequest, pk: int) -> Appeal:
    """The appeal if the user may see it; another branch's appeal is simply not found (404)."""
    return get_object_or_404(
        queries.visible_appeals(request.user).select_related(
            "policy",
            "account__service_point__address",
            "suggested_account__service_point__address",
            "address",
            "registered_by",
            "incident",
            "repeat_of",
            "duplicate_of",
            "escalation_of",
        ),
        pk=pk,
    )


def _templates(appeal: Appeal) -> list[tuple[AnswerTemplate, str]]:
    rows = AnswerTemplate.objects.filter(active=True).filter(Q(topic="") | Q(topic=appeal.topic))
    return [(t, fill_template(t, appeal)) for t in rows]


def _events(appeal: Appeal) -> list[AppealEvent]:
    labels = dict(Status.choices)
    events = list(queries.timeline(appeal))
    for ev in events:
        ev.from_label = labels.get(ev.from_status, ev.from_status)  # type: ignore[attr-defined]
        ev.to_label = labels.get(ev.to_status, ev.to_status)  # type: ignore[attr-defined]
    return events


def _suggested_account_in_scope(appeal: Appeal, user: Any) -> bool:
    """Whether ``user`` may see the account named in the text (its holder's address is shown only then:
    the number was typed by the sender, the address is the holder's and may be another branch's)."""
    if appeal.suggested_account_id is None:
        return False
    return Account.objects.restrict(user, "view").filter(pk=appeal.suggested_account_id).exists()


def _remote_addr(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def render_card(
    request: HttpRequest, appeal: Appeal, bound: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    bound = bound or {}
    if appeal.customer_id:
        log_access(
            actor=user,
            customer_id=appeal.customer_id,
            context_name="ui:appeal",
            remote_addr=_remote_addr(request),
        )
    templates = _templates(appeal)
    answer_initial: dict[str, Any] = {}
    chosen = request.GET.get("template", "")
    if chosen.isdigit():
        for tpl, body in templates:
            if tpl.pk == int(chosen):
                answer_initial = {"template": tpl.pk, "text": body}
    forms_list: list[dict[str, Any]] = []
    for spec in allowed_specs(appeal, user):
        form = bound.get(spec.name)
        if form is None:
            initial = answer_initial if spec.name == "answer" else {}
            form = spec.form(appeal=appeal, user=user, initial=dict(initial))
        forms_list.append(
            {
                "spec": spec,
                "form": form,
                "open": bool(form.is_bound and form.errors)
                or (spec.name == "answer" and bool(answer_initial))
                or (spec.name == "classify" and appeal.awaits_classification),
            }
        )
    tz = appeal.branch.tz
    now = timezone.now()
    context = {
        "appeal": appeal,
        "tz": tz,
        "deadline": deadline_state(appeal, now),
        "events": _events(appeal),
        "answers": list(appeal.answers.select_related("author").order_by("created_at", "id")),
        "attachments": list(appeal.attachments.select_related("uploaded_by")),
        "duplicates": list(
            Appeal.objects.restrict(user, "view").filter(duplicate_of=appeal).only("id", "number", "status")
        ),
        "repeats": list(
            Appeal.objects.restrict(user, "view").filter(repeat_of=appeal).only("id", "number", "status")
        ),
        "escalations": list(
            Appeal.objects.restrict(user, "view").filter(escalation_of=appeal).only("id", "number", "status")
        ),
        "action_forms": forms_list,
        "inline_forms": [f for f in forms_list if f["spec"].inline],
        "detail_forms": [f for f in forms_list if not f["spec"].inline],
        "answer_templates": templates,
        "account": appeal.account,
        "suggested_account_in_scope": _suggested_account_in_scope(appeal, user),
        "paused_text": format_span(dt.timedelta(seconds=appeal.paused_seconds))
        if appeal.paused_seconds
        else "",
    }
    return render(request, "appeals/detail.html", context, status=status)


@login_required
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_card(request, get_appeal(request, pk))


@login_required
@require_POST
def appeal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    spec: ActionSpec | None = BY_NAME.get(action)
    if spec is None:
        raise Http404
    appeal = get_appeal(request, pk)
    user = request.user
    if not user.has_okno_perm(spec.perm):  # type: ignore[union-attr]
        raise PermissionDenied
    form = spec.form(request.POST, request.FILES, appeal=appeal, user=user)
    with timezone.override(appeal.branch.tz):  # times typed on the card are the branch's local times
        valid = form.is_valid()
    if not valid:
        return render_card(request, appeal, {spec.name: form}, status=400)
    try:
        if not spec.allowed(appeal):
            raise TransitionNotAllowed(
                _("This action is not available for the appeal in its current status.")
            )
        text = spec.run(appeal, user, form.cleaned_data)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("appeals:detail", pk=appeal.pk)
    except ValidationError as exc:
        apply_errors(form, exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
        return render_card(request, get_appeal(request, pk), {spec.name: form}, status=400)
    messages.success(request, text)
    if spec.name == "escalate":
        escalation = queries.visible_appeals(user).filter(escalation_of=appeal).order_by("-id").first()
        if escalation is not None:
            return redirect("appeals:detail", pk=escalation.pk)
    return redirect("appeals:detail", pk=appeal.pk)


def _log_document_view(request: HttpRequest, appeal: Appeal, context_name: str) -> None:
    if appeal.customer_id:
        log_access(
            actor=request.user,
            customer_id=appeal.customer_id,
            context_name=context_name,
            remote_addr=request.META.get("REMOTE_ADDR") or None,
        )


@login_required
def answer_pdf(request: HttpRequest, pk: int, answer_pk: int) -> HttpResponse:
    appeal = get_appeal(request, pk)
    answer = get_object_or_404(
        Answer.objects.select_related("appeal__branch__company", "author"), pk=answer_pk, appeal=appeal
    )
    _log_document_view(request, appeal, "ui:answer-pdf")
    pdf = render_answer_pdf(answer)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"answer-{answer.outgoing_number.replace('/', '-')}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def attachment_download(request: HttpRequest, pk: int, att_pk: int) -> FileResponse:
    appeal = get_appeal(request, pk)
    att = get_object_or_404(Attachment.objects.restrict(request.user, "view"), pk=att_pk, appeal=appeal)
    _log_document_view(request, appeal, "ui:attachment")
    response = FileResponse(
        att.file.open("rb"), as_attachment=True, filename=att.name, content_type=att.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
