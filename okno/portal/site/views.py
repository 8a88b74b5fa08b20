"""Pages of the public site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def home(request: HttpRequest) -> HttpResponse:
    """The public home; a signed-in staff member goes on to their queue."""
    user = request.user
    if user.is_authenticated and not getattr(user, "is_system", False):
        return redirect("appeals:my_queue")
    return render(request, "portal/site/home.html", {})
