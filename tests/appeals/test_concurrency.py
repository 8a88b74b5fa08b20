"""Concurrent edits of one appeal never lose an update (row lock + version check)."""

import threading

import pytest
from django.db import connection

from okno.appeals import actions
from okno.appeals.models import Appeal
from okno.core.errors import StaleVersion

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"
)


@pytest.mark.django_db(transaction=True)
def test_two_people_acting_on_the_same_version_one_wins_one_is_told(register, org):
    appeal = register()
    version = appeal.version
    results: list[str] = []
    barrier = threading.Barrier(2)

    def act(user, reason):
        from django.db import connections

        barrier.wait()
        try:
            actions.wait_for_customer(appeal, actor=user, reason=reason, expected_version=version)
            results.append("ok")
        except StaleVersion:
            results.append("stale")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=(org.specialist_a1, "Нужен паспорт")),
        threading.Thread(target=act, args=(org.specialist_a2, "Нужен договор")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "stale"]
    assert Appeal.objects.get(pk=appeal.pk).version == version + 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_comments_are_all_kept(register, org):
    appeal = register()

    def add(i):
        from django.db import connections

        try:
            actions.comment(appeal, actor=org.specialist_a1, text=f"Комментарий {i}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert appeal.events.filter(type="comment").count() == 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_numbers(register):
    numbers: list[str] = []

    def reg(i):
        from django.db import connections

        try:
            numbers.append(register(text=f"Нет света {i}").number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reg, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(numbers)) == 10
