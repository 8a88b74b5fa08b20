from django.urls import path

from okno.portal.site import views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
]
