"""API routes: debt."""

urlpatterns: list = []
