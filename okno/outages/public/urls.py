"""Public routes (no login) under ``/outages/``: the page and its feeds (namespace ``outages_public``)."""

from django.urls import path

from okno.outages.public import centres, subscribe, views

app_name = "outages_public"
urlpatterns = [
    path("", views.outage_page, name="page"),
    path("feed.json", views.feed_json, name="feed_json"),
    path("feed.rss", views.feed_rss, name="feed_rss"),
    path("power-centres/", centres.power_centres, name="power_centres"),
    path("subscribe/", subscribe.subscribe, name="subscribe"),
]
