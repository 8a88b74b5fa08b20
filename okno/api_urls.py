"""The HTTP API: OpenAPI schema and docs, and version 1 under ``/api/v1/`` (namespace ``api``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from okno.core.api_views import AccessLogViewSet, ChangeLogViewSet

audit = SimpleRouter()
audit.register("audit/access", AccessLogViewSet, basename="audit-access")
audit.register("audit/changes", ChangeLogViewSet, basename="audit-change")

v1_patterns = [
    path("", include("okno.appeals.api.urls")),
    path("", include("okno.customers.api.urls")),
    path("", include("okno.org.api.urls")),
    path("", include("okno.billing.api.urls")),
    path("", include("okno.outages.api.urls")),
    path("", include("okno.notify.api.urls")),
    path("", include("okno.assistant.api.urls")),
    *audit.urls,
]

urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(),
        name="schema",
    ),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("v1/", include((v1_patterns, "api"), namespace="api")),
]
