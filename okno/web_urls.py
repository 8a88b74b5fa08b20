"""Routes of the operator web UI (server-rendered pages)."""

from django.urls import include, path

urlpatterns = [
    path("", include("okno.appeals.urls")),
    path("customers/", include("okno.customers.urls")),
    path("audit/", include("okno.core.urls")),
    path("billing/", include("okno.billing.urls")),
    path("dispatch/", include("okno.outages.urls")),
    path("notify/", include("okno.notify.urls")),
    path("cc/", include("okno.contact_center.urls")),
]

try:
    import okno.analytics.urls  # noqa: F401  (the reports app may not be there yet)
except ImportError:  # pragma: no cover
    pass
else:
    urlpatterns.append(path("reports/", include("okno.analytics.urls")))
