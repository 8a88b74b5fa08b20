"""The office terminal at ``/kiosk/`` (namespace ``kiosk``). No route takes an account id: the account
is the one identified in the session (:mod:`okno.portal.kiosk.session`)."""

from django.urls import path

from okno.portal.kiosk import views

app_name = "kiosk"
urlpatterns = [
    path("", views.start, name="start"),
    path("home/", views.home, name="home"),
    path("reading/", views.reading, name="reading"),
    path("invoice/", views.invoice, name="invoice"),
    path("invoice.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("end/", views.end, name="end"),
    path("ping/", views.ping, name="ping"),
]
