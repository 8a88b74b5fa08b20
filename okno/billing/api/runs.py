"""API routes: runs."""

urlpatterns: list = []
