"""Web routes: accounts."""

urlpatterns: list = []
