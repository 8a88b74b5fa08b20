"""Named personas and a small utility shared by every test (Healthchecks' alice/bob/charlie).

Branch A ("Северный филиал") is in Europe/Moscow, branch B ("Восточный филиал") in Asia/Yekaterinburg.
"""

from __future__ import annotations

import datetime as dt
import os
from types import SimpleNamespace

import pytest
from django.utils import timezone

# Debian's Chromium for every browser test, wherever it lives: pytest-playwright's browser is
# session-scoped, so the launch arguments must be the same for the first browser test of any module.
from tests.web.conftest import (  # noqa: F401
    browser_context_args,
    browser_type_launch_args,
    okno_static,
)

os.environ.setdefault("OKNO_ENV", "test")


@pytest.fixture(autouse=True)
def _english_messages(settings):
    """Tests assert the English source messages; tests/core/test_i18n.py checks that Russian is the default."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_company():
    """The company is cached per process: each test reads its own (a rolled-back one never leaks)."""
    from okno.core.context_processors import company_cache

    company_cache.invalidate()
    yield
    company_cache.invalidate()


@pytest.fixture(autouse=True)
def _eager_jobs(settings):
    settings.OKNO_JOBS_EAGER = True
    settings.CELERY_BROKER_URL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(settings.VAR_DIR / "test-media")
    # Rate limits count in the cache: per test process, never shared between parallel test workers.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "okno-tests"}
    }
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]  # speed only; never in production


def _user(
    username, role, *, branches=(), all_branches=False, department=None, email="", last_name="", first_name=""
):
    from okno.org.models import User

    user = User.objects.create_user(
        username=username,
        password="okno-test-pass",
        role=role,
        all_branches=all_branches,
        department=department,
        email=email or f"{username}@okno.test",
        last_name=last_name or username.title(),
        first_name=first_name or "Тест",
    )
    if branches:
        user.branches.set(branches)
    return user


def _load_reference_data() -> None:
    """Reload what the data migrations ship (a transactional test's flush removes it) and drop caches."""
    import importlib

    from django.apps import apps

    from okno.appeals import deadlines, routing
    from okno.core import calendar
    from okno.core.models import CalendarDay

    if not CalendarDay.objects.exists():
        importlib.import_module("okno.core.migrations.0003_load_production_calendar").load(apps, None)
        importlib.import_module("okno.appeals.migrations.0003_default_policies").load(apps, None)
    from okno.billing.models import KeyRate

    if not KeyRate.objects.exists():
        importlib.import_module("okno.billing.migrations.0002_reference_data").load(apps, None)
    from okno.appeals import actions
    from okno.billing import rules

    rules.clear_cache()

    calendar.invalidate()
    deadlines._invalidate()
    routing._invalidate()
    actions._branches.invalidate()


@pytest.fixture
def reference_data(db):
    _load_reference_data()


@pytest.fixture
def org(reference_data):
    """Company, two branches in different time zones, districts, departments, routing rules, staff of every role."""
    from okno.appeals.models import RoutingRule
    from okno.org.models import Branch, Company, Department, GridDistrict, Office, ServiceCentre

    company = Company.objects.create(
        name="АО «Тестовая сетевая компания»", short_name="ТСК", hotline="8-800-000-00-00"
    )
    a = Branch.objects.create(
        company=company,
        code="north",
        name="Северный филиал",
        timezone="Europe/Moscow",
        region="Тестовая область",
    )
    b = Branch.objects.create(
        company=company,
        code="east",
        name="Восточный филиал",
        timezone="Asia/Yekaterinburg",
        region="Тестовая область",
    )
    da = GridDistrict.objects.create(
        branch=a, code="north-1", name="Северный РЭС", settlements="Северск\nБерёзовка"
    )
    db_ = GridDistrict.objects.create(branch=b, code="east-1", name="Восточный РЭС", settlements="Восточный")
    sc = ServiceCentre.objects.create(branch=a, name="ЦОК Северного филиала", category=2)
    office = Office.objects.create(
        service_centre=sc, name="Офис в Северске", address="Северск, ул. Ленина, 1", hours="Пн–Пт 8:00–17:00"
    )
    head_dept_a = Department.objects.create(branch=a, name="Управление по работе с клиентами", topics=[])
    dept_a = Department.objects.create(
        branch=a,
        name="Отдел обслуживания клиентов",
        topics=["outage", "metering", "other"],
        parent=head_dept_a,
    )
    dept_a.districts.add(da)
    dept_b = Department.objects.create(branch=b, name="Группа обслуживания клиентов", topics=[])
    dept_b.districts.add(db_)

    people = SimpleNamespace(
        operator_a=_user("operator_a", "operator", branches=[a], last_name="Смирнова"),
        cc_operator=_user("cc_operator", "operator", all_branches=True, last_name="Кузнецова"),
        specialist_a1=_user(
            "specialist_a1", "specialist", branches=[a], department=dept_a, last_name="Петров"
        ),
        specialist_a2=_user(
            "specialist_a2", "specialist", branches=[a], department=dept_a, last_name="Сидоров"
        ),
        specialist_b=_user("specialist_b", "specialist", branches=[b], department=dept_b, last_name="Орлов"),
        head_a=_user("head_a", "head_of_department", branches=[a], department=dept_a, last_name="Волков"),
        top_head_a=_user(
            "top_head_a", "head_of_department", branches=[a], department=head_dept_a, last_name="Лебедев"
        ),
        branch_head_a=_user("branch_head_a", "branch_head", branches=[a], last_name="Морозов"),
        operator_b=_user("operator_b", "operator", branches=[b], last_name="Новикова"),
        dispatcher_a=_user("dispatcher_a", "dispatcher", branches=[a], last_name="Диспетчеров"),
        quality=_user("quality", "quality_manager", all_branches=True, last_name="Козлова"),
        security=_user("security", "security_officer", all_branches=True, last_name="Соколов"),
        admin=_user("admin", "administrator", all_branches=True, last_name="Админов"),
    )
    dept_a.head = people.head_a
    dept_a.save()
    head_dept_a.head = people.top_head_a
    head_dept_a.save()
    RoutingRule.objects.create(grid_district=da, branch=a, department=dept_a)
    RoutingRule.objects.create(grid_district=db_, branch=b, department=dept_b)
    return SimpleNamespace(
        company=company,
        a=a,
        b=b,
        district_a=da,
        district_b=db_,
        dept_a=dept_a,
        head_dept_a=head_dept_a,
        dept_b=dept_b,
        office=office,
        **vars(people),
    )


@pytest.fixture
def customers(org):
    """Иванов (an individual with an account in branch A) and ООО «Ромашка» (a legal entity in branch B)."""
    from okno.customers import actions
    from okno.customers.models import Address
    from okno.customers.numbers import make_account_number

    ivanov = actions.create_customer(
        actor=org.admin,
        kind="individual",
        last_name="Иванов",
        first_name="Пётр",
        patronymic="Сергеевич",
        phones=["+7 (912) 345-67-89"],
        emails=["ivanov@example.ru"],
    )
    acc_ivanov = actions.open_account(
        customer=ivanov,
        number=make_account_number(1001),
        actor=org.admin,
        contract_number="Д-1001",
        address=Address(
            region="Тестовая область",
            settlement="Северск",
            street="ул. Ленина",
            house="10",
            flat="5",
            grid_district=org.district_a,
        ),
    )
    romashka = actions.create_customer(
        actor=org.admin,
        kind="legal_entity",
        organisation="ООО «Ромашка»",
        inn="7707083893",
        phones=["+73432000000"],
    )
    acc_romashka = actions.open_account(
        customer=romashka,
        number=make_account_number(2002),
        actor=org.admin,
        address=Address(
            region="Тестовая область",
            settlement="Восточный",
            street="ул. Заводская",
            house="3",
            grid_district=org.district_b,
        ),
    )
    return SimpleNamespace(ivanov=ivanov, acc_ivanov=acc_ivanov, romashka=romashka, acc_romashka=acc_romashka)


@pytest.fixture
def register(org, customers):
    """Register an appeal for Иванов through the action, with overridable fields."""
    from okno.appeals.actions import register_appeal

    def _register(**overrides):
        fields = {
            "channel": "contact_center",
            "kind": "report",
            "topic": "outage",
            "text": "Нет света в квартире с утра.",
            "actor": org.cc_operator,
            "account": customers.acc_ivanov,
        }
        fields.update(overrides)
        return register_appeal(**fields)

    return _register


@pytest.fixture
def now():
    return timezone.now()


def aware(y, m, d, hh=0, mm=0, tz="Europe/Moscow"):
    import zoneinfo

    return dt.datetime(y, m, d, hh, mm, tzinfo=zoneinfo.ZoneInfo(tz))
