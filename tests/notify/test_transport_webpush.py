"""Web push: the loopback push service decrypts the body with the subscriber's private key and checks
the VAPID JWT with the server's public key, so encryption and signing are proven, not just exercised.

The decryption here is written independently of okno's encryption (cryptography's HKDF class instead of
okno's HMAC steps), and RFC 8291 Appendix A's published example is reproduced octet for octet.
"""

from __future__ import annotations

import json
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.management import call_command

from okno.notify.transports import webpush as wp
from okno.notify.transports.base import Message
from okno.notify.transports.registry import get_transport
from tests.notify.conftest_transports import free_port, http_receiver  # noqa: F401


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decrypt(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth: bytes) -> tuple[bytes, int]:
    """The subscriber's side of RFC 8291/8188: (plaintext, record size)."""
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_public, ciphertext = body[21 : 21 + idlen], body[21 + idlen :]
    ua_public = wp.public_key_bytes(ua_private.public_key())
    shared = ua_private.exchange(
        ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    )
    ikm = _hkdf(auth, shared, b"WebPush: info\x00" + ua_public + as_public, 32)
    cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    assert len(ciphertext) <= rs
    padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
    unpadded = padded.rstrip(b"\x00")
    assert unpadded.endswith(b"\x02"), "the last record ends with the 0x02 delimiter"
    return unpadded[:-1], rs


def verify_vapid(authorization: str, endpoint_origin: str, vapid_public: str) -> dict:
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    assert values["k"] == vapid_public
    header_b64, claims_b64, signature_b64 = values["t"].split(".")
    assert json.loads(wp.b64url_decode(header_b64)) == {"typ": "JWT", "alg": "ES256"}
    signature = wp.b64url_decode(signature_b64)
    assert len(signature) == 64
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), wp.b64url_decode(values["k"]))
    public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims = json.loads(wp.b64url_decode(claims_b64))
    assert claims["aud"] == endpoint_origin
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    return claims


