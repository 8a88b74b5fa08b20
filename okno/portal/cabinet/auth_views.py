"""Sign-up, login, logout and password reset of the personal cabinet."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def login_view(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/cabinet/login.html", {})
