"""Web routes: readings."""

urlpatterns: list = []
