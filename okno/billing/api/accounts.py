"""API routes: accounts."""

urlpatterns: list = []
