"""Routes of the cabinet's appeals and notification settings (names in the ``cabinet`` namespace)."""

from django.urls import path

from okno.portal.cabinet import appeal_views, settings_views

urlpatterns = [
    path("appeals/", appeal_views.appeal_list, name="appeals"),
    path("appeals/new/", appeal_views.appeal_new, name="appeal_new"),
    path("appeals/<int:pk>/", appeal_views.appeal_detail, name="appeal"),
    path(
        "appeals/<int:pk>/files/<int:att_pk>/",
        appeal_views.attachment_download,
        name="appeal_attachment",
    ),
    path("settings/", settings_views.settings_page, name="settings"),
]
