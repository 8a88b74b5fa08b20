"""E-mail intake: MIME messages into appeals, replies threaded by the registration number, auto-replies
and bounces ignored; the IMAP loop against a loopback IMAP4rev1 server (tests/assistant/imap_server.py)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.core.management import call_command

from okno.appeals.models import Appeal, AppealEvent, Attachment
from okno.assistant import suggest
from okno.assistant.intake import email as intake
from okno.assistant.intake.imap import ImapConfig, poll_once
from okno.assistant.models import IntakeMessage
from okno.customers.models import ContactEvent
from tests.assistant.imap_server import ImapServer

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
REAL_CLASSIFY = suggest._classify
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    """The classifier's guess is not under test here: the defaults, whatever model is installed."""
    monkeypatch.setattr(suggest, "_classify", lambda text, out: None)


def letter(
    *,
    sender="Пётр Иванов <ivanov@example.ru>",
    subject="Вопрос по счёту",
    text="Здравствуйте! Прошу пересчитать начисления за январь.",
    mid="<m1@example.ru>",
    html=None,
    files=(),
    headers=None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "appeals@okno.test"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0300"
    if mid:
        msg["Message-ID"] = mid
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, data, maintype, subtype in files:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def auto_reply() -> bytes:
    return letter(
        sender="Пётр Иванов <ivanov@example.ru>",
        subject="Out of office: Обращение зарегистрировано",
        text="I am away until Monday.",
        mid="<auto@example.ru>",
        headers={"Auto-Submitted": "auto-replied"},
    )


def bounce() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.ru>"
    msg["To"] = "appeals@okno.test"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Message-ID"] = "<bounce@mx.example.ru>"
    msg.set_content("This is the mail system. Your message could not be delivered.")
    status = EmailMessage()
    status.set_content("Reporting-MTA: dns; mx.example.ru\n\nFinal-Recipient: rfc822; nobody@example.ru\n")
    msg.make_mixed()
    msg.set_type("multipart/report")
    msg.set_param("report-type", "delivery-status")
    msg.attach(status)
    return msg.as_bytes()


def test_a_letter_becomes_an_appeal_of_the_customer_with_its_pdf(customers):
    raw = letter(files=[("счёт.pdf", PDF, "application", "pdf")])

    result = intake.process_message(raw)

    assert result.outcome == "appeal"
    appeal = result.appeal
    assert (appeal.channel, appeal.kind, appeal.topic) == ("email", "info_request", "other")
    assert (appeal.customer, appeal.account) == (customers.ivanov, customers.acc_ivanov)
    assert appeal.contact_email == "ivanov@example.ru"
    assert appeal.preferred_answer_channel == "email"
    assert appeal.text == "Вопрос по счёту\n\nЗдравствуйте! Прошу пересчитать начисления за январь."
    att = Attachment.objects.get(appeal=appeal)
    assert (att.name, att.content_type, att.size) == ("счёт.pdf", "application/pdf", len(PDF))
    assert IntakeMessage.objects.get(message_id="<m1@example.ru>").outcome == "appeal"


def test_refused_files_are_listed_and_the_appeal_is_still_registered(customers):
    raw = letter(
        files=[("virus.exe", EXE, "application", "octet-stream"), ("ok.pdf", PDF, "application", "pdf")]
    )

    result = intake.process_message(raw)

    assert result.outcome == "appeal"
    assert result.refused == [
        "virus.exe: Files of this type are not accepted (PDF, images, text and office documents are)."
    ]
    assert list(Attachment.objects.filter(appeal=result.appeal).values_list("name", flat=True)) == ["ok.pdf"]
    note = AppealEvent.objects.get(appeal=result.appeal, type="comment").reason
    assert note.startswith("Files of the e-mail that were not accepted:\nvirus.exe:")


def test_unknown_sender_is_the_contact_and_html_is_stripped(org):
    msg = EmailMessage()
    msg["From"] = "Мария <maria@example.org>"
    msg["Subject"] = "Свет"
    msg["Message-ID"] = "<html-only@example.org>"
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Нет&nbsp;света</p>"
        "<script>alert('x')</script><p>ул. Ленина, 10 &lt;b&gt;</p></body></html>",
        subtype="html",
    )

    result = intake.process_message(msg.as_bytes())

    appeal = result.appeal
    assert appeal.customer is None
    assert (appeal.contact_email, appeal.contact_name) == ("maria@example.org", "Мария")
    assert appeal.text == "Свет\n\nНет света\n\nул. Ленина, 10 ‹b›"
    assert "alert" not in appeal.text and "color" not in appeal.text


