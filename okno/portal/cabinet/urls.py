"""Routes of the personal cabinet: sign-up and login, money and meters, appeals and settings."""

from django.urls import include, path

app_name = "cabinet"
urlpatterns = [
    path("", include("okno.portal.cabinet.auth_urls")),
    path("", include("okno.portal.cabinet.account_urls")),
    path("", include("okno.portal.cabinet.appeal_urls")),
]
