"""GET /api/v1/appeals/: list with AppealFilter, detail with timeline and the access log, by number,
answer PDF, attachments; query-count guards on the hot paths."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from okno.appeals import actions
from okno.core.models import AccessLog
from tests.api.conftest import appeal_body, problem

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_list_shows_only_the_users_branches_newest_first(api, org, customers, register):
    a1 = register()
    a2 = register(topic="metering", text="Счётчик не работает.")
    b1 = register(account=customers.acc_romashka, text="Нет света на складе.")

    mine = api(org.operator_a).get("/api/v1/appeals/").json()["results"]
    theirs = api(org.operator_b).get("/api/v1/appeals/").json()["results"]
    everyone = api(org.cc_operator).get("/api/v1/appeals/").json()["results"]

    assert [r["number"] for r in mine] == [a2.number, a1.number]
    assert [r["number"] for r in theirs] == [b1.number]
    assert len(everyone) == 3
    assert "text" not in mine[0] and "contact_phone" not in mine[0]  # a list row carries no personal data


def test_list_filters_of_appeal_filter(api, org, customers, register):
    outage = register()
    metering = register(topic="metering", text="Счётчик не работает.")
    actions.answer_appeal(metering, actor=org.specialist_a1, text="Заменим.", channel="phone")
    client = api(org.admin)

    def numbers(query):
        return [r["number"] for r in client.get(f"/api/v1/appeals/?{query}").json()["results"]]

    assert numbers("topic=metering") == [metering.number]
    assert numbers("status=answered") == [metering.number]
    assert numbers("open=true") == [outage.number]
    assert numbers(f"q={outage.number}") == [outage.number]
    assert numbers(f"customer={customers.ivanov.pk}&topic=outage") == [outage.number]
    assert numbers("overdue=true") == []


def test_list_is_cursor_paginated(api, org, register):
    for _ in range(3):
        register()
    first = api(org.admin).get("/api/v1/appeals/?page_size=2").json()

    assert len(first["results"]) == 2
    assert "cursor=" in first["next"]
    second = api(org.admin).get(first["next"]).json()
    assert len(second["results"]) == 1


def test_list_query_count_does_not_grow_with_rows(api, org, register, django_assert_max_num_queries):
    for i in range(25):
        register(text=f"Обращение {i}")
    client = api(org.operator_a)

    with django_assert_max_num_queries(4):  # token + user's branches + page (+ savepoint slack)
        response = client.get("/api/v1/appeals/?page_size=50")

    assert len(response.json()["results"]) == 25


def test_registration_query_count_stays_small(api, org, customers, register, django_assert_max_num_queries):
    client = api(org.operator_a)
    client.post(
        "/api/v1/appeals/", appeal_body(customers.acc_ivanov), format="json"
    )  # warm caches (routing, policies)

    # The API adds three queries (token, the user's branches, the account with its customer and
    # address); the other 21 are register_appeal's own (numbering, events, statistics, change log).
    with django_assert_max_num_queries(24):
        response = client.post(
            "/api/v1/appeals/", appeal_body(customers.acc_ivanov, text="Ещё раз."), format="json"
        )

    assert response.status_code == 201


def test_detail_has_timeline_answers_attachments_version_and_logs_the_view(api, org, customers, register):
    appeal = register()
    actions.answer_appeal(appeal, actor=org.specialist_a1, text="Свет восстановлен.", channel="phone")

    response = api(org.operator_a).get(f"/api/v1/appeals/{appeal.pk}/", REMOTE_ADDR="10.1.2.3")

    data = response.json()
    appeal.refresh_from_db()
    assert [e["type"] for e in data["events"]] == [
        "registered",
        "routed",
        "assigned",
        "answered",
        "delivered",
    ]
    assert data["answers"][0]["text"] == "Свет восстановлен."
    assert data["attachments"] == []
    assert data["version"] == appeal.version
    assert data["customer"] == {"id": customers.ivanov.pk, "name": "Иванов Пётр Сергеевич"}
    assert data["branch"] == {"id": org.a.pk, "name": "Северный филиал"}
    log = AccessLog.objects.get()
    assert (log.actor, log.customer_id, log.context, log.remote_addr) == (
        org.operator_a,
        customers.ivanov.pk,
        "api:appeal",
        "10.1.2.3",
    )


def test_detail_of_an_appeal_without_customer_logs_nothing(api, org, register):
    appeal = register(account=None, contact_name="Сергеев Иван", contact_phone="+79120001122")

    assert api(org.operator_a).get(f"/api/v1/appeals/{appeal.pk}/").status_code == 200
    assert AccessLog.objects.count() == 0


def test_detail_times_are_in_the_branch_time_zone(api, org, customers, register):
    appeal = register(account=customers.acc_romashka)

    data = api(org.admin).get(f"/api/v1/appeals/{appeal.pk}/").json()

    assert data["deadline_at"].endswith("+05:00")  # Asia/Yekaterinburg


def test_lookup_by_registration_number_and_404_outside_scope(api, org, register):
    appeal = register()

    found = api(org.operator_a).get(f"/api/v1/appeals/by-number/{appeal.number}/")
    hidden = api(org.operator_b).get(f"/api/v1/appeals/by-number/{appeal.number}/")
    hidden_pk = api(org.operator_b).get(f"/api/v1/appeals/{appeal.pk}/")

    assert found.json()["id"] == appeal.pk
    assert hidden.status_code == 404
    assert problem(hidden_pk)["status"] == 404


def test_answer_pdf_is_a_pdf_download(api, org, register):
    appeal = register()
    ans = actions.answer_appeal(appeal, actor=org.specialist_a1, text="Свет восстановлен.", channel="mail")

    response = api(org.operator_a).get(f"/api/v1/appeals/{appeal.pk}/answers/{ans.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("attachment;")


def test_answer_pdf_of_another_appeals_answer_is_404(api, org, register):
    appeal, other = register(), register(text="Другое.")
    ans = actions.answer_appeal(other, actor=org.specialist_a1, text="Ответ.", channel="mail")

    assert api(org.operator_a).get(f"/api/v1/appeals/{appeal.pk}/answers/{ans.pk}/pdf/").status_code == 404


def test_attachment_upload_list_and_download_as_a_sniffed_type(api, org, register):
    appeal = register()
    client = api(org.operator_a)

    uploaded = client.post(
        f"/api/v1/appeals/{appeal.pk}/attachments/",
        {"file": SimpleUploadedFile("scan.pdf", PDF, content_type="text/html")},
        format="multipart",
    )
    listed = client.get(f"/api/v1/appeals/{appeal.pk}/attachments/").json()
    download = client.get(uploaded.json()["download_url"])

    assert uploaded.status_code == 201
    assert uploaded.json()["content_type"] == "application/pdf"  # the browser's claim is not trusted
    assert [a["name"] for a in listed] == ["scan.pdf"]
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="scan.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF


def test_html_upload_is_refused_with_a_field_error(api, org, register):
    appeal = register()
    html = SimpleUploadedFile("x.html", b"<html><script>alert(1)</script></html>", content_type="text/plain")

    response = api(org.operator_a).post(
        f"/api/v1/appeals/{appeal.pk}/attachments/", {"file": html}, format="multipart"
    )

    assert response.status_code == 400
    assert problem(response)["errors"]["file"] == [
        "Files of this type are not accepted (PDF, images, text and office documents are)."
    ]


def test_too_large_or_missing_upload_is_400(api, org, register, settings):
    settings.OKNO_MAX_ATTACHMENT_BYTES = 1024 * 1024
    appeal = register()
    client = api(org.operator_a)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024), content_type="application/pdf")

    too_large = client.post(f"/api/v1/appeals/{appeal.pk}/attachments/", {"file": big}, format="multipart")
    missing = client.post(f"/api/v1/appeals/{appeal.pk}/attachments/", {}, format="multipart")

    assert problem(too_large)["errors"] == {"file": ["The file is larger than 1 MB."]}
    assert set(problem(missing)["errors"]) == {"file"}


def test_attachment_of_another_branch_is_404(api, org, register):
    appeal = register()
    att = actions.add_attachment(appeal, actor=org.operator_a, upload=SimpleUploadedFile("a.pdf", PDF))

    response = api(org.operator_b).get(f"/api/v1/appeals/{appeal.pk}/attachments/{att.pk}/download/")

    assert response.status_code == 404
