"""The ``push`` transport: Web Push (RFC 8030) with aes128gcm payload encryption (RFC 8291, RFC 8188)
and VAPID authentication (RFC 8292), written on ``cryptography`` and ``urllib`` alone.

The recipient is the browser's PushSubscription as JSON::

    {"endpoint": "https://push.example/…", "keys": {"p256dh": "<base64url>", "auth": "<base64url>"}}

The payload is JSON ``{"title", "body", "url", "tag", "notice_id"}`` for the service worker to show.
Outcomes: 201 (or any 2xx) → sent, ``provider_id`` = the Location of the push message resource; 404/410 →
permanent, ``gone=True`` (the subscription expired: the caller retires it); other 4xx → permanent (a request
that will not get better by repeating it); 429/5xx and network errors → retryable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import struct
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from okno.notify.transports.base import Message, SendResult

RECORD_SIZE = 4096
TAG_LENGTH = 16
HEADER_LENGTH = 16 + 4 + 1 + 65  # salt, rs, idlen, keyid (the sender's uncompressed P-256 point)
# One record only (RFC 8291 §4): plaintext + delimiter + tag fit in rs, and push services cap the body at
# 4096 octets, so the plaintext gets at most 4096 - 86 - 16 - 1 = 3993 octets.
MAX_PLAINTEXT = RECORD_SIZE - HEADER_LENGTH - TAG_LENGTH - 1
URGENCIES = ("very-low", "low", "normal", "high")
JWT_LIFETIME = 12 * 3600  # RFC 8292 §2: no more than 24 hours


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA-256 (RFC 5869) for outputs up to one hash length, as every Web Push key is."""
    prk = _hmac(salt, ikm)
    return _hmac(prk, info + b"\x01")[:length]


def public_key_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: bytes  # the user agent's public key, 65 octets
    auth: bytes  # the authentication secret, 16 octets

    @classmethod
    def from_json(cls, value: str | dict[str, Any]) -> Subscription:
        """Parse a PushSubscription (JSON text or dict); ValueError if it is not one."""
        try:
            data = json.loads(value) if isinstance(value, str) else value
            endpoint = str(data["endpoint"])
            keys = data["keys"]
            p256dh, auth = b64url_decode(keys["p256dh"]), b64url_decode(keys["auth"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a push subscription: {exc}") from exc
        if urlsplit(endpoint).scheme not in ("https", "http") or not urlsplit(endpoint).netloc:
            raise ValueError("push endpoint must be an http(s) URL")
        if len(p256dh) != 65 or p256dh[0] != 4:
            raise ValueError("p256dh must be an uncompressed P-256 point (65 octets)")
        if len(auth) < 16:
            raise ValueError("auth secret must be 16 octets")
        return cls(endpoint, p256dh, auth)


def encrypt(
    plaintext: bytes,
    subscription: Subscription,
    *,
    salt: bytes | None = None,
    sender_key: ec.EllipticCurvePrivateKey | None = None,
) -> bytes:
    """The aes128gcm body for ``plaintext`` (RFC 8291 §3.4 key derivation, RFC 8188 §2 framing)."""
    if len(plaintext) > MAX_PLAINTEXT:
        raise ValueError(f"push payload of {len(plaintext)} octets exceeds {MAX_PLAINTEXT}")
    salt = salt or os.urandom(16)
    sender_key = sender_key or ec.generate_private_key(ec.SECP256R1())
    ua_public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), subscription.p256dh)
    as_public = public_key_bytes(sender_key.public_key())
    ecdh_secret = sender_key.exchange(ec.ECDH(), ua_public)
    key_info = b"WebPush: info\x00" + subscription.p256dh + as_public
    ikm = _hkdf(subscription.auth, ecdh_secret, key_info, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    # A single, last record: the data, the 0x02 delimiter, no further padding (RFC 8188 §2).
    record = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)
    header = salt + struct.pack(">I", RECORD_SIZE) + bytes((len(as_public),)) + as_public
    return header + record


# -- VAPID ---------------------------------------------------------------------------------------------


