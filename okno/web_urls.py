from django.urls import include, path

urlpatterns = [
    path("", include("okno.appeals.urls")),
]
