"""API routes: payments."""

urlpatterns: list = []
