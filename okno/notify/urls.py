"""Web routes of notifications (under ``/notify/``)."""

from django.urls import path

from okno.notify import outbox, views

app_name = "notify"
urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("customers/<int:pk>/", views.customer_subscriptions, name="customer_subscriptions"),
    path("log/", views.delivery_log, name="log"),
    path("outbox/", outbox.outbox, name="outbox"),
]
