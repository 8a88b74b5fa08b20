"""Web routes of metering and billing (namespace ``billing``), one module per area."""

from django.urls import include, path

from okno.billing.web import accounts, debt, invoices, payments, readings, runs

app_name = "billing"
urlpatterns = [
    path("", include(runs.urlpatterns)),
    path("", include(accounts.urlpatterns)),
    path("", include(readings.urlpatterns)),
    path("", include(payments.urlpatterns)),
    path("", include(invoices.urlpatterns)),
    path("", include(debt.urlpatterns)),
]
