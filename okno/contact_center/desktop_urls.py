"""The agent desktop and the wallboard, included in ``okno.contact_center.urls`` (namespace ``cc``)."""

from django.urls import path

from okno.contact_center import desktop_views as views

urlpatterns = [
    path("desktop/", views.desktop, name="desktop"),
    path("desktop/state.json", views.state_json, name="desktop_state_json"),
    path("desktop/state/", views.set_state, name="desktop_state"),
    path("desktop/hang-up/", views.hang_up, name="desktop_hang_up"),
    path("desktop/register/", views.register, name="desktop_register"),
    path("desktop/wrap-up/", views.wrap_up, name="desktop_wrap_up"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("wallboard.json", views.wallboard_json, name="wallboard_json"),
]
