"""The client's real address behind our reverse proxy (okno.core.middleware.TrustedProxyMiddleware)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from okno.core.middleware import TrustedProxyMiddleware
from okno.org.api.permissions import client_ip


def seen(settings, remote, xff=None, trusted=("10.0.0.1", "192.168.0.0/16")):
    settings.OKNO_TRUSTED_PROXIES = list(trusted)
    got = {}

    def view(request):
        got["ip"] = client_ip(request)
        got["proxy"] = request.META.get("OKNO_PROXY_ADDR")
        return HttpResponse()

    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    TrustedProxyMiddleware(view)(RequestFactory().get("/", **extra))
    return got["ip"], got["proxy"]


@pytest.mark.parametrize(
    ("remote", "xff", "expected"),
    [
        ("10.0.0.1", "203.0.113.7", "203.0.113.7"),
        # A client's forged addresses stay to the left of the one our proxy appended.
        ("10.0.0.1", "1.1.1.1, 2.2.2.2, 203.0.113.7", "203.0.113.7"),
        # Through two of our proxies.
        ("10.0.0.1", "203.0.113.7, 192.168.5.5", "203.0.113.7"),
        ("10.0.0.1", "2001:db8::1", "2001:db8::1"),
        # Not from a trusted proxy: the header is ignored.
        ("203.0.113.9", "1.1.1.1", "203.0.113.9"),
        # No header, a garbage hop, only proxies: the peer's address stays.
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "1.1.1.1, not-an-ip", "10.0.0.1"),
        ("10.0.0.1", "192.168.1.1", "10.0.0.1"),
    ],
)
def test_the_right_most_untrusted_address_is_the_client(settings, remote, xff, expected):
    assert seen(settings, remote, xff)[0] == expected


def test_the_proxy_address_is_kept(settings):
    assert seen(settings, "10.0.0.1", "203.0.113.7") == ("203.0.113.7", "10.0.0.1")


def test_no_trusted_proxies_changes_nothing(settings):
    assert seen(settings, "10.0.0.1", "203.0.113.7", trusted=()) == ("10.0.0.1", None)


def test_the_middleware_is_installed(settings):
    assert settings.MIDDLEWARE[0] == "okno.core.middleware.TrustedProxyMiddleware"
