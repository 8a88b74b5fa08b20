"""The project's URLs with the contact centre mounted at /cc/ (for tests, until the lead mounts it)."""

from django.urls import include, path

from okno.urls import urlpatterns as project

urlpatterns = [
    path("cc/", include("okno.contact_center.urls")),
    *[p for p in project if "cc/" not in str(p.pattern)],
]
