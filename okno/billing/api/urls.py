"""API routes of metering and billing under ``/api/v1/``, one module per area."""

from django.urls import include, path

from okno.billing.api import accounts, debt, invoices, payments, readings, runs

urlpatterns = [
    path("", include(runs.urlpatterns)),
    path("", include(accounts.urlpatterns)),
    path("", include(readings.urlpatterns)),
    path("", include(payments.urlpatterns)),
    path("", include(invoices.urlpatterns)),
    path("", include(debt.urlpatterns)),
]
