"""The outbound campaigns' pages, included in ``okno.contact_center.urls`` (namespace ``cc``)."""

from django.urls import path

from okno.contact_center import campaign_views as views

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/targets.csv", views.campaign_csv, name="campaign_csv"),
    path("campaigns/<int:pk>/<slug:action>/", views.campaign_action, name="campaign_action"),
]
