import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from okno.appeals import actions
from okno.appeals.models import Appeal, AppealStat
from okno.core.errors import StaleVersion, TransitionNotAllowed
from okno.customers.models import ContactEvent


def test_full_lifecycle_records_every_transition_with_actor(register, org):
    appeal = register()
    assert appeal.status == "assigned"
    spec = appeal.assignee
    appeal = actions.start_work(appeal, actor=spec)
    ans = actions.answer_appeal(
        appeal, actor=spec, text="Электроснабжение восстановлено в 14:20.", channel="phone"
    )
    appeal.refresh_from_db()
    assert appeal.status == "answered"
    assert ans.delivered_at is not None  # an answer by phone reaches the customer at once
    assert appeal.on_time is True
    appeal = actions.close(appeal, actor=spec)
    assert appeal.status == "closed"
    types = list(appeal.events.values_list("type", flat=True))
    assert types == ["registered", "routed", "assigned", "started", "answered", "delivered", "closed"]
    closed = appeal.events.get(type="closed")
    assert (closed.actor, closed.from_status, closed.to_status) == (spec, "answered", "closed")


def test_a_forbidden_transition_is_refused_with_a_clear_message(register, org):
    appeal = register()
    with pytest.raises(TransitionNotAllowed, match="cannot become"):
        actions.close(appeal, actor=org.head_a)
    appeal.refresh_from_db()
    assert appeal.status == "assigned"


def test_closing_before_the_answer_is_delivered_is_refused(register, org):
    appeal = register(preferred_answer_channel="mail")
    actions.answer_appeal(appeal, actor=org.specialist_a1, text="Ответ направлен почтой.", channel="mail")
    with pytest.raises(TransitionNotAllowed):
        actions.close(appeal, actor=org.specialist_a1)


def test_a_stale_version_never_overwrites_a_newer_change(register, org):
    appeal = register()
    seen_version = appeal.version
    actions.start_work(appeal, actor=org.specialist_a1, expected_version=seen_version)
    with pytest.raises(StaleVersion):
        actions.wait_for_customer(
            appeal, actor=org.specialist_a2, reason="Нужна копия договора", expected_version=seen_version
        )
    appeal.refresh_from_db()
    assert appeal.status == "in_progress"


def test_registration_numbers_are_sequential_per_year(register):
    first, second = register(), register(text="Снова нет света")
    year = timezone.localtime(first.registered_at).year
    assert first.number == f"{year}-000001"
    assert second.number == f"{year}-000002"


def test_auto_assignment_goes_to_the_least_loaded_specialist(register, org):
    a = register()
    b = register(topic="metering", text="Счётчик не показывает")
    assert {a.assignee, b.assignee} == {org.specialist_a1, org.specialist_a2}


def test_routing_follows_the_territory_of_the_account(register, org, customers):
    appeal = register(account=customers.acc_romashka)
    assert appeal.branch == org.b
    assert appeal.department == org.dept_b
    assert appeal.assignee == org.specialist_b


def test_waiting_for_the_customer_pauses_the_clock(register, org):
    appeal = register()
    actions.start_work(appeal, actor=org.specialist_a1)
    actions.wait_for_customer(appeal, actor=org.specialist_a1, reason="Запрошены документы")
    # Pretend the customer took two days to answer.
    Appeal.objects.filter(pk=appeal.pk).update(paused_at=timezone.now() - dt.timedelta(days=2))
    appeal = actions.resume(appeal, actor=org.specialist_a1, reason="Документы получены")
    assert appeal.status == "in_progress"
    shift = appeal.deadline_at - appeal.base_deadline_at
    assert dt.timedelta(days=2) <= shift < dt.timedelta(days=2, minutes=1)


def test_a_deadline_is_extended_once_by_at_most_30_days(
    register, org, mailoutbox, django_capture_on_commit_callbacks
):
    appeal = register(channel="email", contact_email="ivanov@example.ru", preferred_answer_channel="email")
    with pytest.raises(ValidationError) as err:
        actions.extend_deadline(appeal, actor=org.head_a, days=31, reason="Нужна проверка")
    assert "days" in err.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        appeal = actions.extend_deadline(appeal, actor=org.head_a, days=10, reason="Требуется выезд на место")
    assert appeal.deadline_at - appeal.base_deadline_at == dt.timedelta(days=10)
    assert [m.subject for m in mailoutbox] == [f"Срок рассмотрения обращения № {appeal.number} продлён"]
    with pytest.raises(TransitionNotAllowed, match="already been extended"):
        actions.extend_deadline(appeal, actor=org.head_a, days=5, reason="Ещё раз")


def test_late_answer_is_counted_as_late_at_delivery(register, org):
    appeal = register(preferred_answer_channel="mail")
    past = timezone.now() - dt.timedelta(days=1)
    Appeal.objects.filter(pk=appeal.pk).update(deadline_at=past, base_deadline_at=past)
    ans = actions.answer_appeal(appeal, actor=org.specialist_a1, text="Ответ", channel="mail")
    appeal.refresh_from_db()
    assert appeal.on_time is None  # not delivered yet
    actions.mark_delivered(ans, actor=org.specialist_a1)
    appeal.refresh_from_db()
    assert appeal.on_time is False
    stat = AppealStat.objects.get(branch=org.a)
    assert (stat.received, stat.on_time, stat.late) == (1, 0, 1)


def test_daily_statistics_follow_registration_and_delivery(register, org):
    appeal = register()
    actions.answer_appeal(appeal, actor=org.specialist_a1, text="Ответ по телефону", channel="phone")
    register(text="Ещё одно")
    stat = AppealStat.objects.get(branch=org.a, channel="contact_center", kind="report", topic="outage")
    assert (stat.received, stat.on_time, stat.late) == (2, 1, 0)
    assert stat.day == timezone.localtime(appeal.received_at, org.a.tz).date()


