"""Web routes: payments."""

urlpatterns: list = []
