"""Every form of the internet reception is a channel: it registers an appeal through the action."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from okno.appeals.choices import EventType
from okno.appeals.models import Appeal, Attachment
from tests.portal.reception.conftest import (
    REGISTERS,
    VALID,
    WITH_FILES,
    data_for,
    html_as_pdf,
    pdf,
)

pytestmark = pytest.mark.django_db
FORMS = list(VALID)


def post(client, name, data, **extra):
    return client.post(reverse(f"reception:{name}"), data, **extra)


@pytest.mark.parametrize("name", FORMS)
def test_every_form_renders_with_labels_and_a_hidden_honeypot(client, org, name):
    response = client.get(reverse(f"reception:{name}"))
    assert response.status_code == 200
    html = response.content.decode()
    for field_id in re.findall(r'<(?:input|textarea|select)[^>]*\bid="(id_[a-z_]+)"', html):
        if field_id.startswith("id_building"):
            continue
        assert f'for="{field_id}"' in html, f"{field_id} has no label"
    hp = re.search(r'<div class="honeypot" aria-hidden="true">.*?</div>', html, re.S).group(0)
    assert 'name="website"' in hp and 'tabindex="-1"' in hp and 'autocomplete="off"' in hp
    assert "lang=" in html


@pytest.mark.parametrize("name", FORMS)
def test_form_registers_a_web_appeal_shows_number_and_deadline_and_sends_the_ack(
    client, org, customers, name, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, name, data_for(name))
    assert response.status_code == 302, response.content.decode()[:3000]
    appeal = Appeal.objects.get()
    kind, topic = REGISTERS[name]
    assert (appeal.channel, appeal.kind, appeal.topic) == ("web", kind, topic)
    assert appeal.registered_by.username == "system:web"
    assert appeal.contact_email == "ivanov@example.ru"
    assert appeal.contact_phone == "+79123456789"
    assert appeal.branch == org.a  # the address typed resolved to branch A's grid district
    assert appeal.events.filter(type=EventType.COMMENT, reason__icontains="consent").exists()
    # The acknowledgement e-mail job ran on commit.
    assert len(mail.outbox) == 1
    assert appeal.number in mail.outbox[0].subject
    assert mail.outbox[0].to == ["ivanov@example.ru"]

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert appeal.number in html
    deadline = timezone.localtime(appeal.deadline_at, org.a.tz)
    assert f"{deadline:%d.%m.%Y %H:%M}" in html
    assert "Europe/Moscow" in html


def test_question_text_and_typed_address_are_stored_as_typed(client, org, customers):
    post(client, "question", data_for("question"))
    appeal = Appeal.objects.get()
    assert appeal.text == VALID["question"]["text"]
    assert appeal.address_text == "Северск, ул. Ленина, 10"
    assert appeal.address is not None and appeal.address.house == "10"
    assert appeal.preferred_answer_channel == "email"
    assert appeal.account_id is None and appeal.customer_id is None  # a public form links no account


def test_quality_complaint_keeps_the_fields_the_market_rules_require(client, org, customers):
    post(client, "quality_complaint", data_for("quality_complaint"))
    appeal = Appeal.objects.get()
    assert appeal.contract_number == "Д-1001"
    assert appeal.violation_place == "Северск, ул. Ленина, 10"
    # 19:30 typed is the wall-clock time at the address (branch A, Moscow).
    assert timezone.localtime(appeal.violation_at, org.a.tz).strftime("%d.%m.%Y %H:%M") == "20.11.2026 19:30"
    assert appeal.demand.startswith("Проверить напряжение")
    assert "Voltage too low" in appeal.text and "Лампы горят вполнакала" in appeal.text


def test_connection_application_text_carries_capacity_voltage_and_category(client, org, customers):
    post(client, "connection_legal", data_for("connection_legal"))
    text = Appeal.objects.get().text
    for expected in ("ПАО Сбербанк", "7707083893", "1027700132195", "250", "10 kV", "II", "Промышленная"):
        assert expected in text
    Appeal.objects.all().delete()
    post(client, "connection_individual", data_for("connection_individual"))
    assert "Maximum capacity, kW: 12.5" in Appeal.objects.get().text


@pytest.mark.parametrize(
    ("name", "overrides", "field"),
    [
        ("question", {"text": ""}, "text"),
        ("question", {"contact_email": "", "contact_phone": ""}, "contact_email"),
        ("question", {"contact_phone": "12"}, "contact_phone"),
        ("question", {"consent": ""}, "consent"),
        ("appeal", {"contact_name": ""}, "contact_name"),
        ("quality_complaint", {"problem": ""}, "problem"),
        ("quality_complaint", {"contract_number": ""}, "contract_number"),
        ("quality_complaint", {"violation_at": "2099-01-01T10:00"}, "violation_at"),
        ("theft", {"address": ""}, "address"),
        ("no_power", {"address": ""}, "address"),
        ("connection_individual", {"capacity": "40"}, "capacity"),
        ("connection_individual", {"capacity": "0"}, "capacity"),
        ("connection_individual", {"inn": "123456789012"}, "inn"),
        ("connection_legal", {"inn": "7707083894"}, "inn"),
        ("connection_legal", {"ogrn": "1027700132194"}, "ogrn"),
        ("connection_legal", {"ogrn": "304500116000157"}, "ogrn"),
        ("metering", {"service": "paint"}, "service"),
        ("metering", {"account_number": "1234"}, "account_number"),
        ("reissue", {"document": ""}, "document"),
    ],
)
def test_field_errors_answer_400_keep_the_values_and_point_at_the_field(
    client, org, customers, name, overrides, field
):
    response = post(client, name, data_for(name, **overrides))
    assert response.status_code == 400
    assert not Appeal.objects.exists()
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error"', html), "the error is not linked"
    assert 'aria-invalid="true"' in html
    # What was typed stays in the form.
    assert "Иванов Пётр Сергеевич" in html or name == "appeal"


def test_legal_entity_with_entrepreneur_ogrn_is_refused(client, org, customers):
    response = post(client, "connection_legal", data_for("connection_legal", ogrn="304500116000157"))
    assert "An organisation has a 10-digit INN and a 13-digit OGRN" in response.content.decode()


def test_text_over_ten_thousand_characters_gets_a_clear_error(client, org, customers):
    response = post(client, "question", data_for("question", text="я" * 10_001))
    assert response.status_code == 400
    assert "at most 10000 characters are accepted (it has 10001)" in response.content.decode()
    assert not Appeal.objects.exists()
    assert post(client, "question", data_for("question", text="я" * 10_000)).status_code == 302


def test_hostile_text_is_stored_as_typed_and_shown_escaped(client, org, customers):
    hostile = "<script>alert('x')</script> Электроэнергия ЕЕЕ with Latin Е and Cyrillic Е"
    response = post(client, "question", data_for("question", text=hostile, consent=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    post(client, "question", data_for("question", text=hostile))
    assert Appeal.objects.get().text == hostile


@pytest.mark.parametrize("name", sorted(WITH_FILES))
def test_files_are_attached_in_the_same_registration(client, org, customers, name):
    data = data_for(name)
    data["attachments"] = [pdf("one.pdf"), pdf("two.pdf")]
    assert post(client, name, data).status_code == 302
    appeal = Appeal.objects.get()
    assert sorted(appeal.attachments.values_list("name", flat=True)) == ["one.pdf", "two.pdf"]
    assert set(appeal.attachments.values_list("uploaded_by__username", flat=True)) == {"system:web"}


@pytest.mark.parametrize("name", sorted(WITH_FILES))
def test_html_disguised_as_pdf_leaves_no_appeal(
    client, org, customers, name, django_capture_on_commit_callbacks
):
    data = data_for(name)
    data["attachments"] = [pdf("good.pdf"), html_as_pdf("scan.pdf")]
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, name, data)
    assert response.status_code == 400
    assert "scan.pdf: Files of this type are not accepted" in response.content.decode()
    assert not Appeal.objects.exists()
    assert not Attachment.objects.exists()
    assert mail.outbox == []


def test_more_than_five_files_are_refused(client, org, customers):
    data = data_for("appeal")
    data["attachments"] = [pdf(f"{i}.pdf") for i in range(6)]
    response = post(client, "appeal", data)
    assert response.status_code == 400
    assert "At most 5 files can be attached." in response.content.decode()
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("name", FORMS)
def test_a_filled_honeypot_pretends_success_and_saves_nothing(client, org, customers, name):
    response = post(client, name, data_for(name, website="http://spam.example"))
    assert response.status_code == 200
    assert "Your message has been received." in response.content.decode()
    assert not Appeal.objects.exists()
    assert mail.outbox == []


def test_registrations_over_the_limit_per_ip_get_429_across_forms(client, org, customers, settings):
    settings.OKNO_RECEPTION_LIMIT = 3
    assert post(client, "question", data_for("question")).status_code == 302
    assert post(client, "theft", data_for("theft")).status_code == 302
    assert post(client, "metering", data_for("metering")).status_code == 302
    response = post(client, "appeal", data_for("appeal"))
    assert response.status_code == 429
    assert "Too many forms have been sent from your network" in response.content.decode()
    assert Appeal.objects.count() == 3
    # Another address is not limited.
    assert post(client, "question", data_for("question"), REMOTE_ADDR="10.0.0.9").status_code == 302


def test_anonymous_theft_report_needs_no_contacts_and_no_consent(client, org, customers):
    data = {**VALID["theft"]}
    response = post(client, "theft", data)
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.contact_name == "Anonymous"
    assert appeal.contact_email == appeal.contact_phone == ""
    assert not appeal.events.filter(type=EventType.COMMENT).exists()  # no consent was needed
    assert mail.outbox == []
    assert appeal.number in client.get(response["Location"]).content.decode()


def test_theft_report_with_contacts_needs_consent(client, org, customers):
    response = post(client, "theft", {**VALID["theft"], "contact_phone": "+79123456789"})
    assert response.status_code == 400
    assert 'id="id_consent_error"' in response.content.decode()


def test_done_page_needs_a_valid_signed_token(client, org, customers):
    response = post(client, "question", data_for("question"))
    location = response["Location"]
    appeal = Appeal.objects.get()
    assert client.get(location).status_code == 200
    token = location.rstrip("/").rsplit("/", 1)[-1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(reverse("reception:done", args=[tampered])).status_code == 404
    assert client.get(reverse("reception:done", args=[str(appeal.pk)])).status_code == 404
    # A token for another id cannot be made without the secret key.
    from django.core import signing

    forged = signing.dumps({"a": appeal.pk}, salt="another-salt", compress=True)
    assert client.get(reverse("reception:done", args=[forged])).status_code == 404


def test_done_token_expires(client, org, customers, monkeypatch):
    from okno.portal.reception import views

    response = post(client, "question", data_for("question"))
    monkeypatch.setattr(views, "DONE_MAX_AGE_S", -1)
    assert client.get(response["Location"]).status_code == 404


def test_index_lists_every_form(client, org):
    html = client.get(reverse("reception:index")).content.decode()
    for name in FORMS:
        assert reverse(f"reception:{name}") in html


def test_address_not_in_the_directory_is_routed_by_its_settlement(client, org, customers):
    response = post(client, "question", data_for("question", address="Восточный, ул. Новая, 99"))
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.address is None
    assert appeal.branch == org.b
    assert appeal.address_text == "Восточный, ул. Новая, 99"
    # The done page shows the deadline in branch B's zone (Yekaterinburg), not the site's (Moscow).
    html = client.get(response["Location"]).content.decode()
    deadline = timezone.localtime(appeal.deadline_at, org.b.tz)
    assert f"{deadline:%d.%m.%Y %H:%M}" in html
    assert "Asia/Yekaterinburg" in html


def test_form_works_in_russian(client, org, customers, settings):
    from django.utils import translation

    with translation.override("ru"):
        response = client.get(reverse("reception:quality_complaint"), HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200


def test_appeal_form_complaint_about_supply_asks_for_the_fields_the_rules_require(client, org, customers):
    data = data_for("appeal", kind_choice="complaint", topic_choice="power_quality", address="")
    response = post(client, "appeal", data)
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("contract_number", "address", "violation_at", "demand"):
        assert f'id="id_{field}_error"' in html, field
    assert not Appeal.objects.exists()
    data.update(
        address="Северск, ул. Ленина, 10",
        contract_number="Д-1001",
        violation_at="2026-11-20T08:00",
        demand="Восстановить напряжение",
    )
    assert post(client, "appeal", data).status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.topic, appeal.violation_place) == (
        "complaint",
        "power_quality",
        data["address"],
    )


def test_a_request_body_far_over_the_limit_is_refused_before_it_is_read(client, org, customers, settings):
    settings.OKNO_RECEPTION_MAX_TOTAL_BYTES = 1024
    data = data_for("appeal")
    data["attachments"] = [pdf("big.pdf")]
    response = post(client, "appeal", data, CONTENT_LENGTH=str(3 * 1024 * 1024))
    assert response.status_code == 413
    assert "the files together may be at most" in response.content.decode()
    assert not Appeal.objects.exists()


def test_files_over_the_quota_stop_the_upload_while_it_is_read(client, org, customers, settings):
    settings.OKNO_RECEPTION_MAX_TOTAL_BYTES = 200
    data = data_for("theft")
    data["attachments"] = [pdf("a.pdf"), pdf("b.pdf"), pdf("c.pdf")]
    response = post(client, "theft", data)
    assert response.status_code == 413
    assert not Appeal.objects.exists()


def test_the_forms_check_the_csrf_token(org, customers):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("reception:question"), data_for("question")).status_code == 403
    assert not Appeal.objects.exists()
