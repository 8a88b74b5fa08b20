"""Web routes of the appeals registry."""

from django.urls import path

from okno.appeals import views

app_name = "appeals"
urlpatterns = [
    path("queue/", views.my_queue, name="my_queue"),
    path("queue/department/", views.department_queue, name="department_queue"),
    path("appeals/new/", views.register, name="register"),
    path("appeals/new/candidates/", views.candidates_fragment, name="candidates"),
    path("appeals/new/suggest/", views.suggestion_fragment, name="suggest"),
    path("appeals/<int:pk>/", views.appeal_detail, name="detail"),
    path("appeals/<int:pk>/do/<slug:action>/", views.appeal_action, name="action"),
    path("appeals/<int:pk>/answers/<int:answer_pk>/pdf/", views.answer_pdf, name="answer_pdf"),
    path("appeals/<int:pk>/attachments/<int:att_pk>/", views.attachment_download, name="attachment"),
]
