"""E-mail notices through a real SMTP server on loopback (aiosmtpd) started by the test."""

from __future__ import annotations

from django.core import mail

from okno.notify.transports.base import Message
from okno.notify.transports.email import EmailTransport
from okno.notify.transports.registry import get_transport
from tests.notify.conftest_transports import free_port, smtp_inbox  # noqa: F401

UNSUBSCRIBE = "https://okno.example/notify/unsubscribe/tok123/"


def letter(notice_id: int = 7, to: str = "ivanov@example.ru") -> Message:
    return Message(
        notice_id=notice_id,
        channel="email",
        recipient=to,
        subject="Плановое отключение 25.11.2026",
        body="25.11.2026 с 09:00 до 17:00 не будет электроэнергии по адресу ул. Садовая, 5.",
        html="<p>25.11.2026 с 09:00 до 17:00 <b>не будет</b> электроэнергии.</p>",
        headers={
            "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def test_a_notice_arrives_with_text_html_and_one_click_unsubscribe_headers(smtp_inbox, settings):  # noqa: F811
    settings.NOTIFY_EMAIL_FROM = "Okno <outages@okno.example>"
    transport = get_transport("email")
    result = transport.send(letter())
    transport.close()
    assert result.ok
    (received,) = smtp_inbox.messages
    assert received["To"] == "ivanov@example.ru"
    assert received["From"] == "Okno <outages@okno.example>"
    assert received["Subject"].strip() == "Плановое отключение 25.11.2026"  # a folded encoded word
    assert received["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_body(("plain",)).get_content().strip().startswith("25.11.2026 с 09:00 до 17:00")
    assert "<b>не будет</b>" in received.get_body(("html",)).get_content()
    # The Message-ID is the provider id, and names the notice for tracing bounces.
    assert received["Message-ID"] == result.provider_id
    assert result.provider_id.startswith("<") and ".notice-7@" in result.provider_id


def test_one_smtp_session_carries_many_letters(smtp_inbox, monkeypatch):  # noqa: F811
    import smtplib

    opened = []
    real_init = smtplib.SMTP.__init__

    def counting_init(self, *args, **kwargs):
        opened.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "__init__", counting_init)
    transport = EmailTransport()
    results = [transport.send(letter(notice_id=i, to=f"user{i}@example.ru")) for i in range(5)]
    transport.close()
    assert all(r.ok for r in results)
    assert len({r.provider_id for r in results}) == 5
    assert len(smtp_inbox.messages) == 5
    assert len(opened) == 1


def test_a_refused_connection_is_a_retryable_failure(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    result = EmailTransport().send(letter())
    assert (result.ok, result.retryable) == (False, True)
    assert "Refused" in result.error or "refused" in result.error


def test_a_550_recipient_rejection_is_permanent_and_the_next_letter_still_goes(smtp_inbox):  # noqa: F811
    smtp_inbox.rejected.add("nobody@example.ru")
    transport = EmailTransport()
    refused = transport.send(letter(to="nobody@example.ru"))
    accepted = transport.send(letter(to="ivanov@example.ru"))
    transport.close()
    assert (refused.ok, refused.retryable) == (False, False)
    assert refused.error.startswith("recipient refused: 550")
    assert accepted.ok
    assert [env[1] for env in smtp_inbox.envelopes] == [["ivanov@example.ru"]]


def test_a_4xx_recipient_deferral_is_retryable(smtp_inbox, monkeypatch):  # noqa: F811
    async def greylist(server, session, envelope, address, rcpt_options):
        return "451 4.7.1 Greylisted, try again later"

    monkeypatch.setattr(smtp_inbox, "handle_RCPT", greylist)
    result = EmailTransport().send(letter())
    assert (result.ok, result.retryable) == (False, True)
    assert "451" in result.error


def test_in_development_the_same_path_writes_to_django_s_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = get_transport("email").send(letter())
    assert result.ok
    (sent,) = mail.outbox
    assert sent.extra_headers["Message-ID"] == result.provider_id
    assert sent.alternatives[0][1] == "text/html"
