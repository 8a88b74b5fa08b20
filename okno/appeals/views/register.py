"""Quick registration on one screen (phone and office): find the customer, say what they want, done."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.appeals import actions
from okno.appeals.choices import AnswerChannel
from okno.appeals.forms import RegisterForm
from okno.appeals.views.act import apply_errors
from okno.core.audit import log_access
from okno.customers.models import Customer
from okno.customers.queries import search_customers, with_visible_accounts
from okno.org.models import Branch

CANDIDATE_LIMIT = 15


def _candidates(request: HttpRequest, query: str, picked: Customer | None = None) -> list[Customer]:
    found = search_customers(request.user, query, limit=CANDIDATE_LIMIT) if query else []
    if picked is not None and all(c.pk != picked.pk for c in found):
        found.insert(0, picked)
    ids = [c.pk for c in found]
    if not ids:
        return []
    full = with_visible_accounts(
        request.user, Customer.objects.restrict(request.user, "view").filter(pk__in=ids)
    )
    by_id = {c.pk: c for c in full}
    result = [by_id[i] for i in ids if i in by_id]
    for customer in result:
        log_access(
            actor=request.user,
            customer_id=customer.pk,
            context_name="ui:register-search",
            remote_addr=request.META.get("REMOTE_ADDR") or None,
        )
    return result


def _check_perm(request: HttpRequest) -> None:
    if not request.user.has_okno_perm("appeal.register"):  # type: ignore[union-attr]
        raise PermissionDenied


@login_required
def candidates_fragment(request: HttpRequest) -> HttpResponse:
    """The candidate list alone, fetched by okno.js while the operator keeps typing in the form."""
    _check_perm(request)
    query = request.GET.get("q", "").strip()
    return render(
        request, "appeals/_candidates.html", {"candidates": _candidates(request, query), "query": query}
    )


def local_tz(user: Any) -> Any:
    """The time zone of the operator's branch when they work in one; otherwise the company's."""
    if not user.all_branches and len(user.branch_ids) == 1:
        return Branch.objects.get(pk=user.branch_ids[0]).tz
    return timezone.get_default_timezone()


@login_required
def register(request: HttpRequest) -> HttpResponse:
    _check_perm(request)
    user = request.user
    if request.method == "POST":
        form = RegisterForm(request.POST, user=user)
        with timezone.override(local_tz(user)):  # typed times are the operator's local time
            valid = form.is_valid()
        if valid:
            try:
                appeal = register_from_form(form, user)
            except ValidationError as exc:
                apply_errors(
                    form, exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
                )
            else:
                deadline = timezone.localtime(appeal.deadline_at, appeal.branch.tz)
                messages.success(
                    request,
                    _("Appeal %(number)s is registered; answer due by %(deadline)s.")
                    % {"number": appeal.number, "deadline": f"{deadline:%d.%m.%Y %H:%M}"},
                )
                return redirect("appeals:detail", pk=appeal.pk)
        query = request.POST.get("q", "")
        status = 400
    else:
        form = RegisterForm(user=user, initial={"q": request.GET.get("q", "")})
        query = request.GET.get("q", "")
        status = 200
    context: dict[str, Any] = {
        "form": form,
        "query": query,
        "candidates": _candidates(request, query.strip(), form.customer),
        "picked_customer": form.customer.pk if form.customer is not None and form.account is None else None,
        "picked_account": form.account.pk if form.account is not None else None,
    }
    return render(request, "appeals/register.html", context, status=status)


def register_from_form(form: RegisterForm, user: Any) -> Any:
    """Register, and when the question was answered during the call, answer (by phone) and close, in one go."""
    with transaction.atomic():
        appeal = actions.register_appeal(actor=user, **form.action_kwargs())
        if form.cleaned_data.get("answered_now"):
            try:
                actions.answer_appeal(
                    appeal, actor=user, text=form.cleaned_data["answer_text"], channel=AnswerChannel.PHONE
                )
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"answer_text": exc.messages}
                raise ValidationError({"answer_text": [m for ms in errors.values() for m in ms]}) from exc
            appeal = actions.close(appeal, actor=user, reason=_("Answered during the call"))
    return appeal
