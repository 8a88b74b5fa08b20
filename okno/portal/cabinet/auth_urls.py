from django.urls import path

from okno.portal.cabinet import auth_views

urlpatterns = [
    path("login/", auth_views.login_view, name="login"),
]
