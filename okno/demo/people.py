"""Customers, addresses, service points, accounts, contacts and consents of the demo (bulk-written)."""

from __future__ import annotations

import datetime as dt
import random
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from okno.customers.models import Account, Address, Consent, ContactPoint, Customer, ServicePoint, fold
from okno.customers.numbers import make_account_number, make_inn
from okno.demo import words
from okno.demo.org import Org
from okno.demo.writer import TableWriter, flush_all, next_id

KIND_INDIVIDUAL, KIND_LEGAL, KIND_SOLE = 0, 1, 2
KINDS = ("individual", "legal_entity", "sole_proprietor")


@dataclass
class People:
    """What the appeal generator needs about account ``i`` (arrays indexed by account)."""

    count: int
    customers: int
    account_base: int
    address_base: int
    customer_base: int
    customer_of: array  # customer index of the account
    kind_of: bytearray  # customer kind, per customer index
    district_of: array  # global district index of the account
    settlement_of: array  # index within the district's settlements
    street_of: bytearray
    house_of: array
    flat_of: array
    names: list[str]  # display name per customer index (short form)
    districts: list[tuple[int, int]]  # global district index → (branch index, district index in branch)

    def address_text(self, org: Org, i: int) -> str:
        b, d = self.districts[self.district_of[i]]
        s = org.branches[b].settlements[d][self.settlement_of[i]]
        text = f"{s}, {words.STREETS[self.street_of[i]]}, д. {self.house_of[i]}"
        if self.flat_of[i]:
            text += f", кв. {self.flat_of[i]}"
        return text


def _phone(rng: random.Random) -> str:
    return f"+79{int(rng.random() * 10**9):09d}"


