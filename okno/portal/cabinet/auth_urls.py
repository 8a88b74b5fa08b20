"""Routes of the cabinet's sign-up, login, password reset, account linking and profile (``cabinet`` namespace)."""

from django.urls import path

from okno.portal.cabinet import auth_views

urlpatterns = [
    path("login/", auth_views.login_view, name="login"),
    path("logout/", auth_views.logout_view, name="logout"),
    path("signup/", auth_views.signup, name="signup"),
    path("signup/verify/", auth_views.signup_verify, name="signup_verify"),
    path("reset/", auth_views.reset, name="reset"),
    path("reset/verify/", auth_views.reset_verify, name="reset_verify"),
    path("accounts/add/", auth_views.add_account, name="add_account"),
    path("accounts/add/verify/", auth_views.add_account_verify, name="add_account_verify"),
    path("profile/", auth_views.profile, name="profile"),
    path("profile/verify/", auth_views.profile_verify, name="profile_verify"),
]
