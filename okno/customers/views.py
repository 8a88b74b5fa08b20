"""Customer pages of the operator UI: search, card (logged as a personal-data access) and a new customer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from okno.core.access import require_perm
from okno.core.audit import log_access
from okno.customers import actions
from okno.customers.forms import CustomerForm
from okno.customers.models import Address, Customer
from okno.customers.queries import search_customers, visible_accounts, visible_history, with_visible_accounts


@login_required
def search(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "customer.view")
    query = request.GET.get("q", "").strip()
    results = search_customers(request.user, query, limit=50) if query else []
    if results:
        ids = [c.pk for c in results]
        by_id = {c.pk: c for c in with_visible_accounts(request.user, Customer.objects.filter(pk__in=ids))}
        results = [by_id[i] for i in ids]
        for c in results:
            log_access(
                actor=request.user,
                customer_id=c.pk,
                context_name="ui:customer-search",
                remote_addr=request.META.get("REMOTE_ADDR") or None,
            )
    return render(request, "customers/search.html", {"query": query, "results": results})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "customer.view")
    customer = get_object_or_404(
        Customer.objects.restrict(request.user, "view").select_related("branch"), pk=pk
    )
    log_access(
        actor=request.user,
        customer_id=customer.pk,
        context_name="ui:customer",
        remote_addr=request.META.get("REMOTE_ADDR") or None,
    )
    accounts = visible_accounts(request.user).filter(customer=customer)
    # Through the reverse relation: customers sit below appeals, so this module does not import them.
    appeal_model = customer.appeals.model
    appeals = (
        appeal_model.objects.restrict(request.user, "view")
        .filter(customer=customer)
        .select_related("branch")
        .order_by("-received_at")[:100]
    )
    history = visible_history(request.user, customer).order_by("-occurred_at", "-id")[:200]
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "contacts": customer.contacts.all(),
            "consents": customer.consents.all(),
            "accounts": accounts,
            "appeals": appeals,
            "history": history,
        },
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "customer.add")
    if request.method == "POST":
        form = CustomerForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                customer = _create(form, request.user)
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
                aliases = {
                    "phones": "phone",
                    "value": "email",
                    "number": "account_number",
                    "address": "grid_district",
                }
                for field, msgs in errors.items():
                    target = aliases.get(field, field)
                    for m in msgs:
                        form.add_error(target if target in form.fields else None, m)
            else:
                messages.success(request, _("Customer %(name)s created.") % {"name": customer.display_name})
                return redirect("customers:detail", pk=customer.pk)
        status = 400
    else:
        form = CustomerForm(user=request.user)
        status = 200
    return render(request, "customers/new.html", {"form": form}, status=status)


def _create(form: CustomerForm, user: object) -> Customer:
    d = form.cleaned_data
    with transaction.atomic():
        customer = actions.create_customer(
            actor=user,
            phones=[d["phone"]] if d.get("phone") else [],
            emails=[d["email"]] if d.get("email") else [],
            **form.customer_fields(),
        )
        if d.get("account_number"):
            district = d["grid_district"]
            address = Address(
                region=d.get("region") or district.branch.region or "—",
                settlement=d["settlement"],
                street=d.get("street") or "",
                house=d.get("house") or "",
                flat=d.get("flat") or "",
                grid_district=district,
            )
            actions.open_account(
                customer=customer,
                number=d["account_number"],
                address=address,
                actor=user,
                contract_number=d.get("contract_number") or "",
            )
    return customer