def load_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    """A VAPID private key from PEM text or the base64url raw 32-octet scalar that most tools print."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(value.encode("ascii"), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("VAPID key must be a P-256 EC private key")
        return key
    raw = b64url_decode(value)
    if len(raw) != 32:
        raise ValueError("VAPID private key must be PEM or 32 octets in base64url")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def generate_vapid_keys() -> dict[str, str]:
    """A fresh VAPID key pair: ``private_key`` (base64url scalar), ``public_key`` (applicationServerKey)."""
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return {
        "private_key": b64url_encode(scalar),
        "public_key": b64url_encode(public_key_bytes(key.public_key())),
        "private_key_pem": pem,
    }


def vapid_authorization(
    endpoint: str, key: ec.EllipticCurvePrivateKey, subject: str, *, now: float | None = None
) -> str:
    """``vapid t=<JWT>, k=<public key>`` for a push endpoint (RFC 8292 §2-3): ES256, aud = its origin."""
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int((now if now is not None else time.time()) + JWT_LIFETIME),
        "sub": subject,
    }
    header = {"typ": "JWT", "alg": "ES256"}
    signing_input = (
        b64url_encode(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    )
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS ES256 is R || S, not DER
    token = f"{signing_input}.{b64url_encode(signature)}"
    return f"vapid t={token}, k={b64url_encode(public_key_bytes(key.public_key()))}"


# -- the transport -----------------------------------------------------------------------------------------


def check_public_endpoint(url: str) -> None:
    """Refuse an endpoint that is not https or that resolves into a private, loopback or link-local network.

    Why: subscriptions come from browsers on the public site, so an endpoint is attacker-chosen; without
    this check the server could be made to POST into its own network (SSRF). Push services never live
    there. Raises ValueError (permanent) or OSError (the name did not resolve: retry later). Redirects are
    not followed either (see :class:`_NoRedirect`).
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("push endpoint must be an https URL")
    for info in socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise ValueError(f"push endpoint {parts.hostname} resolves to a non-public address {address}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Push services answer, they do not redirect; a redirect is treated as the failure it is."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


@dataclass(frozen=True)
class PushRequest:
    """What would go over the wire: the endpoint, headers and encrypted body."""

    url: str
    headers: dict[str, str]
    body: bytes


def payload_for(message: Message) -> bytes:
    """The JSON the service worker receives; the body is shortened to fit into one record."""
    data = {
        "title": message.subject,
        "body": message.body,
        "url": str(message.extra.get("url", "")),
        "tag": str(message.extra.get("tag", f"notice-{message.notice_id}")),
        "notice_id": message.notice_id,
    }

    def encoded(body: str) -> bytes:
        return json.dumps({**data, "body": body}, ensure_ascii=False).encode("utf-8")

    body = str(data["body"])
    raw = encoded(body)
    if len(raw) <= MAX_PLAINTEXT:
        return raw
    low, high = (
        0,
        len(body),
    )  # the longest prefix that fits with "…": binary search, octets vary per character
    while low < high:
        middle = (low + high + 1) // 2
        if len(encoded(body[:middle].rstrip() + "…")) <= MAX_PLAINTEXT:
            low = middle
        else:
            high = middle - 1
    raw = encoded(body[:low].rstrip() + "…")
    if len(raw) > MAX_PLAINTEXT:
        raise ValueError("push title and URL alone exceed the payload limit")
    return raw


class WebPushTransport:
    channel = "push"

    def __init__(
        self,
        *,
        vapid_private_key: str | ec.EllipticCurvePrivateKey,
        subject: str,
        ttl: int = 86400,
        urgency: str = "normal",
        timeout: float = 10.0,
        allow_private_endpoints: bool = False,
    ) -> None:
        self.key = (
            vapid_private_key
            if isinstance(vapid_private_key, ec.EllipticCurvePrivateKey)
            else load_private_key(vapid_private_key)
        )
        if urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {URGENCIES}")
        self.subject = subject
        self.ttl = ttl
        self.urgency = urgency
        self.timeout = timeout
        self.allow_private_endpoints = allow_private_endpoints
        self._opener = urllib.request.build_opener(_NoRedirect)

    @property
    def public_key(self) -> str:
        return b64url_encode(public_key_bytes(self.key.public_key()))

    def build(self, message: Message) -> PushRequest:
        """The encrypted, signed request for a message (ValueError: not a usable subscription)."""
        subscription = Subscription.from_json(message.recipient)
        body = encrypt(payload_for(message), subscription)
        urgency = str(
            message.extra.get("urgency") or ("high" if message.extra.get("emergency") else self.urgency)
        )
        if urgency not in URGENCIES:
            urgency = self.urgency
        headers = {
            "Authorization": vapid_authorization(subscription.endpoint, self.key, self.subject),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(int(message.extra.get("ttl", self.ttl))),
            "Urgency": urgency,
        }
        topic = message.extra.get("topic")
        if topic:  # RFC 8030 §5.4: a newer message with the same topic replaces an undelivered one
            headers["Topic"] = str(topic)[:32]
        return PushRequest(subscription.endpoint, headers, body)

    def send(self, message: Message) -> SendResult:
        try:
            request = self.build(message)
            if not self.allow_private_endpoints:
                check_public_endpoint(request.url)
        except ValueError as exc:
            return SendResult(ok=False, retryable=False, error=str(exc))
        except OSError as exc:  # the endpoint's name did not resolve: perhaps a DNS hiccup
            return SendResult(ok=False, retryable=True, error=f"push endpoint unresolvable: {exc}")
        http = urllib.request.Request(request.url, data=request.body, headers=request.headers, method="POST")  # noqa: S310 (endpoint validated as http(s))
        try:
            with self._opener.open(http, timeout=self.timeout) as response:
                return SendResult(ok=True, provider_id=response.headers.get("Location", "") or "")
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace")
            error = f"push service answered {exc.code}: {detail}".strip()
            if exc.code in (404, 410):
                return SendResult(ok=False, retryable=False, gone=True, error=error)
            if exc.code == 429 or exc.code >= 500:
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after:
                    error += f" (Retry-After: {retry_after})"
                return SendResult(ok=False, retryable=True, error=error)
            return SendResult(ok=False, retryable=False, error=error)
        except (urllib.error.URLError, OSError) as exc:
            return SendResult(ok=False, retryable=True, error=f"push service unreachable: {exc}")

    def close(self) -> None:
        pass