def build_people(
    rng: random.Random, org: Org, n_accounts: int, anchor: dt.datetime, progress: Callable[[str], None]
) -> People:
    districts = [(bi, di) for bi, info in enumerate(org.branches) for di in range(len(info.districts))]
    weights = [org.branches[b].weight / len(org.branches[b].districts) for b, _ in districts]
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    n_customers = max(1, n_accounts - n_accounts // 20)  # one customer in twenty has a second account
    people = People(
        count=n_accounts,
        customers=n_customers,
        account_base=next_id(Account),
        address_base=next_id(Address),
        customer_base=next_id(Customer),
        customer_of=array("i"),
        kind_of=bytearray(),
        district_of=array("h"),
        settlement_of=array("b"),
        street_of=bytearray(),
        house_of=array("h"),
        flat_of=array("h"),
        names=[],
        districts=districts,
    )
    sp_base = next_id(ServicePoint)
    w_addr = TableWriter(
        Address,
        [
            "id",
            "region",
            "district",
            "settlement",
            "street",
            "house",
            "flat",
            "postal_code",
            "grid_district_id",
        ],
    )
    w_sp = TableWriter(
        ServicePoint, ["id", "address_id", "branch_id", "grid_district_id", "name", "max_capacity_kw"]
    )
    w_cust = TableWriter(
        Customer,
        [
            "id",
            "kind",
            "last_name",
            "first_name",
            "patronymic",
            "organisation",
            "inn",
            "ogrn",
            "branch_id",
            "search_text",
            "created_at",
            "note",
        ],
    )
    w_acc = TableWriter(
        Account,
        ["id", "number", "customer_id", "service_point_id", "contract_number", "opened_on", "closed_on"],
    )
    w_contact = TableWriter(ContactPoint, ["customer_id", "kind", "value", "is_primary", "verified_at"])
    w_consent = TableWriter(
        Consent, ["customer_id", "channel", "purpose", "given_at", "withdrawn_at", "source"]
    )
    serial = [0] * len(org.branches)
    anchor_day = anchor.date()
    random_ = rng.random

    def randrange(n: int) -> int:  # faster than Random.randrange, still deterministic
        return int(random_() * n)

    def choice(seq):  # type: ignore[no-untyped-def]
        return seq[int(random_() * len(seq))]

    n_streets = len(words.STREETS)
    for i in range(n_accounts):
        g = min(bisect_left(cum, random_() * total), len(districts) - 1)
        bi, di = districts[g]
        info = org.branches[bi]
        district = info.districts[di]
        sett_list = info.settlements[di]
        si = randrange(len(sett_list))
        settlement = sett_list[si]
        street = randrange(n_streets)
        house = 1 + randrange(120)
        city = settlement.startswith("г.")
        flat = 1 + randrange(180) if city and random_() < 0.7 else 0
        people.district_of.append(g)
        people.settlement_of.append(si)
        people.street_of.append(street)
        people.house_of.append(house)
        people.flat_of.append(flat)
        address_id = people.address_base + i
        w_addr.add(
            (
                address_id,
                info.branch.region,
                "",
                settlement,
                words.STREETS[street],
                str(house),
                str(flat) if flat else "",
                f"{160 + bi * 37:03d}{di * 10 + si:03d}",
                district.pk,
            )
        )
        if i < n_customers:
            c = i
            r = random_()
            kind = KIND_INDIVIDUAL if r < 0.9 else KIND_LEGAL if r < 0.97 else KIND_SOLE
            people.kind_of.append(kind)
            last = first = pat = org_name = inn = ogrn = ""
            if kind == KIND_LEGAL:
                form, name = choice(words.ORG_FORMS), choice(words.ORG_WORDS)
                org_name = f"{form} {name}" if "«" in name else f"{form} «{name}»"
                inn = make_inn(f"{bi + 1:02d}{randrange(10**7):07d}")
                ogrn = f"1{bi + 1:02d}{randrange(10**10):010d}"
                display = org_name
            else:
                male = random_() < 0.5
                last = choice(words.LAST_NAMES)
                p = choice(words.PATRONYMICS)
                if male:
                    first, pat = choice(words.MALE_FIRST), p[0]
                else:
                    last, first, pat = words.female_last_name(last), choice(words.FEMALE_FIRST), p[1]
                display = f"{last} {first} {pat}"
                if kind == KIND_SOLE:
                    inn = make_inn(f"{bi + 1:02d}{randrange(10**8):08d}")
                    ogrn = f"3{bi + 1:02d}{randrange(10**12):012d}"
                    display = f"ИП {display}"
            people.names.append(display)
            phone = _phone(rng)
            email = ""
            if random_() < 0.3:
                email = f"{(last or 'info').lower().translate(words.TRANSLIT)}{1000 + randrange(9000)}@pochta.example"
            created = anchor - dt.timedelta(days=30 + randrange(5000), seconds=randrange(86400))
            number = make_account_number(serial[bi] + 1, prefix=str(bi + 1))
            search = fold(
                " ".join(
                    x
                    for x in (
                        last,
                        first,
                        pat,
                        org_name,
                        inn,
                        phone,
                        email,
                        number,
                        f"{settlement}, {words.STREETS[street]}, д. {house}",
                    )
                    if x
                )
            )
            w_cust.add(
                (
                    people.customer_base + c,
                    KINDS[kind],
                    last,
                    first,
                    pat,
                    org_name,
                    inn,
                    ogrn,
                    info.branch.pk,
                    search,
                    created,
                    "",
                )
            )
            w_contact.add((people.customer_base + c, "phone", phone, True, None))
            if email:
                w_contact.add((people.customer_base + c, "email", email, False, None))
            w_consent.add((people.customer_base + c, "any", "personal_data", created, None, "договор"))
            if random_() < 0.4:
                w_consent.add(
                    (people.customer_base + c, "sms", "service_notices", created, None, "заявление в офисе")
                )
        else:
            c = (i * 7919) % n_customers
            number = make_account_number(serial[bi] + 1, prefix=str(bi + 1))
            created = anchor - dt.timedelta(days=30 + randrange(2000))
        serial[bi] += 1
        people.customer_of.append(c)
        kind = people.kind_of[c]
        capacity = Decimal("15.00") if kind == KIND_INDIVIDUAL else Decimal(5 * (3 + randrange(130)))
        w_sp.add(
            (
                sp_base + i,
                address_id,
                info.branch.pk,
                district.pk,
                "" if kind == KIND_INDIVIDUAL else "Нежилое помещение",
                capacity,
            )
        )
        w_acc.add(
            (
                people.account_base + i,
                number,
                people.customer_base + c,
                sp_base + i,
                f"{bi + 1}-{serial[bi]:07d}",
                min(created.date(), anchor_day),
                None,
            )
        )
        if (i + 1) % 50_000 == 0:
            progress(f"accounts: {i + 1}/{n_accounts}")
            # Flush in dependency order so foreign keys hold at every step.
            flush_all(w_addr, w_cust, w_sp, w_acc, w_contact, w_consent)
    flush_all(w_addr, w_cust, w_sp, w_acc, w_contact, w_consent)
    progress(f"accounts: {n_accounts}/{n_accounts}, customers: {n_customers}")
    return people
