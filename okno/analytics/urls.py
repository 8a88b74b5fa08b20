"""Web routes of the analytics app (included under ``/reports/``)."""

from django.urls import path

from okno.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.report, name="report"),
    path("export/<str:table>.<str:fmt>", views.export, name="export"),
]
