"""The statistics page and its downloads, included in ``okno.contact_center.urls`` (namespace ``cc``)."""

from django.urls import path

from okno.contact_center import stats_views as views

urlpatterns = [
    path("stats/", views.stats_page, name="stats"),
    path("stats/queue_log", views.queue_log_download, name="stats_queue_log"),
]
