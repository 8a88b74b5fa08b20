"""The demo company's structure and staff, created through the ORM (a few hundred rows)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password

from okno.appeals.models import RoutingRule
from okno.customers.numbers import make_inn
from okno.demo import words
from okno.org.choices import Role, ServiceCentreCategory
from okno.org.models import Branch, Company, Department, GridDistrict, Office, ServiceCentre, User

DEMO_PASSWORD = "okno-demo"  # noqa: S105 - the documented password of the demo logins

CS_TOPICS = [
    "outage",
    "power_quality",
    "metering",
    "billing",
    "theft",
    "equipment",
    "service_quality",
    "contract",
    "other",
]


@dataclass
class BranchInfo:
    branch: Branch
    weight: float
    districts: list[GridDistrict]
    settlements: list[list[str]]  # per district
    dept: Department  # customer service department
    tp_dept: Department  # grid connection department
    specialists: list[int] = field(default_factory=list)
    tp_specialists: list[int] = field(default_factory=list)
    head_id: int = 0
    tp_head_id: int = 0


@dataclass
class Org:
    company: Company
    branches: list[BranchInfo]
    logins: list[tuple[str, Any, str]]  # login, role, scope
    operator_ids: list[int]
    demo_operator_id: int
    demo_specialist_id: int


def _person(rng: random.Random) -> tuple[str, str, str]:
    male = rng.random() < 0.5
    last = rng.choice(words.LAST_NAMES)
    pat = rng.choice(words.PATRONYMICS)
    if male:
        return last, rng.choice(words.MALE_FIRST), pat[0]
    return words.female_last_name(last), rng.choice(words.FEMALE_FIRST), pat[1]


def build_org(rng: random.Random) -> Org:
    c = words.COMPANY
    company = Company.objects.create(
        name=c["name"],
        short_name=c["short_name"],
        inn=make_inn(c["inn_body"]),
        hotline=c["hotline"],
        email=c["email"],
        address=c["address"],
    )
    head_sc = ServiceCentre.objects.create(
        name="ЦОК исполнительного аппарата", category=ServiceCentreCategory.FIRST
    )
    Office.objects.create(
        service_centre=head_sc,
        name="Центральный офис обслуживания",
        address=c["address"],
        phone=c["hotline"],
        hours=words.OFFICE_HOURS,
        services="\n".join(words.OFFICE_SERVICES),
    )
    password = make_password(DEMO_PASSWORD)
    infos: list[BranchInfo] = []
    operator_ids: list[int] = []

    def user(
        username: str,
        role: str,
        *,
        branch: Branch | None = None,
        dept: Department | None = None,
        office: Office | None = None,
        position: str = "",
        **extra: object,
    ) -> User:
        last, fname, pat = _person(rng)
        u = User.objects.create(
            username=username,
            password=password,
            role=role,
            last_name=last,
            first_name=fname,
            patronymic=pat,
            department=dept,
            office=office,
            position=position,
            email=f"{username}@szsk.example",
            all_branches=branch is None,
            **extra,
        )
        if branch is not None:
            u.branches.add(branch)
        return u

    for bi, (code, name, tz, region, weight, districts) in enumerate(words.BRANCHES, start=1):
        capital = districts[0][1][0]
        branch = Branch.objects.create(
            company=company,
            code=code,
            name=name,
            timezone=tz,
            region=region,
            address=f"{capital}, ул. Энергетиков, д. {bi}",
            phone=f"8-800-100-22-3{bi}",
        )
        head_dept = Department.objects.create(
            branch=branch, name="Управление по работе с клиентами", topics=[]
        )
        dept = Department.objects.create(
            branch=branch, name="Отдел обслуживания клиентов", topics=CS_TOPICS, parent=head_dept
        )
        tp_dept = Department.objects.create(
            branch=branch,
            name="Отдел технологического присоединения",
            topics=["grid_connection"],
            parent=head_dept,
        )
        sc2 = ServiceCentre.objects.create(
            branch=branch, name=f"ЦОК {name.split('«')[-1].rstrip('»')}", category=2
        )
        main_office = Office.objects.create(
            service_centre=sc2,
            name=f"Офис обслуживания в {capital}",
            address=branch.address,
            phone=branch.phone,
            hours=words.OFFICE_HOURS,
            services="\n".join(words.OFFICE_SERVICES),
        )
        dist_objs, settlements = [], []
        for di, (dname, sett) in enumerate(districts, start=1):
            d = GridDistrict.objects.create(
                branch=branch, code=f"{code}-{di}", name=dname, settlements="\n".join(sett)
            )
            dist_objs.append(d)
            settlements.append(sett)
            if di > 1:
                sc3 = ServiceCentre.objects.create(branch=branch, district=d, name=f"ЦОК {dname}", category=3)
                Office.objects.create(
                    service_centre=sc3,
                    name=f"Пункт обслуживания {dname}",
                    address=f"{sett[0]}, ул. Ленина, д. {di}",
                    hours="Пн–Пт 8:00–17:00",
                    services="\n".join(words.OFFICE_SERVICES[:3]),
                )
            RoutingRule.objects.create(grid_district=d, branch=branch, department=dept)
            RoutingRule.objects.create(
                grid_district=d, topic="grid_connection", branch=branch, department=tp_dept
            )
        dept.districts.set(dist_objs)
        tp_dept.districts.set(dist_objs)
        info = BranchInfo(branch, weight, dist_objs, settlements, dept, tp_dept)
        first = bi == 1
        # Staff: the demo logins work in the first branch; the others get numbered logins.
        head = user(
            "head" if first else f"head_{code}",
            Role.HEAD_OF_DEPARTMENT,
            branch=branch,
            dept=dept,
            position="Начальник отдела обслуживания клиентов",
        )
        top = user(
            f"top_head_{code}",
            Role.HEAD_OF_DEPARTMENT,
            branch=branch,
            dept=head_dept,
            position="Начальник управления",
        )
        tp_head = user(
            f"tp_head_{code}",
            Role.HEAD_OF_DEPARTMENT,
            branch=branch,
            dept=tp_dept,
            position="Начальник отдела технологического присоединения",
        )
        dept.head, head_dept.head, tp_dept.head = head, top, tp_head
        for department in (dept, head_dept, tp_dept):
            department.save(update_fields=["head"])
        info.head_id, info.tp_head_id = head.pk, tp_head.pk
        for k in range(1, 4):
            login = "specialist" if first and k == 1 else f"specialist_{code}_{k}"
            info.specialists.append(
                user(login, Role.SPECIALIST, branch=branch, dept=dept, position="Ведущий специалист").pk
            )
        info.tp_specialists.append(
            user(
                f"tp_specialist_{code}",
                Role.SPECIALIST,
                branch=branch,
                dept=tp_dept,
                position="Инженер по техприсоединению",
            ).pk
        )
        user(
            "branch_head" if first else f"branch_head_{code}",
            Role.BRANCH_HEAD,
            branch=branch,
            position="Директор филиала",
        )
        op = user(
            "operator" if first else f"operator_{code}",
            Role.OPERATOR,
            branch=branch,
            office=main_office,
            position="Оператор офиса обслуживания",
        )
        operator_ids.append(op.pk)
        infos.append(info)
    cc = user("cc_operator", Role.OPERATOR, position="Оператор контакт-центра")
    user("cc_operator_2", Role.OPERATOR, position="Оператор контакт-центра")
    user("quality", Role.QUALITY_MANAGER, position="Менеджер по качеству обслуживания")
    user("security", Role.SECURITY_OFFICER, position="Специалист по информационной безопасности")
    user("admin", Role.ADMINISTRATOR, position="Администратор системы", is_staff=True, is_superuser=True)
    everyone = "вся компания"
    logins = [
        ("operator", Role.OPERATOR, infos[0].branch.name),
        ("cc_operator", Role.OPERATOR, everyone + " (контакт-центр)"),
        ("specialist", Role.SPECIALIST, f"{infos[0].branch.name} / {infos[0].dept.name}"),
        ("head", Role.HEAD_OF_DEPARTMENT, f"{infos[0].branch.name} / {infos[0].dept.name}"),
        ("branch_head", Role.BRANCH_HEAD, infos[0].branch.name),
        ("quality", Role.QUALITY_MANAGER, everyone),
        ("security", Role.SECURITY_OFFICER, everyone),
        ("admin", Role.ADMINISTRATOR, everyone),
    ]
    return Org(
        company=company,
        branches=infos,
        logins=logins,
        operator_ids=[cc.pk, *operator_ids],
        demo_operator_id=operator_ids[0],
        demo_specialist_id=infos[0].specialists[0],
    )
