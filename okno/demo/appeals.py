"""A year of appeals with their answers, timelines and contact history (bulk-written).

The mix follows the utilities' annual reports: about 81 % of appeals come through the contact
centre, 12 % through digital channels and 7 % through offices, mail and the rest; three in four are
reports (mostly "no power"), then applications, information requests and a few complaints.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field

from okno.appeals.choices import AnswerChannel, AppealType, Topic
from okno.appeals.deadlines import compute_deadline, get_policy_book
from okno.appeals.models import Answer, Appeal, AppealEvent
from okno.core.calendar import get_calendar
from okno.customers.models import ContactEvent
from okno.demo import words
from okno.demo.org import Org
from okno.demo.people import KINDS, People
from okno.demo.writer import TableWriter, flush_all, next_id

CHANNELS = [
    ("contact_center", 0.81),
    ("web", 0.03),
    ("cabinet", 0.03),
    ("email", 0.02),
    ("mobile_app", 0.015),
    ("chat", 0.01),
    ("messenger", 0.01),
    ("sms", 0.005),
    ("office", 0.04),
    ("mail", 0.015),
    ("phone", 0.01),
    ("kiosk", 0.003),
    ("fax", 0.002),
]
KINDS_MIX = [
    ("report", 0.76),
    ("application", 0.11),
    ("info_request", 0.105),
    ("complaint", 0.017),
    ("feedback", 0.005),
    ("suggestion", 0.003),
]
TOPICS_BY_KIND = {
    "report": [("outage", 0.93), ("power_quality", 0.03), ("theft", 0.015), ("equipment", 0.025)],
    "application": [("grid_connection", 0.45), ("metering", 0.35), ("contract", 0.12), ("other", 0.08)],
    "info_request": [
        ("outage", 0.55),
        ("grid_connection", 0.14),
        ("billing", 0.1),
        ("metering", 0.1),
        ("contract", 0.05),
        ("other", 0.06),
    ],
    "complaint": [
        ("outage", 0.35),
        ("power_quality", 0.15),
        ("service_quality", 0.2),
        ("grid_connection", 0.15),
        ("billing", 0.1),
        ("metering", 0.05),
    ],
    "feedback": [("service_quality", 1.0)],
    "suggestion": [("service_quality", 0.6), ("other", 0.4)],
}
ANSWER_CHANNEL = {
    "phone": "phone",
    "contact_center": "phone",
    "email": "email",
    "web": "email",
    "cabinet": "cabinet",
    "office": "in_person",
    "sms": "sms",
    "mobile_app": "cabinet",
    "chat": "email",
    "messenger": "email",
}
# Hours from registration to the answer, (min, max), per type.
ANSWER_HOURS = {
    "report": (1, 36),
    "application": (48, 500),
    "info_request": (1, 120),
    "complaint": (72, 600),
    "feedback": (24, 240),
    "suggestion": (48, 480),
}
IN_CALL = {"contact_center", "phone", "office", "chat"}
SLOW_INTAKE = {"mail", "fax"}
LATE_SHARE = 0.04
PHONE, MAIL, EMAIL, CABINET = "phone", "mail", "email", "cabinet"
CANCEL_SHARE = 0.012
ANONYMOUS_SHARE = 0.15


def _picker(pairs: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    total, cum = 0.0, []
    for _, w in pairs:
        total += w
        cum.append(total)
    return [v for v, _ in pairs], [c / total for c in cum]


def _day_counts(rng: random.Random, n: int, days: int, start: dt.date) -> list[int]:
    """Appeals per day: more in winter and in summer storms, fewer at weekends, a few storm peaks."""
    storms = set(rng.sample(range(days), k=min(days, 10)))
    weights = []
    for d in range(days):
        day = start + dt.timedelta(days=d)
        w = 1.0 + 0.25 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365) ** 2
        w *= 0.8 if day.weekday() >= 5 else 1.0
        w *= 3.0 if d in storms else 1.0
        weights.append(w)
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    for d in sorted(range(days), key=lambda d: counts[d] - exact[d])[: n - sum(counts)]:
        counts[d] += 1
    return counts


@dataclass
class AppealsResult:
    count: int = 0
    counters: dict[int, int] = field(default_factory=dict)
    first_numbers: list[str] = field(default_factory=list)


def build_appeals(
    rng: random.Random,
    org: Org,
    people: People,
    n: int,
    anchor: dt.datetime,
    system_id: int,
    progress: Callable[[str], None],
) -> AppealsResult:
    result = AppealsResult()
    if n <= 0:
        return result
    book, calendar = get_policy_book(), get_calendar()
    channels, ch_cum = _picker(CHANNELS)
    kinds, kind_cum = _picker(KINDS_MIX)
    topics = {k: _picker(v) for k, v in TOPICS_BY_KIND.items()}
    labels = {
        "kind": {k.value: str(k.label) for k in AppealType},
        "topic": {t.value: str(t.label) for t in Topic},
        "answer": {a.value: str(a.label) for a in AnswerChannel},
    }
    tzs = [info.branch.tz for info in org.branches]
    branch_ids = [info.branch.pk for info in org.branches]
    topic_index = {t: i for i, t in enumerate(Topic.values)}
    w_appeal = TableWriter(
        Appeal,
        [
            "id",
            "number",
            "channel",
            "kind",
            "topic",
            "status",
            "customer_id",
            "contact_name",
            "contact_phone",
            "account_id",
            "address_id",
            "address_text",
            "text",
            "preferred_answer_channel",
            "contract_number",
            "received_at",
            "registered_at",
            "registered_by_id",
            "branch_id",
            "department_id",
            "assignee_id",
            "policy_id",
            "deadline_at",
            "base_deadline_at",
            "answered_at",
            "delivered_at",
            "on_time",
            "closed_at",
            "cancel_reason",
            "cancel_comment",
            "repeat_of_id",
            "duplicate_of_id",
            "rating",
            "rating_comment",
            "rated_at",
            "paused_at",
            "version",
        ],
    )
    w_event = TableWriter(
        AppealEvent,
        ["appeal_id", "type", "time", "actor_id", "from_status", "to_status", "reason", "payload"],
    )
    w_answer = TableWriter(
        Answer,
        ["id", "appeal_id", "text", "channel", "author_id", "created_at", "delivered_at", "outgoing_number"],
    )
    w_history = TableWriter(
        ContactEvent,
        [
            "customer_id",
            "kind",
            "occurred_at",
            "channel",
            "summary",
            "ref_type",
            "ref_id",
            "ref_label",
            "actor_id",
        ],
    )
    appeal_id = next_id(Appeal)
    answer_id = next_id(Answer)
    counters: dict[int, int] = {}
    recent: dict[int, tuple[int, int]] = {}  # customer*16+topic → (appeal id, day index)
    deadline_cache: dict[tuple, dt.datetime] = {}
    days = 365
    start = (anchor - dt.timedelta(days=days)).date()
    anchor_ts = anchor.timestamp()
    first_branch_dept = org.branches[0].dept.pk
    random_ = rng.random

    def randrange(n: int) -> int:  # faster than Random.randrange, still deterministic
        return int(random_() * n)

    def choice(seq):  # type: ignore[no-untyped-def]
        return seq[int(random_() * len(seq))]

    def uniform(lo: float, hi: float) -> float:
        return lo + (hi - lo) * random_()

    fromts = dt.datetime.fromtimestamp
    utc = dt.UTC
    done = 0
    for d, count in enumerate(_day_counts(rng, n, days, start)):
        day_ts = dt.datetime.combine(start + dt.timedelta(days=d), dt.time(), tzinfo=utc).timestamp()
        if d % 30 == 0 and recent:
            recent = {k: v for k, v in recent.items() if v[1] >= d - 30}
        # Daytime hours are busier: sort the seconds so numbers grow with time.
        seconds = sorted(min(86399, max(0, int(rng.gauss(13 * 3600, 4 * 3600)))) for _ in range(count))
        recent_window = days - d <= 45
        for sec in seconds:
            ts = day_ts + sec
            channel = channels[bisect_left(ch_cum, random_())]
            kind = kinds[bisect_left(kind_cum, random_())]
            tnames, tcum = topics[kind]
            topic = tnames[bisect_left(tcum, random_())]
            acc = randrange(people.count)
            g = people.district_of[acc]
            bi = people.districts[g][0]
            info = org.branches[bi]
            tz = tzs[bi]
            cust = people.customer_of[acc]
            ckind = KINDS[people.kind_of[cust]]
            anonymous = ckind == "individual" and random_() < ANONYMOUS_SHARE
            address_text = people.address_text(org, acc)
            text = choice(words.TEXTS[topic]).format(addr=address_text, hh=6 + randrange(16))
            if channel in IN_CALL:
                reg_ts = ts + 30 + randrange(300)
            elif channel in SLOW_INTAKE:
                reg_ts = ts + 3600 + randrange(86400 * 2)
            else:
                reg_ts = ts + 60 + randrange(4 * 3600)
            received_at, registered_at = fromts(ts, utc), fromts(reg_ts, utc)
            local_reg = registered_at.astimezone(tz)
            year = local_reg.year
            num = counters.get(year, 0) + 1
            counters[year] = num
            number = f"{year}-{num:06d}"
            if len(result.first_numbers) < 5:
                result.first_numbers.append(number)
            term = book.select(kind, topic, ckind, channel)
            policy_json = "null" if term.id is None else term.id
            if term.unit == "hours":
                deadline = compute_deadline(registered_at, term.unit, term.amount, tz, calendar)
            else:
                key = (term.unit, term.amount, local_reg.date(), bi)
                cached = deadline_cache.get(key)
                if cached is not None:
                    deadline = cached
                else:
                    deadline = deadline_cache[key] = compute_deadline(
                        registered_at, term.unit, term.amount, tz, calendar
                    )
            dl_ts = deadline.timestamp()
            if topic == "grid_connection":
                dept, staff, head = info.tp_dept.pk, info.tp_specialists, info.tp_head_id
            else:
                dept, staff, head = info.dept.pk, info.specialists, info.head_id
            in_call = term.unit == "hours"  # answered during the call by the operator who took it
            if channel in (
                "contact_center",
                "web",
                "cabinet",
                "mobile_app",
                "chat",
                "messenger",
                "sms",
                "kiosk",
            ):
                registered_by = choice(org.operator_ids[:1]) if channel == "contact_center" else system_id
            else:
                registered_by = org.operator_ids[1 + bi]
            assignee = registered_by if in_call else choice(staff)
            answer_channel = ANSWER_CHANNEL.get(channel, MAIL)
            if anonymous and answer_channel in (CABINET, EMAIL):
                answer_channel = PHONE
            # Outcome.
            if in_call:
                ans_ts = reg_ts + 60 + randrange(600) if channel in IN_CALL else reg_ts + randrange(3 * 3600)
                answer_channel = PHONE
            else:
                lo, hi = ANSWER_HOURS[kind]
                ans_ts = reg_ts + uniform(lo, hi) * 3600
            if random_() < LATE_SHARE:
                ans_ts = dl_ts + 3600 + randrange(10 * 86400)
            elif ans_ts > dl_ts:
                ans_ts = dl_ts - 1 + randrange(86399)
            deliver_ts = ans_ts + (86400 + randrange(3 * 86400) if answer_channel == MAIL else 0)
            close_ts = deliver_ts + randrange(2 * 86400)
            # The demo operator keeps most of what they took in the last three weeks in their own queue.
            operator_queue = registered_by == org.demo_operator_id and days - d <= 21 and random_() < 0.8
            stuck = recent_window and (
                random_() < 0.03
                or operator_queue
                or (dept == first_branch_dept and days - d <= 10 and random_() < 0.3)
            )
            if operator_queue:
                assignee = registered_by
            cancelled = not stuck and random_() < CANCEL_SHARE
            repeat_key = (people.customer_base + cust) * 16 + topic_index[topic]
            repeat_of = None
            if not anonymous:
                prev = recent.get(repeat_key)
                if prev is not None:
                    repeat_of = prev[0]
            status = "closed"
            answered = delivered = closed = None
            on_time = None
            if cancelled:
                status = "cancelled"
                closed = fromts(min(anchor_ts, reg_ts + 3600 + randrange(3 * 86400)), utc)
            elif stuck or ans_ts > anchor_ts:
                status = choice(("assigned", "in_progress", "in_progress", "waiting_customer"))
            else:
                answered = fromts(ans_ts, utc)
                if deliver_ts > anchor_ts:
                    status = "answered"
                else:
                    delivered = fromts(deliver_ts, utc)
                    on_time = deliver_ts <= dl_ts
                    if close_ts > anchor_ts:
                        status = "answered"
                    else:
                        closed = fromts(close_ts, utc)
            rating = rated = paused_at = None
            if status == "waiting_customer":
                paused_at = fromts(min(anchor_ts - 60, reg_ts + 3600 + randrange(2 * 86400)), utc)
            rating_comment = ""
            if status == "closed" and random_() < 0.08:
                r = random_()
                rating = 1 if r < 0.05 else 2 if r < 0.1 else 3 if r < 0.2 else 4 if r < 0.45 else 5
                rating_comment = choice(words.RATING_COMMENTS[rating])
                rated = fromts(min(anchor_ts, close_ts + randrange(3 * 86400)), utc)
            customer_id = None if anonymous else people.customer_base + cust
            aid = appeal_id
            appeal_id += 1
            w_appeal.add(
                (
                    aid,
                    number,
                    channel,
                    kind,
                    topic,
                    status,
                    customer_id,
                    _contact_name(rng) if anonymous else "",
                    f"+79{randrange(10**9):09d}" if anonymous else "",
                    None if anonymous else people.account_base + acc,
                    None if anonymous else people.address_base + acc,
                    address_text if anonymous else "",
                    text,
                    answer_channel,
                    "" if anonymous else f"{bi + 1}-{acc + 1:07d}",
                    received_at,
                    registered_at,
                    registered_by,
                    branch_ids[bi],
                    dept,
                    assignee,
                    term.id,
                    deadline,
                    deadline,
                    answered,
                    delivered,
                    on_time,
                    closed,
                    "withdrawn" if cancelled else "",
                    "Заявитель отозвал обращение" if cancelled else "",
                    repeat_of,
                    None,
                    rating,
                    rating_comment,
                    rated,
                    paused_at,
                    1,
                )
            )
            if not anonymous:
                recent[repeat_key] = (aid, d)
            # Timeline.
            w_event.add(
                (
                    aid,
                    "registered",
                    registered_at,
                    registered_by,
                    "",
                    "",
                    "",
                    f'{{"channel": "{channel}", "deadline": "{deadline.isoformat()}", "policy": {policy_json}}}',
                )
            )
            assigned_at = fromts(reg_ts + 60 + randrange(1800), utc)
            if not in_call:
                w_event.add(
                    (
                        aid,
                        "assigned",
                        assigned_at,
                        system_id,
                        "registered",
                        "assigned",
                        "",
                        f'{{"assignee": {assignee}, "auto": true}}',
                    )
                )
            if status in ("in_progress", "waiting_customer") or (
                answered is not None and kind in ("application", "complaint")
            ):
                w_event.add((aid, "started", assigned_at, assignee, "assigned", "in_progress", "", "{}"))
            if paused_at is not None:
                w_event.add(
                    (
                        aid,
                        "waiting",
                        paused_at,
                        assignee,
                        "in_progress",
                        "waiting_customer",
                        "Запрошены документы у заявителя",
                        "{}",
                    )
                )
            if cancelled:
                w_event.add(
                    (
                        aid,
                        "cancelled",
                        closed,
                        head,
                        "assigned",
                        "cancelled",
                        "Заявитель отозвал обращение",
                        '{"code": "withdrawn", "duplicate_of": null}',
                    )
                )
            if customer_id is not None:
                w_history.add(
                    (
                        customer_id,
                        "appeal",
                        registered_at,
                        channel,
                        f"{number}: {labels['kind'][kind]} — {labels['topic'][topic]}",
                        "appeals.appeal",
                        aid,
                        number,
                        registered_by,
                    )
                )
            if answered is not None:
                ans = answer_id
                answer_id += 1
                author = assignee
                w_answer.add(
                    (
                        ans,
                        aid,
                        _answer_text(
                            rng, people.names[cust] if not anonymous else "", number, local_reg, topic
                        ),
                        answer_channel,
                        author,
                        answered,
                        delivered,
                        f"{bi + 1}/{year}-{ans}",
                    )
                )
                w_event.add(
                    (
                        aid,
                        "answered",
                        answered,
                        author,
                        "registered" if in_call else "assigned",
                        "answered",
                        "",
                        f'{{"answer": {ans}, "channel": "{answer_channel}"}}',
                    )
                )
                if customer_id is not None:
                    w_history.add(
                        (
                            customer_id,
                            "answer",
                            answered,
                            channel,
                            f"Ответ на {number} ({labels['answer'][answer_channel]})",
                            "appeals.appeal",
                            aid,
                            number,
                            author,
                        )
                    )
                if delivered is not None:
                    w_event.add(
                        (
                            aid,
                            "delivered",
                            delivered,
                            author,
                            "",
                            "",
                            "",
                            f'{{"answer": {ans}, "on_time": {"true" if on_time else "false"}, "delivered_at": "{delivered.isoformat()}"}}',
                        )
                    )
                if closed is not None:
                    w_event.add((aid, "closed", closed, system_id, "answered", "closed", "", "{}"))
                if rating is not None:
                    w_event.add((aid, "rated", rated, None, "", "", rating_comment, f'{{"score": {rating}}}'))
            done += 1
            if done % 50_000 == 0:
                flush_all(w_appeal, w_answer, w_event, w_history)
                progress(f"appeals: {done}/{n}")
    flush_all(w_appeal, w_answer, w_event, w_history)
    progress(
        f"appeals: {done}/{n}, answers: {w_answer.written}, events: {w_event.written}, history: {w_history.written}"
    )
    result.count = done
    result.counters = counters
    return result


def _contact_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(words.LAST_NAMES)} {rng.choice(words.MALE_FIRST)}"
    return f"{words.female_last_name(rng.choice(words.LAST_NAMES))} {rng.choice(words.FEMALE_FIRST)}"


def _answer_text(rng: random.Random, name: str, number: str, local_reg: dt.datetime, topic: str) -> str:
    greeting = f"Уважаемый(ая) {name}!" if name else "Уважаемый заявитель!"
    body = rng.choice(words.ANSWERS[topic])
    return f"{greeting}\n\nНа ваше обращение № {number} от {local_reg.day:02d}.{local_reg.month:02d}.{local_reg.year} сообщаем: {body}"
