"""Routes of the public site, the internet reception's forms, the personal cabinet and the kiosk.

Mounted at the root by ``okno.urls``: ``/`` is the public home (staff who are signed in go on to their
queue), ``/reception/`` the forms, ``/cabinet/`` the personal cabinet, ``/kiosk/`` the office terminal.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("okno.portal.site.urls")),
    path("reception/", include("okno.portal.reception.urls")),
    path("cabinet/", include("okno.portal.cabinet.urls")),
    path("kiosk/", include("okno.portal.kiosk.urls")),
]
