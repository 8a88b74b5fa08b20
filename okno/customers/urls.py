"""Web routes of the customer pages."""

from django.urls import path

from okno.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.search, name="search"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
]
