"""Web routes: invoices."""

urlpatterns: list = []
