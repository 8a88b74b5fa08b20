"""Routes of the public site (namespace ``site``, mounted at ``/``)."""

from django.urls import path

from okno.portal.site import views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("territory/", views.territory, name="territory"),
    path("structure/", views.structure, name="structure"),
    path("services/", views.services, name="services"),
    path("services/<slug:slug>/", views.service, name="service"),
    path("documents/", views.documents, name="documents"),
    path("documents/<int:pk>/file/", views.document_file, name="document_file"),
    path("individuals/", views.individuals, name="individuals"),
    path("legal-entities/", views.legal, name="legal"),
    path("reissue/", views.reissue, name="reissue"),
    path("power-quality/", views.quality, name="quality"),
    path("theft/", views.theft, name="theft"),
    path("contacts/", views.contacts, name="contacts"),
    path("tariffs/", views.tariffs, name="tariffs"),
    path("forms/", views.forms_page, name="forms"),
    path("faq/", views.faq, name="faq"),
]
