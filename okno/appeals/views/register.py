"""Quick registration on one screen (phone and office): find the customer, say what they want, done.

The assistant reads the text (:mod:`okno.appeals.suggestions`): while the operator types, okno's
``appeals/suggest.js`` fetches :func:`suggestion_fragment`; without JavaScript the "Suggest type and
topic" button posts the form with ``action=suggest`` and the same page comes back pre-filled, nothing
saved. Pre-filling never overwrites what the operator chose: the type and topic only while they are
still the defaults or what the assistant filled in last (hidden ``prefilled_kind``/``prefilled_topic``),
the account only when none is picked, the address only when none is typed. On
"Register" the suggestion for the final text is recorded with the appeal (``classified_by``
"operator"), so the card tells whether the operator kept or changed it.
"""

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
from django.views.decorators.http import require_POST

from okno.appeals import actions
from okno.appeals.choices import AnswerChannel, AppealType, ClassifiedBy, Topic
from okno.appeals.forms import RegisterForm
from okno.appeals.suggestions import suggest_for
from okno.appeals.views.act import apply_errors
from okno.core.audit import log_access
from okno.customers.models import Account, Customer
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


def _picked(user: Any, pick: str) -> tuple[Customer | None, Account | None]:
    """The customer and account of a ``pick`` value ("account:12", "customer:3") in the user's scope."""
    kind, _sep, raw_id = (pick or "").partition(":")
    if not raw_id.isdigit():
        return None, None
    if kind == "account":
        account = (
            Account.objects.restrict(user, "view").select_related("customer").filter(pk=int(raw_id)).first()
        )
        return (account.customer, account) if account is not None else (None, None)
    if kind == "customer":
        return Customer.objects.restrict(user, "view").filter(pk=int(raw_id)).first(), None
    return None, None


def prefill(data: dict[str, str], found: Any, *, customer: Customer | None) -> dict[str, str]:
    """The form's values with the suggestion filled into what the operator has not set."""
    out = dict(data)
    if found is None:
        return out

    def free(name: str, default: str) -> bool:
        """Still the default, or what the assistant filled in last time: not the operator's choice."""
        value = out.get(name, "")
        return value in ("", default) or value == out.get(f"prefilled_{name}")

    if found.kind and free("kind", AppealType.INFO_REQUEST):
        out["kind"] = out["prefilled_kind"] = found.kind
    if found.topic and free("topic", Topic.OTHER):
        out["topic"] = out["prefilled_topic"] = found.topic
    account = found.account
    if (
        account is not None
        and not out.get("pick")
        and (customer is None or account.customer_id == customer.pk)
    ):
        out["pick"] = f"account:{account.pk}"
    if not out.get("address_text"):
        address = found.address or (account.service_point.address if account is not None else None)
        if address is not None:
            out["address_text"] = address.short()
            out["address_id"] = str(address.pk)
        elif found.address_text:
            out["address_text"] = found.address_text[:400]
    return out


def _page(
    request: HttpRequest,
    form: RegisterForm,
    query: str,
    *,
    suggestion: Any = None,
    pick: str = "",
    status: int = 200,
) -> HttpResponse:
    customer, account = (form.customer, form.account) if form.is_bound else _picked(request.user, pick)
    context: dict[str, Any] = {
        "form": form,
        "query": query,
        "candidates": _candidates(request, query.strip(), customer),
        "picked_customer": customer.pk if customer is not None and account is None else None,
        "picked_account": account.pk if account is not None else None,
        "suggestion": suggestion,
    }
    return render(request, "appeals/register.html", context, status=status)


@login_required
def register(request: HttpRequest) -> HttpResponse:
    _check_perm(request)
    user = request.user
    if request.method == "POST" and request.POST.get("action") == "suggest":
        # Without JavaScript: the same form back, pre-filled with the suggestion; nothing is saved.
        data = {
            k: request.POST.get(k, "") for k in request.POST if k not in ("csrfmiddlewaretoken", "action")
        }
        customer, _account = _picked(user, data.get("pick", ""))
        found = suggest_for(data.get("text", ""), user=user, customer=customer)
        data = prefill(data, found, customer=customer)
        form = RegisterForm(user=user, initial=data)
        return _page(request, form, data.get("q", ""), suggestion=found, pick=data.get("pick", ""))
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
        return _page(request, form, request.POST.get("q", ""), status=400)
    form = RegisterForm(user=user, initial={"q": request.GET.get("q", "")})
    return _page(request, form, request.GET.get("q", ""))


@login_required
@require_POST
def suggestion_fragment(request: HttpRequest) -> HttpResponse:
    """The suggestion panel alone (HTML, with the values to pre-fill as data attributes), fetched by
    appeals/suggest.js while the operator types; nothing is saved."""
    _check_perm(request)
    text = request.POST.get("text", "")[:20_000]
    customer, _account = _picked(request.user, request.POST.get("pick", ""))
    found = suggest_for(text, user=request.user, customer=customer)
    values = prefill({}, found, customer=customer) if found is not None else {}
    return render(request, "appeals/_suggestion.html", {"suggestion": found, "values": values})


def register_from_form(form: RegisterForm, user: Any) -> Any:
    """Register (recording the assistant's suggestion for the text), and when the question was answered
    during the call, answer (by phone) and close, in one go."""
    kwargs = form.action_kwargs()
    found = suggest_for(kwargs["text"], user=user, customer=form.customer)
    suggestion = None
    if found is not None and (found.available or found.account is not None):
        # accounts of another customer than the one picked are not reported (customer=form.customer)
        suggestion = found.for_appeal(account_linked=form.account is not None)
    with transaction.atomic():
        appeal = actions.register_appeal(
            actor=user, classified_by=ClassifiedBy.OPERATOR, suggestion=suggestion, **kwargs
        )
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
