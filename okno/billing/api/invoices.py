"""API routes: invoices."""

urlpatterns: list = []
