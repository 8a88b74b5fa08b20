"""Web routes of the outages app (operator UI)."""

from django.urls import include, path

from okno.outages.web import dispatch, reliability, topology

app_name = "outages"
urlpatterns = [
    path("", dispatch.board, name="board"),
    path("new/", dispatch.register, name="register"),
    path("plan/", dispatch.register, {"planned": True}, name="plan"),
    path("waiting/", dispatch.waiting, name="waiting"),
    path("<int:pk>/", dispatch.outage_card, name="outage"),
    path("reliability/", reliability.reliability, name="reliability"),
    path("reliability/export.csv", reliability.reliability_csv, name="reliability_csv"),
    path("", include(topology.urlpatterns)),
]
