from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("outages/", include("okno.outages.public.urls")),
    path("", include("okno.assistant.web.urls")),
    path("", include("okno.portal.urls")),
    path("", include("okno.web_urls")),
    path("api/", include("okno.api_urls")),
    path("open311/v2/", include("okno.appeals.open311.urls")),
]

if settings.DEBUG:  # pragma: no cover
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
