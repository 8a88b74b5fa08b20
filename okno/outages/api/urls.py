"""API routes of outages and the grid under ``/api/v1/``, one module per area.

``outages/at`` comes before the outages router: its detail route ``outages/<pk>/`` would take "at".
"""

from django.urls import include, path

from okno.outages.api import lookup, outages

urlpatterns = [
    path("", include(lookup.urlpatterns)),
    path("", include(outages.router.urls)),
]
