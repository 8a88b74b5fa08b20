"""The client's real address behind a proxy, request id and acting user for the audit trail."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from okno.core import context

_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` from a proxy when it is well-formed, otherwise makes one; echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        with context.request_id(incoming if _RID.match(incoming) else None) as rid:
            request.request_id = rid  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


class ActorMiddleware:
    """Attributes changes made while serving a request to the authenticated user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # Token-authenticated API users are resolved later by DRF; actions pass actor explicitly.
        with context.acting_as(user if user is not None and user.is_authenticated else None):
            return self.get_response(request)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    """Addresses and CIDRs (``10.0.0.1``, ``10.0.0.0/8``, ``::1``) as networks; a bad one raises ValueError."""
    return [ipaddress.ip_network(str(v).strip(), strict=False) for v in values if str(v).strip()]


def in_networks(address: str, networks: list[Network]) -> bool:
    """Whether ``address`` is an IP address inside one of ``networks`` (false for anything malformed)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks if net.version == ip.version)


class TrustedProxyMiddleware:
    """Put the client's real address into ``REMOTE_ADDR`` when the request came through our proxy.

    Only when the direct peer (``REMOTE_ADDR``) is in ``OKNO_TRUSTED_PROXIES`` (addresses or CIDRs):
    ``X-Forwarded-For`` is read from the right, skipping our own proxies, and the first address that
    is not one of them becomes ``REMOTE_ADDR`` (the original peer is kept in ``OKNO_PROXY_ADDR``).
    Whatever a client writes to the left of that is ignored, so the header cannot be forged to dodge
    the per-IP limits. With no trusted proxies (the default) nothing changes. nginx must *append*:
    ``proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`` (docs/deployment.md).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = parse_networks(getattr(settings, "OKNO_TRUSTED_PROXIES", []) or [])

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        if self.trusted and peer and in_networks(peer, self.trusted):
            client = self.client_address(request.META.get("HTTP_X_FORWARDED_FOR", ""))
            if client:
                request.META["OKNO_PROXY_ADDR"] = peer
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)

    def client_address(self, header: str) -> str | None:
        """The right-most address of ``X-Forwarded-For`` that is not a trusted proxy, or ``None``."""
        for part in reversed([p.strip() for p in header.split(",")[-32:]]):
            try:
                ip = ipaddress.ip_address(part)
            except ValueError:
                return None  # a malformed hop: trust nothing further left, keep the proxy's address
            if not in_networks(str(ip), self.trusted):
                return str(ip)
        return None
