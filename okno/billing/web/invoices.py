"""Web routes: an account's invoice as a PDF (built on demand when missing)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from okno.billing.invoices import invoice_pdf, invoice_period
from okno.core.audit import log_access
from okno.customers.models import Account


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def invoice_pdf_view(request: HttpRequest, number: str, period: str) -> HttpResponse:
    if not request.user.has_okno_perm("invoice.view"):  # type: ignore[union-attr]
        raise PermissionDenied
    account = get_object_or_404(
        Account.objects.restrict(request.user, "view").select_related("service_point__branch"), number=number
    )
    try:
        # A malformed period or one after the current month (no bill yet): not found.
        day = invoice_period(account, period)
    except ValueError as error:
        raise Http404(str(error)) from None
    invoice, pdf = invoice_pdf(account, day)
    log_access(
        actor=request.user,
        customer_id=account.customer_id,
        context_name="ui:invoice",
        remote_addr=request.META.get("REMOTE_ADDR") or None,
    )
    return pdf_response(pdf, f"{invoice.number}.pdf")


urlpatterns = [
    path("accounts/<str:number>/invoices/<str:period>.pdf", invoice_pdf_view, name="invoice_pdf"),
]
