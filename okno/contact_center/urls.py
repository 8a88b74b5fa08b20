"""Staff pages of the contact centre, mounted at ``/cc/`` (namespace ``cc``).

Other parts of the contact centre add their own url modules here with one
``path("", include("okno.contact_center.<area>_urls"))`` line in ``urlpatterns``.
"""

from django.urls import include, path

from okno.contact_center import views_line

app_name = "cc"

urlpatterns = [
    path("line/", views_line.line_start, name="line"),
    path("line/<uuid:uid>/", views_line.line_call, name="line_call"),
    path("", include("okno.contact_center.desktop_urls")),
    path("", include("okno.contact_center.stats_urls")),
    path("", include("okno.contact_center.campaign_urls")),
]