class Browser:
    """A subscriber: its own key pair and auth secret, subscribed at ``endpoint``."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"0123456789abcdef"
        self.endpoint = endpoint

    def subscription(self) -> str:
        return json.dumps(
            {
                "endpoint": self.endpoint,
                "keys": {
                    "p256dh": wp.b64url_encode(wp.public_key_bytes(self.key.public_key())),
                    "auth": wp.b64url_encode(self.auth),
                },
            }
        )


@pytest.fixture
def vapid():
    return wp.generate_vapid_keys()


def push(browser: Browser, body: str = "Свет отключён, восстановим до 18:00", **extra) -> Message:
    return Message(
        notice_id=42,
        channel="push",
        recipient=browser.subscription(),
        subject="Отключение электроэнергии",
        body=body,
        extra={"url": "https://okno.example/outages/17/", **extra},
    )


def test_the_push_service_receives_a_body_only_the_subscriber_can_decrypt(http_receiver, vapid):  # noqa: F811
    browser = Browser(f"{http_receiver.url}/push/v1/abc")
    transport = wp.WebPushTransport(
        vapid_private_key=vapid["private_key"],
        subject="mailto:ops@okno.example",
        allow_private_endpoints=True,
    )
    result = transport.send(push(browser, ttl=3600))
    assert result.ok and result.provider_id == "/m/1"
    (request,) = http_receiver.requests
    assert request.path == "/push/v1/abc"
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.headers["TTL"] == "3600"
    assert request.headers["Urgency"] == "normal"
    plaintext, rs = decrypt(request.body, browser.key, browser.auth)
    assert rs == 4096
    assert json.loads(plaintext) == {
        "title": "Отключение электроэнергии",
        "body": "Свет отключён, восстановим до 18:00",
        "url": "https://okno.example/outages/17/",
        "tag": "notice-42",
        "notice_id": 42,
    }
    claims = verify_vapid(request.headers["Authorization"], http_receiver.url, vapid["public_key"])
    assert claims["sub"] == "mailto:ops@okno.example"


def test_another_key_cannot_decrypt_and_a_forged_jwt_does_not_verify(http_receiver, vapid):  # noqa: F811
    browser = Browser(f"{http_receiver.url}/push/x")
    wp.WebPushTransport(
        vapid_private_key=vapid["private_key"], subject="mailto:a@b.c", allow_private_endpoints=True
    ).send(push(browser))
    body = http_receiver.requests[0].body
    stranger = Browser(browser.endpoint)
    with pytest.raises(Exception):  # noqa: B017 (AESGCM raises InvalidTag; any failure is the point)
        decrypt(body, stranger.key, browser.auth)
    other = wp.generate_vapid_keys()
    forged = (
        http_receiver.requests[0].headers["Authorization"].replace(vapid["public_key"], other["public_key"])
    )
    with pytest.raises(InvalidSignature):
        verify_vapid(forged, http_receiver.url, other["public_key"])


def test_rfc_8291_appendix_a_example_is_reproduced():
    subscription = wp.Subscription(
        endpoint="https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
        p256dh=wp.b64url_decode(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
        ),
        auth=wp.b64url_decode("BTBZMqHH6r4Tts7J_aSIgg"),
    )
    body = wp.encrypt(
        b"When I grow up, I want to be a watermelon",
        subscription,
        salt=wp.b64url_decode("DGv6ra1nlYgDCS1FRnbzlw"),
        sender_key=wp.load_private_key("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"),
    )
    assert wp.b64url_encode(body) == (
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8w"
        "EqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    )


@pytest.mark.parametrize(
    ("status", "retryable", "gone"),
    [
        (404, False, True),
        (410, False, True),
        (400, False, False),
        (413, False, False),
        (429, True, False),
        (503, True, False),
    ],
)
def test_push_service_answers_map_to_outcomes(http_receiver, vapid, status, retryable, gone):  # noqa: F811
    http_receiver.answer(status, {"Retry-After": "120"} if status == 429 else {}, b"nope")
    transport = wp.WebPushTransport(
        vapid_private_key=vapid["private_key"], subject="mailto:a@b.c", allow_private_endpoints=True
    )
    result = transport.send(push(Browser(f"{http_receiver.url}/p")))
    assert (result.ok, result.retryable, result.gone) == (False, retryable, gone)
    assert str(status) in result.error
    if status == 429:
        assert "Retry-After: 120" in result.error


def test_an_unreachable_push_service_is_retryable(vapid):
    transport = wp.WebPushTransport(
        vapid_private_key=vapid["private_key"],
        subject="mailto:a@b.c",
        allow_private_endpoints=True,
        timeout=2,
    )
    result = transport.send(push(Browser(f"http://127.0.0.1:{free_port()}/p")))
    assert (result.ok, result.retryable) == (False, True)


def test_a_broken_subscription_fails_for_good_without_a_request(http_receiver, vapid):  # noqa: F811
    transport = wp.WebPushTransport(
        vapid_private_key=vapid["private_key"], subject="mailto:a@b.c", allow_private_endpoints=True
    )
    bad = Message(notice_id=1, channel="push", recipient='{"endpoint": "x"}', subject="", body="")
    assert transport.send(bad).retryable is False
    assert http_receiver.requests == []


def test_a_long_body_is_shortened_to_fit_one_4096_octet_record(http_receiver, vapid):  # noqa: F811
    browser = Browser(f"{http_receiver.url}/p")
    transport = wp.WebPushTransport(
        vapid_private_key=vapid["private_key"], subject="mailto:a@b.c", allow_private_endpoints=True
    )
    assert transport.send(push(browser, body="Ж" * 5000)).ok
    body = http_receiver.requests[0].body
    assert len(body) <= 4096
    plaintext, _ = decrypt(body, browser.key, browser.auth)
    payload = json.loads(plaintext)
    assert payload["body"].endswith("…") and len(plaintext) <= wp.MAX_PLAINTEXT


def test_emergency_notices_go_with_high_urgency_and_a_topic(http_receiver, vapid):  # noqa: F811
    transport = wp.WebPushTransport(
        vapid_private_key=vapid["private_key"], subject="mailto:a@b.c", allow_private_endpoints=True
    )
    transport.send(push(Browser(f"{http_receiver.url}/p"), emergency=True, topic="outage-17"))
    headers = http_receiver.requests[0].headers
    assert (headers["Urgency"], headers["Topic"]) == ("high", "outage-17")


def test_pem_and_raw_vapid_keys_are_the_same_key(vapid):
    raw = wp.load_private_key(vapid["private_key"])
    pem = wp.load_private_key(vapid["private_key_pem"])
    assert raw.private_numbers() == pem.private_numbers()
    with pytest.raises(ValueError):
        wp.load_private_key("c2hvcnQ")


def test_the_registry_uses_the_configured_vapid_key(http_receiver, vapid, settings):  # noqa: F811
    settings.NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = vapid["private_key"]
    settings.NOTIFY_WEBPUSH_SUBJECT = "mailto:push@okno.example"
    transport = get_transport("push")
    assert isinstance(transport, wp.WebPushTransport)
    assert transport.send(push(Browser(f"{http_receiver.url}/p"))).ok
    verify_vapid(http_receiver.requests[0].headers["Authorization"], http_receiver.url, vapid["public_key"])


def test_vapid_keys_command_prints_a_working_pair(capsys):
    call_command("notify", "vapid-keys")
    out = capsys.readouterr().out
    private = out.split("NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY=")[1].split()[0]
    public = out.split("applicationServerKey for browsers): ")[1].split()[0]
    assert wp.b64url_encode(wp.public_key_bytes(wp.load_private_key(private).public_key())) == public


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://push.example.com/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://[::1]/x",
        "https://169.254.169.254/x",
    ],
)
def test_in_production_endpoints_in_private_networks_are_refused(vapid, endpoint):
    """Subscriptions come from the public site: the server must not be steered into its own network."""
    transport = wp.WebPushTransport(vapid_private_key=vapid["private_key"], subject="mailto:a@b.c")
    result = transport.send(push(Browser(endpoint)))
    assert (result.ok, result.retryable) == (False, False)


def test_redirects_are_not_followed(http_receiver, vapid):  # noqa: F811
    http_receiver.answer(302, {"Location": f"{http_receiver.url}/internal"})
    transport = wp.WebPushTransport(
        vapid_private_key=vapid["private_key"], subject="mailto:a@b.c", allow_private_endpoints=True
    )
    result = transport.send(push(Browser(f"{http_receiver.url}/p")))
    assert (result.ok, result.retryable) == (False, False)
    assert [r.path for r in http_receiver.requests] == ["/p"]
