from django.http import HttpResponse
from django.urls import path

app_name = "appeals"
urlpatterns = [
    path("queue/", lambda r: HttpResponse("queue"), name="my_queue"),
]