def test_repeat_within_the_window_is_flagged(register):
    first = register()
    second = register(text="Света всё ещё нет!")
    assert second.repeat_of_id == first.pk
    assert second.events.filter(type="linked").exists()


def test_cancel_as_duplicate_needs_the_original(register, org):
    first, second = register(), register()
    with pytest.raises(ValidationError) as err:
        actions.cancel(second, actor=org.head_a, reason="duplicate")
    assert "duplicate_of" in err.value.message_dict
    second = actions.cancel(second, actor=org.head_a, reason="duplicate", duplicate_of=first)
    assert (second.status, second.duplicate_of) == ("cancelled", first)


def test_cancel_as_not_to_be_considered_needs_a_reason(register, org):
    appeal = register()
    with pytest.raises(ValidationError):
        actions.cancel(appeal, actor=org.head_a, reason="obscene")
    appeal = actions.cancel(appeal, actor=org.head_a, reason="obscene", comment="Нецензурная лексика")
    assert appeal.events.get(type="cancelled").reason == "Нецензурная лексика"


def test_escalation_is_a_linked_complaint_one_level_up(register, org):
    appeal = register()
    actions.answer_appeal(appeal, actor=appeal.assignee, text="Отказано", channel="phone")
    contested = actions.escalate(appeal, actor=org.operator_a, text="Не согласен с ответом")
    assert contested.kind == "complaint"
    assert contested.escalation_of == appeal
    assert contested.department == org.head_dept_a
    assert contested.assignee == org.top_head_a
    assert appeal.events.filter(type="escalated").exists()


def test_escalating_an_unanswered_appeal_is_refused(register, org):
    with pytest.raises(TransitionNotAllowed):
        actions.escalate(register(), actor=org.operator_a, text="Жалоба")


def test_rating_is_accepted_only_after_the_answer_and_from_1_to_5(register, org):
    appeal = register()
    with pytest.raises(TransitionNotAllowed):
        actions.rate(appeal, actor=org.cc_operator, score=5)
    actions.answer_appeal(appeal, actor=appeal.assignee, text="Ответ", channel="phone")
    with pytest.raises(ValidationError):
        actions.rate(appeal, actor=org.cc_operator, score=6)
    appeal = actions.rate(appeal, actor=org.cc_operator, score=4, comment="Быстро")
    assert (appeal.rating, appeal.rating_comment) == (4, "Быстро")


def test_reliability_complaint_requires_the_fields_of_the_retail_rules(register, org):
    with pytest.raises(ValidationError) as err:
        register(kind="complaint", topic="power_quality", text="Напряжение 180 В")
    assert {"violation_place", "violation_at", "demand"} <= set(err.value.message_dict)
    appeal = register(
        kind="complaint",
        topic="power_quality",
        text="Напряжение 180 В",
        violation_place="Северск, ул. Ленина, 10",
        violation_at=timezone.now() - dt.timedelta(hours=3),
        demand="Восстановить качество напряжения",
    )
    assert appeal.contract_number == "Д-1001"


def test_anonymous_appeal_needs_a_contact_name(org):
    with pytest.raises(ValidationError) as err:
        actions.register_appeal(
            channel="phone",
            kind="report",
            topic="theft",
            text="Воруют свет",
            actor=org.cc_operator,
            branch=org.a,
        )
    assert "contact_name" in err.value.message_dict
    assert Appeal.objects.count() == 0


def test_phone_question_is_due_within_four_hours(register):
    appeal = register(kind="info_request", topic="billing", text="Как оплатить?")
    assert appeal.deadline_at - appeal.registered_at == dt.timedelta(hours=4)


def test_history_shows_the_appeal_and_the_answer(register, org, customers):
    appeal = register()
    actions.answer_appeal(appeal, actor=appeal.assignee, text="Ответ", channel="phone")
    kinds = list(ContactEvent.objects.filter(customer=customers.ivanov).values_list("kind", "ref_label"))
    assert ("appeal", appeal.number) in kinds
    assert ("answer", appeal.number) in kinds


def test_account_of_another_customer_is_refused(register, customers):
    with pytest.raises(ValidationError) as err:
        register(customer=customers.romashka, account=customers.acc_ivanov)
    assert "account" in err.value.message_dict


def test_registration_received_more_than_three_days_ago_is_marked_late(register):
    appeal = register(
        received_at=timezone.now() - dt.timedelta(days=5), channel="mail", preferred_answer_channel="mail"
    )
    assert appeal.registered_late is True


def test_reopen_needs_a_reason_and_keeps_the_first_outcome(register, org):
    appeal = register()
    actions.answer_appeal(appeal, actor=appeal.assignee, text="Ответ", channel="phone")
    actions.close(appeal, actor=appeal.assignee)
    with pytest.raises(ValidationError):
        actions.reopen(appeal, actor=org.head_a, reason=" ")
    appeal = actions.reopen(appeal, actor=org.head_a, reason="Новые обстоятельства")
    assert (appeal.status, appeal.reopen_count, appeal.on_time) == ("in_progress", 1, True)


def test_reassigning_to_another_branch_moves_the_statistics(register, org):
    from okno.appeals.stats import rebuild_stats

    appeal = register()
    actions.assign(appeal, actor=org.admin, department=org.dept_b, reason="Адрес в зоне Восточного филиала")
    assert AppealStat.objects.get(branch=org.a).received == 0
    assert AppealStat.objects.get(branch=org.b).received == 1
    live = sorted(AppealStat.objects.filter(received__gt=0).values_list("branch_id", "received"))
    rebuild_stats()
    assert sorted(AppealStat.objects.filter(received__gt=0).values_list("branch_id", "received")) == live
