"""The cabinet's appeals: a new appeal with files, the list, the card, rating and contesting the answer."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.portal.cabinet_appeals.conftest import PDF, html, pdf
from tests.portal.conftest import sign_in

pytestmark = pytest.mark.django_db

NEW = "/cabinet/appeals/new/"


def _post_new(client, customers, **fields):
    data = {
        "account": str(customers.acc_ivanov.pk),
        "kind": "info_request",
        "topic": "billing",
        "text": "Прошу пояснить начисление за октябрь.",
        "preferred_answer_channel": "cabinet",
    }
    data.update(fields)
    return client.post(NEW, data)


def test_new_appeal_is_registered_in_the_cabinet_and_shows_number_and_deadline(cabinet, customers):
    from okno.appeals.models import Appeal

    response = _post_new(cabinet, customers)

    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cabinet:appeal", args=[appeal.pk])
    assert appeal.channel == "cabinet"
    assert appeal.account == customers.acc_ivanov
    assert appeal.customer == customers.ivanov
    assert appeal.registered_by.username == "system:cabinet"
    assert appeal.preferred_answer_channel == "cabinet"
    assert appeal.contact_email == "ivanov@example.ru"
    page = cabinet.get(response["Location"])
    text = page.content.decode()
    deadline = timezone.localtime(appeal.deadline_at, zoneinfo.ZoneInfo("Europe/Moscow"))
    assert f"Appeal {appeal.number} is registered; the answer is due by {deadline:%d.%m.%Y}." in text
    assert f"{deadline:%d.%m.%Y %H:%M}" in text  # the card's deadline, in the branch's zone


def test_new_appeal_form_offers_only_my_accounts(cabinet, customers):
    page = cabinet.get(NEW).content.decode()

    assert customers.acc_ivanov.number in page
    assert customers.acc_romashka.number not in page


def test_new_appeal_on_someone_elses_account_is_refused(cabinet, customers):
    from okno.appeals.models import Appeal

    response = _post_new(cabinet, customers, account=str(customers.acc_romashka.pk))

    assert response.status_code == 400
    assert not Appeal.objects.exists()


def test_new_appeal_with_files_keeps_them_and_serves_them_as_downloads(cabinet, customers):
    from okno.appeals.models import Appeal

    response = cabinet.post(
        NEW,
        {
            "account": str(customers.acc_ivanov.pk),
            "kind": "application",
            "topic": "metering",
            "text": "Прошу заменить счётчик, акт прилагаю.",
            "preferred_answer_channel": "cabinet",
            "attachments": [pdf("act.pdf"), pdf("passport.pdf")],
        },
    )

    assert response.status_code == 302
    appeal = Appeal.objects.get()
    files = list(appeal.attachments.order_by("id"))
    assert [f.name for f in files] == ["act.pdf", "passport.pdf"]
    assert all(f.uploaded_by.username == "system:cabinet" for f in files)
    card = cabinet.get(reverse("cabinet:appeal", args=[appeal.pk])).content.decode()
    assert "act.pdf" in card and "passport.pdf" in card
    download = cabinet.get(reverse("cabinet:appeal_attachment", args=[appeal.pk, files[0].pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert 'filename="act.pdf"' in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF


def test_a_refused_file_leaves_no_appeal_and_no_stored_file(cabinet, customers, settings):
    from pathlib import Path

    from okno.appeals.models import Appeal, AppealCounter, Attachment
    from okno.customers.models import ContactEvent

    media = Path(settings.MEDIA_ROOT)
    before = {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()

    response = cabinet.post(
        NEW,
        {
            "account": str(customers.acc_ivanov.pk),
            "kind": "complaint",
            "topic": "billing",
            "text": "Неверно начислено.",
            "preferred_answer_channel": "cabinet",
            "attachments": [pdf("good.pdf"), html("evil.pdf")],
        },
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "evil.pdf: Files of this type are not accepted" in body
    assert "Неверно начислено." in body  # the typed text is kept
    assert not Appeal.objects.exists()
    assert not Attachment.objects.exists()
    assert not ContactEvent.objects.filter(kind="appeal").exists()
    assert not AppealCounter.objects.filter(last__gt=0).exists()  # no registration number used up
    after = {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()
    assert after == before


def test_more_than_five_files_are_refused(cabinet, customers):
    from okno.appeals.models import Appeal

    response = cabinet.post(
        NEW,
        {
            "account": str(customers.acc_ivanov.pk),
            "kind": "application",
            "topic": "other",
            "text": "Документы.",
            "preferred_answer_channel": "cabinet",
            "attachments": [pdf(f"{i}.pdf") for i in range(6)],
        },
    )

    assert response.status_code == 400
    assert "At most 5 files can be attached." in response.content.decode()
    assert not Appeal.objects.exists()


def test_supply_complaint_needs_time_and_demand_which_are_read_in_the_branch_zone(cabinet, customers):
    from okno.appeals.models import Appeal

    refused = _post_new(cabinet, customers, kind="complaint", topic="outage", text="Нет света уже сутки.")

    assert refused.status_code == 400
    body = refused.content.decode()
    assert "A complaint about supply needs the time of the violation." in body
    assert 'aria-describedby="id_violation_at_helptext id_violation_at_error"' in body
    assert 'aria-invalid="true"' in body
    assert not Appeal.objects.exists()

    done = _post_new(
        cabinet,
        customers,
        kind="complaint",
        topic="outage",
        text="Нет света уже сутки.",
        violation_at="2026-11-20T10:30",
        demand="Восстановить электроснабжение и сделать перерасчёт.",
    )

    assert done.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.violation_at == dt.datetime(2026, 11, 20, 7, 30, tzinfo=dt.UTC)  # 10:30 in Moscow
    assert appeal.violation_place == str(customers.acc_ivanov.service_point.address)


def test_a_draft_is_refilled_after_the_session_expired(client, customers, ivanov_user):
    from tests.portal.conftest import sign_in_long_ago

    sign_in_long_ago(client, ivanov_user)
    response = client.post(
        NEW,
        {
            "account": str(customers.acc_ivanov.pk),
            "kind": "info_request",
            "topic": "billing",
            "text": "Черновик",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("cabinet:login"))

    sign_in(client, ivanov_user)
    page = client.get(NEW).content.decode()

    assert "Черновик</textarea>" in page
    assert "Черновик</textarea>" not in client.get(NEW).content.decode()  # once


def test_list_shows_only_appeals_on_my_accounts(cabinet, customers, register, org):
    from okno.appeals.actions import register_appeal
    from okno.customers.actions import open_account
    from okno.customers.models import Address
    from okno.customers.numbers import make_account_number

    mine = register(text="Моё обращение")
    no_account = register_appeal(
        channel="phone",
        kind="info_request",
        topic="other",
        text="Без лицевого счёта",
        actor=org.cc_operator,
        customer=customers.ivanov,
    )
    other_flat = open_account(
        customer=customers.ivanov,
        number=make_account_number(1002),
        actor=org.admin,
        address=Address(
            region="Тестовая область",
            settlement="Северск",
            street="ул. Мира",
            house="2",
            grid_district=org.district_a,
        ),
    )
    not_linked = register(account=other_flat, text="Другая квартира")
    romashka = register(account=customers.acc_romashka, text="Ромашка")

    page = cabinet.get("/cabinet/appeals/").content.decode()

    assert mine.number in page
    for hidden in (no_account, not_linked, romashka):
        assert hidden.number not in page


def test_list_filters_open_appeals_and_shows_answer_state(cabinet, register, answered):
    open_one = register(text="Открытое")
    done = answered(register(text="Отвеченное", topic="metering"))

    all_page = cabinet.get("/cabinet/appeals/").content.decode()
    open_page = cabinet.get("/cabinet/appeals/?show=open").content.decode()

    assert open_one.number in all_page and done.number in all_page
    assert open_one.number in open_page and done.number not in open_page
    local = timezone.localtime(done.delivered_at, zoneinfo.ZoneInfo("Europe/Moscow"))
    assert f"answer received {local:%d.%m.%Y}" in all_page
    assert "no answer yet" in all_page


def test_list_is_paginated(cabinet, register):
    numbers = [register(text=f"Обращение {i}", topic="other").number for i in range(23)]

    first = cabinet.get("/cabinet/appeals/").content.decode()
    second = cabinet.get("/cabinet/appeals/?page=2").content.decode()

    assert sum(n in first for n in numbers) == 20
    assert sum(n in second for n in numbers) == 3
    assert numbers[-1] in first and numbers[0] in second
    assert "Page 1 of 2" in first


def test_card_shows_the_public_timeline_but_not_staff_comments(cabinet, register, org, answered):
    from okno.appeals import actions

    appeal = register()
    actions.comment(appeal, actor=org.specialist_a1, text="Внутренний комментарий: клиент скандальный")
    actions.wait_for_customer(appeal, actor=org.specialist_a1, reason="Пришлите фото счётчика")
    actions.resume(appeal, actor=org.specialist_a1)
    answered(appeal)

    page = cabinet.get(reverse("cabinet:appeal", args=[appeal.pk])).content.decode()

    assert "Внутренний комментарий" not in page
    assert org.specialist_a1.last_name not in page  # staff names stay inside
    assert "Waiting for the customer" in page and "Пришлите фото счётчика" in page
    assert "Answer delivered" in page
    assert "Свет восстановлен, причина — повреждение кабеля." in page


def test_staff_attachments_are_not_shown_nor_downloadable(cabinet, register, org):
    from okno.appeals import actions

    appeal = register()
    staff_file = actions.add_attachment(appeal, actor=org.specialist_a1, upload=pdf("internal-act.pdf"))

    page = cabinet.get(reverse("cabinet:appeal", args=[appeal.pk])).content.decode()
    download = cabinet.get(reverse("cabinet:appeal_attachment", args=[appeal.pk, staff_file.pk]))

    assert "internal-act.pdf" not in page
    assert download.status_code == 404


def test_hostile_text_is_shown_escaped(cabinet, customers):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    _post_new(cabinet, customers, text=hostile)
    from okno.appeals.models import Appeal

    appeal = Appeal.objects.get()
    card = cabinet.get(reverse("cabinet:appeal", args=[appeal.pk])).content.decode()

    assert "<script>alert" not in card and "<img src=x" not in card
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in card


def test_rating_before_the_answer_is_refused_with_a_message(cabinet, register):
    appeal = register()

    response = cabinet.post(reverse("cabinet:appeal", args=[appeal.pk]), {"action": "rate", "score": "5"})

    assert response.status_code == 400
    assert "An appeal can be rated once its answer has been received." in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.rating is None


def test_rating_after_the_answer_is_delivered_is_recorded(cabinet, register, answered):
    from okno.customers.models import ContactEvent

    appeal = answered(register())

    response = cabinet.post(
        reverse("cabinet:appeal", args=[appeal.pk]),
        {"action": "rate", "score": "4", "comment": "Быстро, но без подробностей"},
    )

    assert response.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.rating, appeal.rating_comment) == (4, "Быстро, но без подробностей")
    assert appeal.events.filter(type="rated", actor__username="system:cabinet").exists()
    assert ContactEvent.objects.filter(customer=appeal.customer, kind="feedback").exists()
    page = cabinet.get(response["Location"]).content.decode()
    assert "Thank you: your rating is recorded." in page
    assert "Your rating: 4 of 5" in page


def test_rating_out_of_range_is_refused(cabinet, register, answered):
    appeal = answered(register())

    response = cabinet.post(reverse("cabinet:appeal", args=[appeal.pk]), {"action": "rate", "score": "9"})

    assert response.status_code == 400
    appeal.refresh_from_db()
    assert appeal.rating is None


def test_disagreeing_with_the_answer_registers_an_escalation(cabinet, register, answered, org):
    from okno.appeals.models import Appeal

    appeal = answered(register())
    url = reverse("cabinet:appeal", args=[appeal.pk])

    response = cabinet.post(
        url, {"action": "escalate", "text": "С ответом не согласен: света не было 3 дня."}
    )

    escalation = Appeal.objects.get(escalation_of=appeal)
    assert response.status_code == 302
    assert response["Location"] == reverse("cabinet:appeal", args=[escalation.pk])
    assert escalation.channel == "cabinet"
    assert escalation.kind == "complaint"
    assert escalation.account == appeal.account
    assert escalation.department == org.head_dept_a  # one level up
    assert appeal.events.filter(type="escalated").exists()
    page = cabinet.get(response["Location"]).content.decode()
    assert f"Your objection is registered as appeal {escalation.number}" in page
    assert appeal.number in page  # "contests the answer to"

    again = cabinet.post(url, {"action": "escalate", "text": "Ещё раз не согласен."})

    assert again.status_code == 400
    assert "This answer is already being contested in an open appeal." in again.content.decode()
    assert Appeal.objects.filter(escalation_of=appeal).count() == 1


def test_an_unanswered_appeal_cannot_be_contested(cabinet, register):
    from okno.appeals.models import Appeal

    appeal = register()

    response = cabinet.post(
        reverse("cabinet:appeal", args=[appeal.pk]), {"action": "escalate", "text": "Не согласен"}
    )

    assert response.status_code == 400
    assert "Only an answered appeal can be contested." in response.content.decode()
    assert not Appeal.objects.filter(escalation_of=appeal).exists()


def test_sending_too_many_appeals_is_throttled(cabinet, customers, monkeypatch):
    from okno.appeals.models import Appeal
    from okno.portal.cabinet import appeal_views

    monkeypatch.setattr(appeal_views, "APPEALS_PER_HOUR", 2)
    assert _post_new(cabinet, customers).status_code == 302
    assert _post_new(cabinet, customers).status_code == 302

    third = _post_new(cabinet, customers)

    assert third.status_code == 429
    assert Appeal.objects.count() == 2


def test_the_list_makes_the_same_number_of_queries_for_3_and_20_appeals(
    cabinet, register, django_assert_max_num_queries
):
    for i in range(3):
        register(text=f"Обращение {i}", topic="other")
    with django_assert_max_num_queries(8):
        assert cabinet.get("/cabinet/appeals/").status_code == 200
    for i in range(17):
        register(text=f"Ещё {i}", topic="other")
    with django_assert_max_num_queries(8):
        assert cabinet.get("/cabinet/appeals/").status_code == 200
