"""My queue and the department queue: contents, filters, deadline wording, highlighting and pagination."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from okno.appeals.models import Appeal

pytestmark = pytest.mark.django_db


def _set_deadline(appeal, delta):
    # Test set-up only: move the clock of one appeal instead of waiting for it.
    Appeal.objects.filter(pk=appeal.pk).update(deadline_at=timezone.now() + delta)


def test_my_queue_lists_open_appeals_assigned_to_me_by_deadline(register, org, login):
    first = register(text="Первое")
    second = register(text="Второе", topic="metering")
    mine = first.assignee
    other = register(text="Третье", topic="other")
    _set_deadline(first, dt.timedelta(days=5))
    _set_deadline(second, dt.timedelta(days=2))
    html = login(mine).get(reverse("appeals:my_queue")).content.decode()
    expected = list(Appeal.objects.filter(assignee=mine).order_by("deadline_at"))
    positions = [html.index(a.number) for a in expected]
    assert positions == sorted(positions)
    if other.assignee != mine:
        assert other.number not in html


def test_overdue_row_is_highlighted_and_says_overdue_by(register, org, login):
    appeal = register()
    _set_deadline(appeal, -dt.timedelta(hours=26, minutes=5))
    client = login(appeal.assignee)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("appeals:my_queue")).content.decode()
    assert '<tr class="overdue">' in html
    assert "overdue by 1 day 2 hours" in html


def test_due_soon_row_says_time_left(register, org, login):
    appeal = register()
    _set_deadline(appeal, dt.timedelta(hours=5, minutes=30, seconds=30))
    client = login(appeal.assignee)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("appeals:my_queue")).content.decode()
    assert '<tr class="due-soon">' in html
    assert "5 hours 30 minutes left" in html


def test_deadline_is_shown_in_the_branch_time_zone(register, org, customers, login):
    from okno.appeals.actions import register_appeal

    appeal = register_appeal(
        channel="office",
        kind="info_request",
        topic="other",
        text="Вопрос",
        actor=org.operator_b,
        account=customers.acc_romashka,
    )
    Appeal.objects.filter(pk=appeal.pk).update(
        deadline_at=dt.datetime(2030, 1, 15, 18, 59, 59, tzinfo=dt.UTC)
    )
    html = login(org.cc_operator).get(reverse("appeals:department_queue")).content.decode()
    assert "15.01.2030 23:59" in html  # Asia/Yekaterinburg is UTC+5


def test_department_queue_filters_by_status_topic_and_text(register, org, login):
    a = register(text="Нет света на улице", topic="outage")
    b = register(text="Счётчик сломался", topic="metering")
    client = login(org.head_a)
    html = client.get(reverse("appeals:department_queue")).content.decode()
    assert a.number in html and b.number in html
    html = client.get(reverse("appeals:department_queue"), {"topic": "metering"}).content.decode()
    assert b.number in html and a.number not in html
    html = client.get(reverse("appeals:department_queue"), {"q": "света"}).content.decode()
    assert a.number in html and b.number not in html
    html = client.get(reverse("appeals:department_queue"), {"status": "closed"}).content.decode()
    assert a.number not in html and b.number not in html


def test_overdue_filter_keeps_only_overdue(register, org, login):
    late = register(text="Просрочено")
    fine = register(text="В срок", topic="metering")
    _set_deadline(late, -dt.timedelta(hours=1))
    html = login(org.head_a).get(reverse("appeals:department_queue"), {"overdue": "true"}).content.decode()
    assert late.number in html and fine.number not in html


def test_department_queue_of_another_branch_does_not_show_our_appeals(register, org, login):
    appeal = register()
    html = login(org.operator_b).get(reverse("appeals:department_queue")).content.decode()
    assert appeal.number not in html


def test_queue_is_paginated_by_fifty(register, org, login):
    first = register()
    rows = []
    for i in range(54):
        rows.append(
            Appeal(
                number=f"2099-{i:06d}",
                channel="phone",
                kind="report",
                topic="outage",
                text=f"Строка {i}",
                received_at=first.received_at,
                registered_by=org.cc_operator,
                branch=org.a,
                department=org.dept_a,
                assignee=org.head_a,
                status="assigned",
                deadline_at=first.deadline_at,
                base_deadline_at=first.deadline_at,
            )
        )
    Appeal.objects.bulk_create(rows)  # test data in bulk; the UI only reads it
    client = login(org.head_a)
    page1 = client.get(reverse("appeals:my_queue")).content.decode()
    assert len(re.findall(r'href="/appeals/\d+/"', page1)) == 50
    assert "?page=2" in page1
    page2 = client.get(reverse("appeals:my_queue"), {"page": 2}).content.decode()
    assert len(re.findall(r'href="/appeals/\d+/"', page2)) == 4
    filtered = client.get(reverse("appeals:my_queue"), {"topic": "outage", "page": 2}).content.decode()
    assert "topic=outage&amp;page=1" in filtered
