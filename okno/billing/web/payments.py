"""Web routes: the office cash desk and its receipt, an account's payments, the queue of unidentified
payments with manual matching, and the upload of bank registries."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from okno.billing import ledger, payments
from okno.billing.models import PayeeDetails, Payment, PaymentAllocation, PaymentRegistry, rub
from okno.billing.periods import parse_period
from okno.billing.web.common import account_for
from okno.core.access import require_perm
from okno.customers.models import Account
from okno.customers.numbers import normalize_account_number

MAX_REGISTRY_BYTES = 50 * 1024 * 1024


def _with_allocations(qs: QuerySet[Payment]) -> QuerySet[Payment]:
    return qs.select_related("account", "cashier", "registry").prefetch_related(
        Prefetch("allocations", queryset=PaymentAllocation.objects.order_by("period", "id"))
    )


# --- forms -------------------------------------------------------------------------------------


class CashierForm(forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("Amount, ₽"), max_length=20, help_text=gettext_lazy("E.g. 1500.00 or 1500,00.")
    )
    period = forms.CharField(
        label=gettext_lazy("Period paid for"),
        required=False,
        help_text=gettext_lazy("YYYY-MM; empty: the oldest debt first."),
    )
    payer = forms.CharField(label=gettext_lazy("Payer"), required=False, max_length=200)

    def clean_amount(self) -> int:
        try:
            return payments.parse_amount(self.cleaned_data["amount"])
        except (ValueError, ArithmeticError):
            raise forms.ValidationError(
                _("Give a positive amount in roubles, at most two decimals.")
            ) from None

    def clean_period(self):
        text = self.cleaned_data["period"].strip()
        if not text:
            return None
        try:
            return parse_period(text)
        except ValueError:
            raise forms.ValidationError(_("Give the period as YYYY-MM.")) from None


class MatchForm(forms.Form):
    account = forms.CharField(label=gettext_lazy("Account number"), max_length=40)


class RegistryForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Registry file"),
        help_text=gettext_lazy("CSV lines date;account;amount;period;payment_id, UTF-8 or Windows-1251."),
    )
    bank = forms.CharField(label=gettext_lazy("Bank"), required=False, max_length=100)


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- cash desk ---------------------------------------------------------------------------------


@login_required
def cashier(request: HttpRequest, number: str) -> HttpResponse:
    require_perm(request.user, "payment.add")
    account = account_for(request, number, "ui:payments")
    form = CashierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = payments.register_payment(
                amount_kop=data["amount"],
                paid_on=timezone.localdate(timezone=account.service_point.branch.tz),
                source=Payment.Source.CASHIER,
                account=account,
                period=data["period"],
                payer=data["payer"],
                actor=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Payment of %(amount)s ₽ taken.") % {"amount": payment.amount})
            return redirect("billing:payment_receipt", pk=payment.pk)
    today = timezone.localdate(timezone=account.service_point.branch.tz)
    balance_kop = ledger.balance_kop(account.pk)
    debts = [
        {"period": d.period, "due_date": d.due_date, "open": rub(d.open_kop)}
        for d in ledger.period_debts(account.pk, today)
        if d.open_kop > 0
    ]
    return render(
        request,
        "billing/payments/cashier.html",
        {
            "account": account,
            "form": form,
            "balance_kop": balance_kop,
            "balance": rub(abs(balance_kop)),
            "debts": debts,
        },
    )


@login_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "payment.view")
    payment = get_object_or_404(_with_allocations(Payment.objects.restrict(request.user, "view")), pk=pk)
    account = payment.account
    balance = None
    if account is not None:
        balance = rub(ledger.balance_kop(account.pk))
    payee = PayeeDetails.for_branch(account.service_point.branch_id if account else None)
    return render(
        request,
        "billing/payments/receipt.html",
        {"payment": payment, "account": account, "balance": balance, "payee": payee},
    )


@login_required
def account_payments(request: HttpRequest, number: str) -> HttpResponse:
    require_perm(request.user, "payment.view")
    account = account_for(request, number, "ui:payments")
    qs = _with_allocations(Payment.objects.restrict(request.user, "view").filter(account=account))
    page = Paginator(qs.order_by("-paid_on", "-id"), 100).get_page(request.GET.get("page"))
    return render(request, "billing/payments/account.html", {"account": account, "page": page})


# --- unidentified payments ---------------------------------------------------------------------


@login_required
def unidentified(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "payment.match")
    qs = _with_allocations(
        Payment.objects.restrict(request.user, "view").filter(status=Payment.Status.UNIDENTIFIED)
    ).order_by("paid_on", "id")
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(request, "billing/payments/unidentified.html", {"page": page, "form": MatchForm()})


@login_required
@require_POST
def match(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "payment.match")
    payment = get_object_or_404(Payment.objects.restrict(request.user, "view"), pk=pk)
    form = MatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the account number."))
        return redirect("billing:payments_unidentified")
    number = normalize_account_number(form.cleaned_data["account"])
    account = Account.objects.restrict(request.user, "view").filter(number=number).first()
    if account is None:
        messages.error(request, _("Account %(n)s not found.") % {"n": number})
        return redirect("billing:payments_unidentified")
    try:
        payments.match_payment(payment, account=account, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Payment of %(amount)s ₽ matched to account %(n)s.") % {"amount": payment.amount, "n": account},
        )
    return redirect("billing:payments_unidentified")


# --- registries --------------------------------------------------------------------------------


@login_required
def payment_registry(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "payment.import")
    form = RegistryForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_REGISTRY_BYTES:
            form.add_error("file", _("The file is larger than 50 MB."))
        else:
            try:
                registry = payments.import_registry(
                    data=upload.read(), name=upload.name, actor=request.user, bank=form.cleaned_data["bank"]
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                if getattr(registry, "repeated", False):
                    messages.warning(request, _("This file was imported before; nothing was added."))
                else:
                    messages.success(
                        request,
                        _(
                            "%(n)s payments accepted, %(u)s unidentified, %(d)s duplicates, %(r)s lines rejected."
                        )
                        % {
                            "n": registry.accepted,
                            "u": registry.unidentified,
                            "d": registry.duplicates,
                            "r": registry.rejected,
                        },
                    )
                return redirect("billing:payment_registry_detail", pk=registry.pk)
    recent = PaymentRegistry.objects.select_related("imported_by").order_by("-imported_at")[:30]
    return render(request, "billing/payments/registry.html", {"form": form, "recent": recent})


@login_required
def payment_registry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "payment.import")
    registry = get_object_or_404(PaymentRegistry.objects.select_related("imported_by"), pk=pk)
    return render(request, "billing/payments/registry_detail.html", {"registry": registry})


urlpatterns = [
    path("accounts/<str:number>/pay/", cashier, name="cashier"),
    path("accounts/<str:number>/payments/", account_payments, name="account_payments"),
    path("payments/<int:pk>/receipt/", receipt, name="payment_receipt"),
    path("payments/unidentified/", unidentified, name="payments_unidentified"),
    path("payments/<int:pk>/match/", match, name="payment_match"),
    path("payments/registries/", payment_registry, name="payment_registry"),
    path("payments/registries/<int:pk>/", payment_registry_detail, name="payment_registry_detail"),
]
