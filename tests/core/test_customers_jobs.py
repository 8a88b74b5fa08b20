"""The daily job that deletes the personal cabinet's expired one-time code challenges."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from okno.core import jobs


def test_the_purge_is_a_daily_job():
    jobs.autodiscover()
    spec = jobs.REGISTRY["customers.purge_cabinet_challenges"]
    assert spec.every == dt.timedelta(days=1)


@pytest.mark.django_db
def test_the_job_deletes_challenges_expired_over_a_day_ago(customers):
    from okno.customers.models import CabinetChallenge
    from okno.customers.tasks import purge_cabinet_challenges

    now = timezone.now()
    for age in (dt.timedelta(days=2), dt.timedelta(hours=1)):
        CabinetChallenge.objects.create(
            purpose=CabinetChallenge.Purpose.SIGNUP, code_hash="x", expires_at=now - age
        )
    assert purge_cabinet_challenges() == {"deleted": 1}
    assert CabinetChallenge.objects.count() == 1
