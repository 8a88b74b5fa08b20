"""Open311 GeoReport v2, included at ``/open311/v2/`` by ``okno.urls``."""

from django.urls import path

from okno.appeals.open311 import views

app_name = "open311"
urlpatterns = [
    path("services.json", views.services, name="services"),
    path("requests.json", views.requests_json, name="requests"),
    path("requests/<str:number>.json", views.request_detail, name="request"),
]
