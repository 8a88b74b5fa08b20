"""API routes: readings."""

urlpatterns: list = []
