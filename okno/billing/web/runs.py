"""Web routes: runs."""

urlpatterns: list = []
