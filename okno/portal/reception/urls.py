"""Routes of the internet reception (namespace ``reception``, mounted at ``/reception/``)."""

from django.urls import path

from okno.portal.reception import forms, views

app_name = "reception"
urlpatterns = [
    path("", views.index, name="index"),
    path("question/", views.form_view(forms.QuestionForm), name="question"),
    path("appeal/", views.form_view(forms.AppealForm), name="appeal"),
    path("quality/", views.form_view(forms.QualityComplaintForm), name="quality_complaint"),
    path("theft/", views.form_view(forms.TheftForm), name="theft"),
    path("no-power/", views.no_power, name="no_power"),
    path(
        "connection/individual/",
        views.form_view(forms.ConnectionIndividualForm),
        name="connection_individual",
    ),
    path("connection/legal/", views.form_view(forms.ConnectionLegalForm), name="connection_legal"),
    path("metering/", views.form_view(forms.MeteringForm), name="metering"),
    path("reissue/", views.form_view(forms.ReissueForm), name="reissue"),
    path("done/<str:token>/", views.done, name="done"),
]