def test_plain_text_is_preferred_and_an_empty_one_falls_back_to_html():
    both = letter(text="Простой текст", html="<p>HTML-текст</p>")
    empty_plain = letter(text=" ", html="<p>HTML-текст</p>")

    assert intake.parse(both)[1].text == "Простой текст"
    assert intake.parse(empty_plain)[1].text == "HTML-текст"


def test_a_reply_with_the_number_is_threaded_into_that_appeal(register, customers):
    existing = register()
    before = Appeal.objects.count()
    raw = letter(
        subject=f"Re: Обращение № {existing.number}",
        text="Свет так и не дали, прилагаю фото счётчика.",
        mid="<reply@example.ru>",
        files=[("акт.pdf", PDF, "application", "pdf")],
    )

    result = intake.process_message(raw)

    assert (result.outcome, result.appeal) == ("threaded", existing)
    assert Appeal.objects.count() == before
    comment = AppealEvent.objects.get(appeal=existing, type="comment").reason
    assert comment == (
        f"E-mail from ivanov@example.ru: Re: Обращение № {existing.number}\n\n"
        "Свет так и не дали, прилагаю фото счётчика."
    )
    assert Attachment.objects.get(appeal=existing).name == "акт.pdf"
    assert ContactEvent.objects.filter(
        customer=customers.ivanov, summary__startswith=f"E-mail on appeal {existing.number}"
    ).exists()


def test_a_reply_from_a_stranger_does_not_touch_the_appeal(register):
    existing = register()

    result = intake.process_message(
        letter(sender="someone@evil.example", subject=f"Re: {existing.number}", mid="<x@evil.example>")
    )

    assert result.outcome == "appeal" and result.appeal != existing
    assert not AppealEvent.objects.filter(appeal=existing, type="comment").exists()


def test_a_disagreeing_reply_reopens_an_answered_appeal(register, org):
    from okno.appeals import actions

    existing = register()
    actions.answer_appeal(existing, actor=org.specialist_a1, text="Свет восстановлен.", channel="phone")
    existing.refresh_from_db()
    assert existing.status in ("answered", "closed")

    intake.process_message(
        letter(subject=f"Re: Обращение № {existing.number}", text="Я не согласен с ответом.", mid="<d@x>")
    )

    existing.refresh_from_db()
    assert existing.status == "in_progress"
    assert AppealEvent.objects.filter(appeal=existing, type="reopened").exists()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (auto_reply(), "auto-reply"),
        (letter(mid="<p@x>", headers={"Precedence": "bulk"}), "auto-reply"),
        (letter(mid="<a@x>", headers={"X-Autoreply": "yes"}), "auto-reply"),
        (letter(mid="<r@x>", subject="Автоответ: в отпуске"), "auto-reply"),
        (bounce(), "bounce"),
        (letter(mid="<pm@x>", sender="postmaster@example.ru"), "bounce"),
    ],
)
def test_auto_replies_and_bounces_are_ignored(org, raw, reason):
    result = intake.process_message(raw)

    assert (result.outcome, result.reason) == ("ignored", reason)
    assert not Appeal.objects.exists()


def test_each_message_is_processed_once(customers):
    raw = letter()

    first = intake.process_message(raw)
    second = intake.process_message(raw)
    no_id = letter(mid=None, subject="Без Message-ID")
    third, fourth = intake.process_message(no_id), intake.process_message(no_id)

    assert [r.outcome for r in (first, second, third, fourth)] == [
        "appeal",
        "duplicate",
        "appeal",
        "duplicate",
    ]
    assert Appeal.objects.count() == 2


