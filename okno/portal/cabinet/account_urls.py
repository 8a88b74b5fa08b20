"""Routes of the cabinet's money and meters (namespace ``cabinet``): the dashboard, an account, its
invoices, a reading, paying and the simulated acquirer."""

from django.urls import path

from okno.portal.cabinet import account_views

urlpatterns = [
    path("", account_views.dashboard, name="dashboard"),
    path("accounts/<int:account_id>/", account_views.account_view, name="account"),
    path(
        "accounts/<int:account_id>/invoices/<int:invoice_id>/pdf/",
        account_views.invoice_pdf_view,
        name="invoice_pdf",
    ),
    path("accounts/<int:account_id>/reading/", account_views.reading_view, name="reading"),
    path("accounts/<int:account_id>/pay/", account_views.pay_view, name="pay"),
    path("pay/sim/<slug:token>/", account_views.pay_sim, name="pay_sim"),
    path("pay/<slug:token>/return/", account_views.pay_return, name="pay_return"),
]
