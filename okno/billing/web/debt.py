"""Web routes: debt."""

urlpatterns: list = []
