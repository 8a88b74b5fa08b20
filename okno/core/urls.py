"""Web routes of the audit pages."""

from django.urls import path

from okno.core import views

app_name = "core"
urlpatterns = [
    path("access/", views.access_log, name="access_log"),
    path("changes/", views.change_log, name="change_log"),
]