def test_imap_mailbox_of_four_messages(register, customers, tmp_path):
    existing = register()
    before = Appeal.objects.count()
    messages = [
        letter(files=[("счёт.pdf", PDF, "application", "pdf")]),
        letter(
            subject=f"Re: Обращение № {existing.number}", text="Дополняю обращение.", mid="<r@example.ru>"
        ),
        auto_reply(),
        bounce(),
    ]
    with ImapServer("appeals", 'p@ss "word"', messages) as server:
        cfg = ImapConfig(
            host="127.0.0.1", port=server.port, user="appeals", password='p@ss "word"', use_ssl=False
        )

        counts = poll_once(cfg)
        again = poll_once(cfg)

        assert counts == {"appeal": 1, "threaded": 1, "ignored": 2}
        assert again == {}
        assert all("\\Seen" in m.flags for m in server.messages)
        assert any("BODY.PEEK[]" in line for line in server.log)

    assert Appeal.objects.count() == before + 1
    new = Appeal.objects.exclude(pk=existing.pk).get()
    assert (new.channel, new.customer) == ("email", customers.ivanov)
    assert Attachment.objects.filter(appeal=new).count() == 1
    assert AppealEvent.objects.filter(appeal=existing, type="comment").count() == 1
    assert IntakeMessage.objects.filter(outcome="ignored").count() == 2

    # Marked unseen again by another client: recognised by Message-ID, nothing added.
    for m in server.messages:
        m.flags.clear()
    pw = tmp_path / "pw"
    pw.write_text('p@ss "word"\n')
    with ImapServer("appeals", 'p@ss "word"', messages) as server2:
        call_command(
            "intake", "imap", "--host", "127.0.0.1", "--port", str(server2.port), "--user", "appeals",
            "--password-file", str(pw), "--no-ssl", "--once",
        )  # fmt: skip
        assert all("\\Seen" in m.flags for m in server2.messages)
    assert Appeal.objects.count() == before + 1
    assert AppealEvent.objects.filter(appeal=existing, type="comment").count() == 1


def test_imap_wrong_password_is_an_error(org):
    import imaplib

    with ImapServer("appeals", "right", [letter()]) as server:
        cfg = ImapConfig(host="127.0.0.1", port=server.port, user="appeals", password="wrong", use_ssl=False)
        with pytest.raises(imaplib.IMAP4.error):
            poll_once(cfg)
        assert "\\Seen" not in server.messages[0].flags


def test_the_poll_job_does_nothing_unless_configured(settings):
    from okno.assistant import tasks

    settings.ASSISTANT_IMAP_HOST = ""
    assert tasks.imap_poll() == {"configured": 0}


def test_the_classifiers_guess_is_used_and_a_failing_one_falls_back(monkeypatch, customers):
    from okno.assistant import nlu

    def sure(kind, topic):
        return lambda text: nlu.Classification(kind, topic, 0.9, 0.9, 0.9, ["слово"])

    monkeypatch.setattr(suggest, "_classify", REAL_CLASSIFY)
    monkeypatch.setattr(suggest, "_supply_problem_confidence", lambda text: None)
    monkeypatch.setattr(nlu, "classify", sure("application", "metering"))
    guessed = intake.process_message(letter(mid="<g1@x>")).appeal
    monkeypatch.setattr(nlu, "classify", sure("complaint", "outage"))
    supply = intake.process_message(letter(mid="<g2@x>", subject="Жалоба")).appeal

    def broken(text):
        raise FileNotFoundError("no model")

    monkeypatch.setattr(nlu, "classify", broken)
    fallback = intake.process_message(letter(mid="<g3@x>", subject="Ещё")).appeal

    assert (guessed.kind, guessed.topic, guessed.classified_by) == ("application", "metering", "assistant")
    assert (guessed.suggested_kind_confidence, guessed.suggestion_reasons) == (0.9, ["слово"])
    # a supply complaint needs place/time/demand the letter does not give: registered as a report
    assert (supply.kind, supply.topic) == ("report", "outage")
    assert (fallback.kind, fallback.topic) == ("info_request", "other")
    assert (fallback.classified_by, fallback.suggested_kind) == ("default", "")
