"""Operator pages: reading entry, meter install and replace, the held queue, corrections, bulk upload."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from okno.billing.models import Meter, Reading, ReadingImport


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def test_reading_form_accepts_and_shows_the_history(login, metered, org):
    client = login(org.operator_a)
    url = reverse("billing:reading_new", args=[metered.account.number])

    page = client.get(url)
    response = client.post(url, {"taken_on": "2025-02-20", "channel": "office", "t1": "1100,5"}, follow=True)

    assert page.status_code == 200
    assert "41234567" in page.content.decode()
    assert response.status_code == 200
    assert "Reading accepted for 02.2025." in response.content.decode()
    r = Reading.objects.get(kind="regular")
    assert (r.t1_wh, r.channel, r.submitted_by) == (1_100_500, "office", org.operator_a)
    assert "1100.500" in response.content.decode()


def test_refused_reading_is_a_form_error_and_nothing_is_saved(login, metered, org):
    client = login(org.operator_a)
    url = reverse("billing:reading_new", args=[metered.account.number])

    lower = client.post(url, {"taken_on": "2025-02-20", "channel": "office", "t1": "900"})
    future = client.post(url, {"taken_on": "2099-02-20", "channel": "office", "t1": "1100"})

    assert lower.status_code == 400
    assert "T1: 900 kWh is lower than the previous reading 1000 kWh." in lower.content.decode()
    assert future.status_code == 400
    assert "The date 20.02.2099 is in the future." in future.content.decode()
    assert not Reading.objects.filter(kind="regular").exists()


def test_pages_respect_permissions_and_branches(login, metered, org):
    url = reverse("billing:reading_new", args=[metered.account.number])

    assert login(org.security).get(url).status_code == 403
    assert login(org.operator_b).get(url).status_code == 404
    assert login(org.operator_a).get(reverse("billing:readings_held")).status_code == 403
    assert login(org.operator_a).get(reverse("billing:reading_import")).status_code == 403


def test_install_and_replace_meter_pages(login, customers, org, tariffs):
    client = login(org.admin)
    number = customers.acc_romashka.number
    fields = {
        "model": "Меркурий 201",
        "serial": "W-1",
        "zones": "1",
        "integer_digits": "6",
        "fraction_digits": "1",
        "verification_interval_years": "16",
        "initial_readings": "10",
    }

    installed = client.post(
        reverse("billing:meter_install", args=[number]), {**fields, "installed_on": "2025-01-10"}
    )
    meter = Meter.objects.get(serial="W-1")
    bad = client.post(
        reverse("billing:meter_replace", args=[meter.pk]),
        {
            **fields,
            "serial": "W-2",
            "zones": "2",
            "initial_readings": "0 0",
            "on": "2025-03-01",
            "final": "5",
        },
    )
    good = client.post(
        reverse("billing:meter_replace", args=[meter.pk]),
        {
            **fields,
            "serial": "W-2",
            "zones": "2",
            "initial_readings": "0 0",
            "on": "2025-03-01",
            "final": "50",
        },
    )

    assert installed.status_code == 302
    assert bad.status_code == 400
    assert "T1: 5 kWh is lower than the previous reading 10 kWh." in bad.content.decode()
    assert good.status_code == 302
    assert Meter.objects.get(serial="W-2").status == "active"
    assert Meter.objects.get(serial="W-1").status == "removed"


def test_held_queue_review_and_correction(login, metered, org):
    operator = login(org.operator_a)
    url = reverse("billing:reading_new", args=[metered.account.number])
    for day, value in (("2025-02-15", "1100"), ("2025-03-15", "1200"), ("2025-04-15", "3000")):
        operator.post(url, {"taken_on": day, "channel": "office", "t1": value})
    held = Reading.objects.get(status="held")

    head = login(org.head_a)
    queue = head.get(reverse("billing:readings_held"))
    head.post(reverse("billing:reading_review", args=[held.pk]), {"decision": "reject", "note": "no photo"})
    form = head.get(reverse("billing:reading_correct", args=[held.pk - 1]))
    no_reason = head.post(
        reverse("billing:reading_correct", args=[held.pk - 1]), {"t1": "1210", "reason": ""}
    )
    fixed = head.post(
        reverse("billing:reading_correct", args=[held.pk - 1]), {"t1": "1210", "reason": "Typo"}
    )

    assert queue.status_code == 200 and "3000.000" in queue.content.decode()
    held.refresh_from_db()
    assert held.status == "rejected"
    assert form.status_code == 200
    assert no_reason.status_code == 400
    assert fixed.status_code == 302
    new = Reading.objects.get(version=2)
    assert (new.t1_wh, new.reason, new.supersedes_id, new.taken_on) == (
        1_210_000,
        "Typo",
        held.pk - 1,
        dt.date(2025, 3, 15),
    )


def test_upload_page_shows_counts_and_line_errors(login, metered, org):
    client = login(org.head_a)
    data = (
        f"{metered.account.number};41234567;2025-02-20;1100\n{metered.account.number};41234567;2025-02-21\n"
    )

    def upload():
        return client.post(
            reverse("billing:reading_import"),
            {"kind": "agent", "file": SimpleUploadedFile("a.csv", data.encode())},
            follow=True,
        )

    first = upload().content.decode()
    second = upload().content.decode()

    imp = ReadingImport.objects.get()
    assert '<dd id="count-accepted">1</dd>' in first
    assert '<dd id="count-rejected">1</dd>' in first
    assert "Expected account;meter_serial;date;t1[;t2;t3]." in first
    assert "This file was imported before; nothing was added." in second
    assert imp.accepted == 1 and Reading.objects.filter(kind="regular").count() == 1
