"""The only place where appeals change. Every function takes a keyword-only ``actor``, runs in one
transaction under a row lock, records the appeal's timeline and the change log, keeps the daily
statistics in step, and schedules side effects (e-mail, events) for after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.appeals import deadlines, routing
from okno.appeals.choices import (
    OPEN_STATUSES,
    RELIABILITY_TOPICS,
    AnswerChannel,
    AppealType,
    CancelReason,
    Channel,
    ClassifiedBy,
    EventType,
    Status,
    Topic,
)
from okno.appeals.models import (
    Answer,
    AnswerTemplate,
    Appeal,
    AppealCounter,
    AppealEvent,
    AppealStat,
    Attachment,
    Incident,
)
from okno.core import audit, events, jobs
from okno.core.cache import ProcessCache
from okno.core.context import acting_as
from okno.core.errors import StaleVersion, TransitionNotAllowed
from okno.customers.actions import record_contact
from okno.customers.choices import ContactEventKind, CustomerKind
from okno.customers.models import Account, Address, Customer
from okno.customers.numbers import is_valid_phone, normalize_phone
from okno.org.choices import Role
from okno.org.models import Branch, Department, User

# Which status may move to which: the lifecycle of the service standard.
TRANSITIONS: dict[str, set[str]] = {
    Status.REGISTERED: {Status.ASSIGNED, Status.IN_PROGRESS, Status.ANSWERED, Status.CANCELLED},
    Status.ASSIGNED: {
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.WAITING_CUSTOMER,
        Status.ANSWERED,
        Status.CANCELLED,
    },
    Status.IN_PROGRESS: {Status.ASSIGNED, Status.WAITING_CUSTOMER, Status.ANSWERED, Status.CANCELLED},
    Status.WAITING_CUSTOMER: {Status.IN_PROGRESS, Status.ANSWERED, Status.CANCELLED},
    Status.ANSWERED: {Status.CLOSED, Status.IN_PROGRESS},
    Status.CLOSED: {Status.IN_PROGRESS},
    Status.CANCELLED: set(),
}

# A letter registered late is still registered, but not one received more than a year ago.
MAX_RECEIPT_AGE_DAYS = 366

# Who may be given appeals to work on.
ASSIGNABLE_ROLES = {Role.SPECIALIST, Role.HEAD_OF_DEPARTMENT, Role.BRANCH_HEAD}

# Answers given on the spot reach the customer at once.
IMMEDIATE_ANSWER_CHANNELS = {AnswerChannel.PHONE, AnswerChannel.IN_PERSON, AnswerChannel.CABINET}
MAX_ATTACHMENTS_TYPES = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# ---------------------------------------------------------------- helpers


def _check(appeal: Appeal, target: str) -> None:
    if target not in TRANSITIONS[appeal.status]:
        raise TransitionNotAllowed(
            _("An appeal in status “%(from)s” cannot become “%(to)s”.")
            % {"from": Status(appeal.status).label, "to": Status(target).label}
        )


def _lock(appeal: Appeal | int, expected_version: int | None = None) -> Appeal:
    pk = appeal if isinstance(appeal, int) else appeal.pk
    locked = Appeal.objects.select_for_update(of=("self",)).select_related("branch", "customer").get(pk=pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(
            _(
                "The appeal was changed by someone else (version %(now)s, yours %(yours)s); reload it and try again."
            )
            % {"now": locked.version, "yours": expected_version}
        )
    return locked


def _save(appeal: Appeal, fields: list[str]) -> None:
    appeal.version += 1
    appeal.save(update_fields=[*fields, "version"])


def _event(
    appeal: Appeal, type_: str, actor: Any, *, old: str = "", reason: str = "", **payload: Any
) -> AppealEvent:
    return AppealEvent.objects.create(
        appeal=appeal,
        type=type_,
        actor=actor if getattr(actor, "pk", None) else None,
        from_status=old,
        to_status=appeal.status if old else "",
        reason=reason,
        payload=payload,
    )


def _bump_stat(appeal: Appeal, field: str, delta: int = 1) -> None:
    day = timezone.localtime(appeal.received_at, appeal.branch.tz).date()
    key = {
        "day": day,
        "branch_id": appeal.branch_id,
        "channel": appeal.channel,
        "kind": appeal.kind,
        "topic": appeal.topic,
    }
    if AppealStat.objects.filter(**key).update(**{field: F(field) + delta}):
        return
    try:
        with transaction.atomic():
            AppealStat.objects.create(**key, **{field: max(delta, 0)})
    except IntegrityError:
        AppealStat.objects.filter(**key).update(**{field: F(field) + delta})


def _stat_fields(appeal: Appeal) -> list[str]:
    fields = ["received"]
    if appeal.on_time is not None:
        fields.append("on_time" if appeal.on_time else "late")
    if appeal.status == Status.CANCELLED:
        fields.append("cancelled")
    return fields


def _move_stats(appeal: Appeal, branch: Branch) -> None:
    """The appeal now belongs to another branch: move its counts in the daily statistics with it."""
    fields = _stat_fields(appeal)
    for field in fields:
        _bump_stat(appeal, field, -1)
    appeal.branch = branch
    for field in fields:
        _bump_stat(appeal, field, +1)


def _next_number(year: int) -> str:
    """Take the next registration number of ``year``: one ``UPDATE … RETURNING`` under the row lock,
    so numbers have no gaps and the lock is held only until the registering transaction commits."""
    table = AppealCounter._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last", [year])  # noqa: S608 (table name is ours)
        row = cur.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                AppealCounter.objects.create(year=year, last=1)
            return f"{year}-{1:06d}"
        except IntegrityError:
            return _next_number(year)
    return f"{year}-{row[0]:06d}"


def _history(appeal: Appeal, kind: str, summary: str, actor: Any, when: dt.datetime | None = None) -> None:
    if appeal.customer_id:
        record_contact(
            appeal.customer_id,
            kind=kind,
            summary=summary,
            channel=appeal.channel,
            ref=("appeals.appeal", appeal.pk, appeal.number),
            actor=actor,
            occurred_at=when,
        )


def _log_flag(appeal: Appeal, field: str, value: dt.datetime) -> None:
    """Change-log entry for a race-safe conditional UPDATE (which bypasses model signals)."""
    audit.log_change(appeal, "update", {field: None}, {field: value.isoformat()})


def _end_pause(appeal: Appeal, now: dt.datetime | None = None) -> int:
    """Stop the clock's pause (if any): add the paused time and move the deadline. Returns the seconds."""
    if appeal.paused_at is None:
        return 0
    paused = max(int(((now or timezone.now()) - appeal.paused_at).total_seconds()), 0)
    appeal.paused_seconds += paused
    appeal.paused_at = None
    _recompute_deadline(appeal)
    return paused


def _recompute_deadline(appeal: Appeal) -> None:
    appeal.deadline_at = deadlines.effective_deadline(
        appeal.base_deadline_at, appeal.paused_seconds, appeal.extended_days
    )


# ---------------------------------------------------------------- registration


def customer_contact(customer: Customer | None, kind: str) -> str:
    """The customer's primary phone or e-mail ("" when none); one query per customer object."""
    if customer is None:
        return ""
    cached = getattr(customer, "_okno_contacts", None)
    if cached is None:
        cached = {}
        for k, value in customer.contacts.order_by("-is_primary", "id").values_list("kind", "value"):
            cached.setdefault(k, value)
        customer._okno_contacts = cached  # type: ignore[attr-defined]
    return cached.get(kind, "")


def validate_registration(
    *,
    channel: str,
    kind: str,
    topic: str,
    text: str,
    customer: Customer | None,
    account: Account | None,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    preferred_answer_channel: str,
    received_at: dt.datetime,
    now: dt.datetime,
    complaint: dict[str, Any],
) -> dict[str, list[str]]:
    """Field errors of a registration; empty when it may go ahead."""
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not (text or "").strip():
        err("text", _("Write what the customer asks or reports."))
    if customer is None and not (contact_name or "").strip():
        err("contact_name", _("Choose a customer or give the name of the person who applies."))
    if contact_phone and not is_valid_phone(contact_phone):
        err("contact_phone", _("Phone number %(p)s is not valid.") % {"p": contact_phone})
    if account is not None and customer is not None and account.customer_id != customer.pk:
        err("account", _("Account %(n)s belongs to another customer.") % {"n": account.number})
    if received_at > now + dt.timedelta(minutes=5):
        err("received_at", _("The time of receipt cannot be in the future."))
    elif received_at < now - dt.timedelta(days=MAX_RECEIPT_AGE_DAYS):
        err("received_at", _("The time of receipt is more than a year ago."))
    if contact_email:
        try:
            validate_email(contact_email)
        except ValidationError:
            err("contact_email", _("E-mail address %(e)s is not valid.") % {"e": contact_email[:100]})
    email = contact_email or customer_contact(customer, "email")
    phone = contact_phone or customer_contact(customer, "phone")
    if preferred_answer_channel == AnswerChannel.EMAIL and not email:
        err("contact_email", _("The answer is wanted by e-mail: give an e-mail address."))
    if preferred_answer_channel in (AnswerChannel.PHONE, AnswerChannel.SMS) and not phone:
        err("contact_phone", _("The answer is wanted by phone: give a phone number."))
    if kind == AppealType.COMPLAINT and topic in RELIABILITY_TOPICS:
        # Retail-market rules: a complaint about reliability or quality of supply states these.
        if not (account or complaint.get("contract_number")):
            err("contract_number", _("A complaint about supply needs the contract or account number."))
        if not complaint.get("violation_place"):
            err(
                "violation_place",
                _("A complaint about supply needs the address of the device where it happened."),
            )
        if not complaint.get("violation_at"):
            err("violation_at", _("A complaint about supply needs the time of the violation."))
        if not complaint.get("demand"):
            err("demand", _("A complaint about supply needs the customer's demand."))
        if not (phone or email):
            err("contact_phone", _("A complaint about supply needs a phone number or an e-mail."))
    return errors


def register_appeal(
    *,
    channel: str,
    kind: str,
    topic: str,
    text: str,
    actor: User,
    customer: Customer | None = None,
    account: Account | None = None,
    address: Address | None = None,
    address_text: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    preferred_answer_channel: str = "",
    received_at: dt.datetime | None = None,
    contract_number: str = "",
    violation_place: str = "",
    violation_at: dt.datetime | None = None,
    demand: str = "",
    incident: Incident | None = None,
    escalation_of: Appeal | None = None,
    branch: Branch | None = None,
    auto_assign: bool = True,
    classified_by: str = "",
    suggestion: dict[str, Any] | None = None,
) -> Appeal:
    """Register an appeal from any channel: number, routing, deadline, duplicates, history.

    ``classified_by`` says who decided the type and topic (:class:`~okno.appeals.choices.ClassifiedBy`);
    ``suggestion`` is what the assistant read in the text (keys ``kind``, ``topic``, ``kind_confidence``,
    ``topic_confidence``, ``reasons``, ``account``: an account named in the text that is not linked),
    recorded on the appeal and in its registration event."""
    now = timezone.now()
    received_at = received_at or now
    if account is not None and customer is None:
        customer = account.customer
    if not preferred_answer_channel:
        defaults: dict[str, str] = {
            Channel.PHONE: AnswerChannel.PHONE,
            Channel.CONTACT_CENTER: AnswerChannel.PHONE,
            Channel.EMAIL: AnswerChannel.EMAIL,
            Channel.WEB: AnswerChannel.EMAIL if contact_email else AnswerChannel.MAIL,
            Channel.CABINET: AnswerChannel.CABINET,
            Channel.OFFICE: AnswerChannel.IN_PERSON,
            Channel.SMS: AnswerChannel.SMS,
        }
        preferred_answer_channel = defaults.get(channel, AnswerChannel.MAIL)
    errors: dict[str, list[str]] = {}
    for field, value, choices in (
        ("channel", channel, Channel.values),
        ("kind", kind, AppealType.values),
        ("topic", topic, Topic.values),
        ("preferred_answer_channel", preferred_answer_channel, AnswerChannel.values),
        ("classified_by", classified_by, ["", *ClassifiedBy.values]),
    ):
        if value not in choices:
            errors.setdefault(field, []).append(_("“%(v)s” is not a valid choice.") % {"v": value})
    suggested = _suggestion_fields(suggestion, errors)
    if errors:
        raise ValidationError(errors)
    complaint = {
        "contract_number": contract_number,
        "violation_place": violation_place,
        "violation_at": violation_at,
        "demand": demand,
    }
    errors = validate_registration(
        channel=channel,
        kind=kind,
        topic=topic,
        text=text,
        customer=customer,
        account=account,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        preferred_answer_channel=preferred_answer_channel,
        received_at=received_at,
        now=now,
        complaint=complaint,
    )
    if errors:
        raise ValidationError(errors)

    # Territory: the service point of the account, else the address, else the customer's branch.
    district_id = None
    territory_branch_id = None
    if account is not None:
        sp = account.service_point
        district_id, territory_branch_id = sp.grid_district_id, sp.branch_id
        address = address or sp.address
    elif address is not None and address.grid_district_id:
        district_id = address.grid_district_id
        territory_branch_id = address.grid_district.branch_id if address.grid_district else None
    if territory_branch_id is None and customer is not None:
        territory_branch_id = customer.branch_id
    if branch is not None:
        territory_branch_id = branch.pk
    customer_kind = customer.kind if customer else CustomerKind.INDIVIDUAL
    route = routing.get_router().route(
        topic=topic, grid_district_id=district_id, branch_id=territory_branch_id, customer_kind=customer_kind
    )
    branch_id = route.branch_id or territory_branch_id or _default_branch_id(actor)
    if branch_id is None:
        raise ValidationError(
            {"branch": [_("No branch can handle this appeal: give an account or an address.")]}
        )
    branch_obj = branch if branch is not None and branch.pk == branch_id else _branch(branch_id)
    department_id = route.department_id
    if escalation_of is not None:
        department_id = _one_level_up(escalation_of)

    term, base_deadline = deadlines.deadline_for(
        registered_at=now,
        kind=kind,
        topic=topic,
        customer_kind=customer_kind,
        channel=channel,
        tz=branch_obj.tz,
    )
    registered_late = now > deadlines.registration_deadline(
        received_at, term.registration_days, branch_obj.tz
    )

    assignee = None
    if auto_assign and department_id:
        if escalation_of is not None:
            assignee = _head_for_escalation(escalation_of, department_id, branch_id)
        assignee = assignee or routing.least_loaded_specialist(department_id)
    repeat_of_id = None
    if customer is not None and escalation_of is None:
        window = now - dt.timedelta(days=settings.OKNO_REPEAT_WINDOW_DAYS)
        repeat_of_id = (
            Appeal.objects.filter(customer=customer, topic=topic, received_at__gte=window)
            .exclude(status=Status.CANCELLED)
            .order_by("-received_at")
            .values_list("id", flat=True)
            .first()
        )

    with transaction.atomic(), acting_as(actor):
        appeal = Appeal(
            channel=channel,
            kind=kind,
            topic=topic,
            text=text.strip(),
            customer=customer,
            account=account,
            address=address,
            address_text=address_text.strip(),
            contact_name=contact_name.strip(),
            contact_phone=normalize_phone(contact_phone) if contact_phone else "",
            contact_email=contact_email.strip().lower(),
            preferred_answer_channel=preferred_answer_channel,
            contract_number=contract_number or (account.contract_number if account else ""),
            violation_place=violation_place,
            violation_at=violation_at,
            demand=demand,
            received_at=received_at,
            registered_at=now,
            registered_by=actor,
            registered_late=registered_late,
            branch=branch_obj,
            department_id=department_id,
            assignee=assignee,
            status=Status.ASSIGNED if assignee is not None else Status.REGISTERED,
            policy_id=term.id,
            base_deadline_at=base_deadline,
            deadline_at=base_deadline,
            incident=incident,
            escalation_of=escalation_of,
            repeat_of_id=repeat_of_id,
            classified_by=classified_by,
            **suggested,
        )
        # The number is taken last before the insert, so the counter row stays locked briefly.
        appeal.number = _next_number(timezone.localtime(now, branch_obj.tz).year)
        appeal.save(force_insert=True)
        actor_id = actor.pk if getattr(actor, "pk", None) else None
        timeline = [
            AppealEvent(
                appeal=appeal,
                type=EventType.REGISTERED,
                time=now,
                actor_id=actor_id,
                payload={
                    "channel": channel,
                    "deadline": appeal.deadline_at.isoformat(),
                    "policy": term.id,
                    **_suggestion_payload(appeal),
                },
            )
        ]
        if route.rule_id:
            timeline.append(
                AppealEvent(
                    appeal=appeal,
                    type=EventType.ROUTED,
                    time=now,
                    actor_id=actor_id,
                    payload={"rule": route.rule_id, "department": department_id},
                )
            )
        if assignee is not None:
            timeline.append(
                AppealEvent(
                    appeal=appeal,
                    type=EventType.ASSIGNED,
                    time=now,
                    actor_id=actor_id,
                    from_status=Status.REGISTERED,
                    to_status=Status.ASSIGNED,
                    payload={"assignee": assignee.pk, "auto": True},
                )
            )
        if repeat_of_id:
            timeline.append(
                AppealEvent(
                    appeal=appeal,
                    type=EventType.LINKED,
                    time=now,
                    actor_id=actor_id,
                    payload={"repeat_of": repeat_of_id},
                )
            )
        AppealEvent.objects.bulk_create(timeline)
        if escalation_of is not None:
            _event(escalation_of, EventType.ESCALATED, actor, escalation=appeal.pk, number=appeal.number)
        _bump_stat(appeal, "received")
        _history(
            appeal,
            ContactEventKind.APPEAL,
            f"{appeal.number}: {appeal.get_kind_display()} — {appeal.get_topic_display()}",
            actor,
            now,
        )
        events.publish("appeal.registered", appeal_id=appeal.pk)
        if channel in (Channel.EMAIL, Channel.WEB, Channel.CABINET, Channel.MOBILE_APP):
            email = appeal.contact_email or customer_contact(customer, "email")
            if email:
                jobs.enqueue("appeals.acknowledge", appeal_id=appeal.pk, email=email)
    return appeal


def _suggestion_fields(suggestion: dict[str, Any] | None, errors: dict[str, list[str]]) -> dict[str, Any]:
    """The Appeal fields of an assistant's suggestion (checked: codes from the choices, 0..1 confidences)."""
    if not suggestion:
        return {}
    kind = str(suggestion.get("kind") or "")
    topic = str(suggestion.get("topic") or "")
    if kind and kind not in AppealType.values:
        errors.setdefault("suggested_kind", []).append(_("“%(v)s” is not a valid choice.") % {"v": kind})
    if topic and topic not in Topic.values:
        errors.setdefault("suggested_topic", []).append(_("“%(v)s” is not a valid choice.") % {"v": topic})

    def confidence(key: str) -> float | None:
        value = suggestion.get(key)
        if value is None:
            return None
        return min(max(float(value), 0.0), 1.0)

    account = suggestion.get("account")
    return {
        "suggested_kind": kind,
        "suggested_topic": topic,
        "suggested_kind_confidence": confidence("kind_confidence") if kind else None,
        "suggested_topic_confidence": confidence("topic_confidence") if topic else None,
        "suggestion_reasons": [str(r)[:40] for r in (suggestion.get("reasons") or [])][:5],
        "suggested_account": account if isinstance(account, Account) else None,
    }


def _suggestion_payload(appeal: Appeal) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if appeal.classified_by:
        out["classified_by"] = appeal.classified_by
    if appeal.has_suggestion:
        out["suggestion"] = {
            "kind": appeal.suggested_kind,
            "topic": appeal.suggested_topic,
            "kind_confidence": appeal.suggested_kind_confidence,
            "topic_confidence": appeal.suggested_topic_confidence,
            "reasons": appeal.suggestion_reasons,
            "account": appeal.suggested_account_id,
        }
    return out


_branches: ProcessCache[dict[int, Branch]] = ProcessCache(
    lambda: {b.pk: b for b in Branch.objects.select_related("company")}
)
post_save.connect(_branches.invalidate, sender=Branch, dispatch_uid="okno-appeals-branch-cache")
post_delete.connect(_branches.invalidate, sender=Branch, dispatch_uid="okno-appeals-branch-cache-del")


def _branch(branch_id: int) -> Branch:
    """Branches change rarely: read them from the per-process cache."""
    found = _branches.get().get(branch_id)
    if found is None:
        _branches.invalidate()
        found = _branches.get()[branch_id]
    return found


def _default_branch_id(actor: User) -> int | None:
    ids = [] if actor.all_branches else actor.branch_ids
    if ids:
        return ids[0]
    return Branch.objects.order_by("id").values_list("id", flat=True).first()


def _one_level_up(contested: Appeal) -> int | None:
    dept = contested.department
    if dept is not None and dept.parent_id:
        return dept.parent_id
    return contested.department_id


def _head_for_escalation(contested: Appeal, department_id: int, branch_id: int) -> User | None:
    """Who handles an escalation: the head of the department above, else the branch head."""
    dept = Department.objects.filter(pk=department_id).select_related("head").first()
    if (
        dept is not None
        and dept.head is not None
        and dept.head_id != contested.assignee_id
        and dept.head.is_active
    ):
        return dept.head
    return _branch_head(branch_id)


def _branch_head(branch_id: int) -> User | None:
    return (
        User.objects.filter(role=Role.BRANCH_HEAD, branches=branch_id, is_active=True).order_by("id").first()
    )


# ---------------------------------------------------------------- lifecycle


def assign(
    appeal: Appeal,
    *,
    actor: User,
    department: Department | None = None,
    assignee: User | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Appeal:
    """Manual (re)assignment to a department and/or a person; a department alone picks the least loaded specialist."""
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        _check(appeal, Status.ASSIGNED)
        if department is None and assignee is None:
            raise ValidationError({"assignee": [_("Choose a department or a person.")]})
        if assignee is not None:
            if not assignee.is_active or assignee.is_system or assignee.role not in ASSIGNABLE_ROLES:
                raise ValidationError({"assignee": [_("%(u)s cannot take appeals.") % {"u": assignee}]})
            if department is None:
                department = assignee.department
            elif assignee.department_id != department.pk:
                raise ValidationError(
                    {"assignee": [_("%(u)s does not work in %(d)s.") % {"u": assignee, "d": department}]}
                )
        if department is not None and not actor.in_scope(department.branch_id) and not actor.is_system:
            raise ValidationError({"department": [_("The department is outside your branches.")]})
        if assignee is None and department is not None:
            assignee = routing.least_loaded_specialist(department.pk)
        old = appeal.status
        if department is not None and department.branch_id != appeal.branch_id:
            _move_stats(appeal, department.branch)
        appeal.department = department
        appeal.assignee = assignee
        appeal.status = Status.ASSIGNED
        _save(appeal, ["department", "assignee", "status", "branch"])
        _event(
            appeal,
            EventType.ASSIGNED,
            actor,
            old=old,
            reason=reason,
            assignee=assignee.pk if assignee else None,
            department=department.pk if department else None,
        )
        events.publish("appeal.assigned", appeal_id=appeal.pk)
    return appeal


def start_work(appeal: Appeal, *, actor: User, expected_version: int | None = None) -> Appeal:
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        _check(appeal, Status.IN_PROGRESS)
        if appeal.status == Status.WAITING_CUSTOMER:
            return _resume_locked(appeal, actor, "")
        old = appeal.status
        appeal.status = Status.IN_PROGRESS
        fields = ["status"]
        if appeal.assignee_id is None:
            appeal.assignee = actor
            fields.append("assignee")
        _save(appeal, fields)
        _event(appeal, EventType.STARTED, actor, old=old)
    return appeal


def wait_for_customer(
    appeal: Appeal, *, actor: User, reason: str, expected_version: int | None = None
) -> Appeal:
    """Pause the clock while the customer is asked for documents or details."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Say what is asked of the customer.")]})
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        _check(appeal, Status.WAITING_CUSTOMER)
        old = appeal.status
        appeal.status = Status.WAITING_CUSTOMER
        appeal.paused_at = timezone.now()
        _save(appeal, ["status", "paused_at"])
        _event(appeal, EventType.WAITING, actor, old=old, reason=reason)
    return appeal


def _resume_locked(appeal: Appeal, actor: User, reason: str) -> Appeal:
    old = appeal.status
    paused = _end_pause(appeal)
    appeal.status = Status.IN_PROGRESS
    _save(appeal, ["status", "paused_at", "paused_seconds", "deadline_at"])
    _event(
        appeal,
        EventType.RESUMED,
        actor,
        old=old,
        reason=reason,
        paused_seconds=paused,
        deadline=appeal.deadline_at.isoformat(),
    )
    return appeal


def resume(appeal: Appeal, *, actor: User, reason: str = "", expected_version: int | None = None) -> Appeal:
    """The customer answered: the clock runs again and the deadline moves by the time paused."""
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        if appeal.status != Status.WAITING_CUSTOMER:
            raise TransitionNotAllowed(_("Only an appeal waiting for the customer can be resumed."))
        return _resume_locked(appeal, actor, reason)


def extend_deadline(
    appeal: Appeal, *, actor: User, days: int, reason: str, expected_version: int | None = None
) -> Appeal:
    """Extend the deadline once, by at most 30 days, with a reason; the customer is notified."""
    errors: dict[str, list[str]] = {}
    if not 1 <= days <= deadlines.MAX_EXTENSION_DAYS:
        errors["days"] = [
            _("A deadline can be extended by 1 to %(n)s days.") % {"n": deadlines.MAX_EXTENSION_DAYS}
        ]
    if not reason.strip():
        errors["reason"] = [_("Give the reason for the extension.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        if not appeal.is_open:
            raise TransitionNotAllowed(_("Only an open appeal can have its deadline extended."))
        if appeal.extended_days:
            raise TransitionNotAllowed(_("The deadline of this appeal has already been extended once."))
        old_deadline = appeal.deadline_at
        appeal.extended_days = days
        appeal.extension_reason = reason.strip()
        appeal.warned_at = None
        _recompute_deadline(appeal)
        _save(appeal, ["extended_days", "extension_reason", "deadline_at", "warned_at"])
        _event(
            appeal,
            EventType.EXTENDED,
            actor,
            reason=reason,
            days=days,
            old_deadline=old_deadline.isoformat(),
            deadline=appeal.deadline_at.isoformat(),
        )
        _history(
            appeal,
            ContactEventKind.NOTIFICATION,
            _("Deadline of %(n)s extended to %(d)s")
            % {"n": appeal.number, "d": f"{appeal.local_deadline:%d.%m.%Y}"},
            actor,
        )
        email = appeal.contact_email or customer_contact(appeal.customer, "email")
        if email:
            jobs.enqueue("appeals.extension_notice", appeal_id=appeal.pk, email=email)
    return appeal


def answer_appeal(
    appeal: Appeal,
    *,
    actor: User,
    text: str,
    channel: str = "",
    template: AnswerTemplate | None = None,
    delivered_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Answer:
    """Write the answer. Given on the spot (phone, in person, cabinet) it is delivered at once;
    by e-mail it is sent by a job that records the delivery; by post the dispatch is recorded."""
    if not text.strip():
        raise ValidationError({"text": [_("The answer is empty.")]})
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        _check(appeal, Status.ANSWERED)
        channel = channel or appeal.preferred_answer_channel
        if channel not in AnswerChannel.values:
            raise ValidationError({"channel": [_("“%(v)s” is not a valid choice.") % {"v": channel}]})
        email = appeal.contact_email or customer_contact(appeal.customer, "email")
        if channel == AnswerChannel.EMAIL and not email:
            raise ValidationError({"channel": [_("There is no e-mail address to send the answer to.")]})
        now = timezone.now()
        _end_pause(appeal, now)
        ans = Answer.objects.create(
            appeal=appeal,
            template=template,
            text=text.strip(),
            channel=channel,
            author=actor,
            created_at=now,
            outgoing_number=f"{appeal.number}/{appeal.answers.count() + 1}",
        )
        old = appeal.status
        appeal.status = Status.ANSWERED
        appeal.answered_at = now
        if appeal.assignee_id is None:
            appeal.assignee = actor
        _save(appeal, ["status", "answered_at", "assignee", "paused_at", "paused_seconds", "deadline_at"])
        _event(appeal, EventType.ANSWERED, actor, old=old, answer=ans.pk, channel=channel)
        _history(
            appeal,
            ContactEventKind.ANSWER,
            _("Answer to %(n)s (%(c)s)") % {"n": appeal.number, "c": ans.get_channel_display()},
            actor,
            now,
        )
        events.publish("appeal.answered", appeal_id=appeal.pk, answer_id=ans.pk)
        if delivered_at is not None or channel in IMMEDIATE_ANSWER_CHANNELS:
            _deliver_locked(appeal, ans, delivered_at or now, actor)
        elif channel == AnswerChannel.EMAIL:
            jobs.enqueue("appeals.send_answer", answer_id=ans.pk, email=email)
    return ans


def _deliver_locked(appeal: Appeal, ans: Answer, when: dt.datetime, actor: Any) -> None:
    if ans.delivered_at is not None:
        return
    if when < ans.created_at - dt.timedelta(minutes=1):
        raise ValidationError({"delivered_at": [_("An answer cannot be delivered before it was written.")]})
    if when > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"delivered_at": [_("The delivery time cannot be in the future.")]})
    ans.delivered_at = when
    ans.save(update_fields=["delivered_at"])
    first = appeal.delivered_at is None
    appeal.delivered_at = when
    fields = ["delivered_at"]
    if first:
        appeal.on_time = when <= appeal.deadline_at
        fields.append("on_time")
    _save(appeal, fields)
    _event(
        appeal,
        EventType.DELIVERED,
        actor,
        answer=ans.pk,
        on_time=appeal.on_time,
        delivered_at=when.isoformat(),
    )
    if first:
        _bump_stat(appeal, "on_time" if appeal.on_time else "late")
    events.publish("appeal.delivered", appeal_id=appeal.pk, answer_id=ans.pk)


def mark_delivered(
    answer: Answer,
    *,
    actor: Any,
    delivered_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Answer:
    """Record when the answer reached the customer (a letter posted, an e-mail accepted by the server)."""
    when = delivered_at or timezone.now()
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(answer.appeal_id, expected_version)
        answer = Answer.objects.select_for_update().get(pk=answer.pk)
        _deliver_locked(appeal, answer, when, actor)
    return answer


def close(appeal: Appeal, *, actor: User, reason: str = "", expected_version: int | None = None) -> Appeal:
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        _check(appeal, Status.CLOSED)
        if appeal.delivered_at is None:
            raise TransitionNotAllowed(
                _("The answer has not reached the customer yet; record its delivery first.")
            )
        old = appeal.status
        appeal.status = Status.CLOSED
        appeal.closed_at = timezone.now()
        _save(appeal, ["status", "closed_at"])
        _event(appeal, EventType.CLOSED, actor, old=old, reason=reason)
        events.publish("appeal.closed", appeal_id=appeal.pk)
    return appeal


def reopen(appeal: Appeal, *, actor: User, reason: str, expected_version: int | None = None) -> Appeal:
    """Back to work after an answer (new circumstances); the on-time outcome of the first answer stays."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for reopening.")]})
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        if appeal.status not in (Status.ANSWERED, Status.CLOSED):
            raise TransitionNotAllowed(_("Only an answered or closed appeal can be reopened."))
        old = appeal.status
        appeal.status = Status.IN_PROGRESS
        appeal.closed_at = None
        appeal.reopen_count += 1
        _save(appeal, ["status", "closed_at", "reopen_count"])
        _event(appeal, EventType.REOPENED, actor, old=old, reason=reason)
    return appeal


def cancel(
    appeal: Appeal,
    *,
    actor: User,
    reason: str,
    comment: str = "",
    duplicate_of: Appeal | None = None,
    expected_version: int | None = None,
) -> Appeal:
    """Cancel as a duplicate (of another appeal) or as not to be considered (with the reason)."""
    errors: dict[str, list[str]] = {}
    if reason not in CancelReason.values:
        errors["reason"] = [_("Choose a reason for cancelling.")]
    if reason == CancelReason.DUPLICATE and duplicate_of is None:
        errors["duplicate_of"] = [_("Say which appeal this one duplicates.")]
    if reason != CancelReason.DUPLICATE and not comment.strip():
        errors["comment"] = [_("Explain why the appeal is not to be considered.")]
    if duplicate_of is not None and duplicate_of.pk == appeal.pk:
        errors["duplicate_of"] = [_("An appeal cannot duplicate itself.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        _check(appeal, Status.CANCELLED)
        old = appeal.status
        appeal.status = Status.CANCELLED
        appeal.cancel_reason = reason
        appeal.cancel_comment = comment.strip()
        appeal.duplicate_of = duplicate_of
        appeal.closed_at = timezone.now()
        _save(appeal, ["status", "cancel_reason", "cancel_comment", "duplicate_of", "closed_at"])
        _event(
            appeal,
            EventType.CANCELLED,
            actor,
            old=old,
            reason=comment or str(CancelReason(reason).label),
            code=reason,
            duplicate_of=duplicate_of.number if duplicate_of else None,
        )
        _bump_stat(appeal, "cancelled")
    return appeal


def escalate(
    appeal: Appeal,
    *,
    actor: User,
    text: str,
    channel: str = Channel.OFFICE,
    received_at: dt.datetime | None = None,
) -> Appeal:
    """The customer contests the answer (обжалование): a new complaint linked to it, one level up."""
    appeal = Appeal.objects.select_related("branch", "department", "customer", "account", "address").get(
        pk=appeal.pk
    )
    if appeal.status not in (Status.ANSWERED, Status.CLOSED):
        raise TransitionNotAllowed(_("Only an answered appeal can be contested."))
    if appeal.escalations.filter(status__in=OPEN_STATUSES).exists():
        raise TransitionNotAllowed(_("This answer is already being contested in an open appeal."))
    return register_appeal(
        channel=channel,
        kind=AppealType.COMPLAINT,
        topic=appeal.topic,
        text=text,
        actor=actor,
        customer=appeal.customer,
        account=appeal.account,
        address=appeal.address,
        address_text=appeal.address_text,
        contact_name=appeal.contact_name,
        contact_phone=appeal.contact_phone,
        contact_email=appeal.contact_email,
        preferred_answer_channel=appeal.preferred_answer_channel,
        received_at=received_at,
        escalation_of=appeal,
        contract_number=appeal.contract_number,
        violation_place=appeal.violation_place or appeal.address_text or "—",
        violation_at=appeal.violation_at or appeal.received_at,
        demand=appeal.demand or text,
        branch=appeal.branch,
    )


def reclassify(
    appeal: Appeal,
    *,
    actor: User,
    kind: str,
    topic: str,
    account: Account | None = None,
    expected_version: int | None = None,
) -> Appeal:
    """An operator confirms or changes the type and topic (and may link the account named in the text).

    The deadline follows the policy of the new type and topic (counted from the registration, keeping
    pauses and an extension); the daily statistics move with the appeal. The department is not changed
    here: passing the appeal on is ``assign``."""
    errors: dict[str, list[str]] = {}
    if kind not in AppealType.values:
        errors.setdefault("kind", []).append(_("“%(v)s” is not a valid choice.") % {"v": kind})
    if topic not in Topic.values:
        errors.setdefault("topic", []).append(_("“%(v)s” is not a valid choice.") % {"v": topic})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        if not appeal.is_open:
            raise TransitionNotAllowed(_("The type and topic of a finished appeal cannot be changed."))
        if account is not None and appeal.customer_id and account.customer_id != appeal.customer_id:
            raise ValidationError(
                {"account": [_("Account %(n)s belongs to another customer.") % {"n": account.number}]}
            )
        if kind == AppealType.COMPLAINT and topic in RELIABILITY_TOPICS:
            # What validate_registration requires of a supply complaint, the contact included.
            holder = appeal.customer or (account.customer if account is not None else None)
            reachable = (
                appeal.contact_phone
                or appeal.contact_email
                or customer_contact(holder, "phone")
                or customer_contact(holder, "email")
            )
            missing = not (
                (appeal.account_id or account or appeal.contract_number)
                and appeal.violation_place
                and appeal.violation_at
                and appeal.demand
                and reachable
            )
            if missing:
                raise ValidationError(
                    {
                        "kind": [
                            _(
                                "A complaint about supply needs the contract, the place and time of the "
                                "violation, the demand and a phone or an e-mail; register it as a report or "
                                "register a new complaint."
                            )
                        ]
                    }
                )
        old_kind, old_topic, old_account = appeal.kind, appeal.topic, appeal.account_id
        old_deadline = appeal.deadline_at
        fields = ["classified_by"]
        if (kind, topic) != (old_kind, old_topic):
            stat_fields = _stat_fields(appeal)
            for field in stat_fields:
                _bump_stat(appeal, field, -1)
            appeal.kind, appeal.topic = kind, topic
            for field in stat_fields:
                _bump_stat(appeal, field, +1)
            term, base = deadlines.deadline_for(
                registered_at=appeal.registered_at,
                kind=kind,
                topic=topic,
                customer_kind=appeal.customer.kind if appeal.customer else CustomerKind.INDIVIDUAL,
                channel=appeal.channel,
                tz=appeal.branch.tz,
            )
            appeal.policy_id = term.id
            appeal.base_deadline_at = base
            _recompute_deadline(appeal)
            fields += ["kind", "topic", "policy", "base_deadline_at", "deadline_at"]
            if appeal.deadline_at != old_deadline:
                # As with an extension: the warning (and an overdue escalation, when the new deadline
                # is still ahead) is given again for the new deadline.
                appeal.warned_at = None
                fields.append("warned_at")
                if appeal.overdue_escalated_at is not None and appeal.deadline_at > timezone.now():
                    appeal.overdue_escalated_at = None
                    fields.append("overdue_escalated_at")
        if account is not None and appeal.account_id is None:
            appeal.account = account
            fields.append("account")
            if appeal.customer_id is None:
                appeal.customer = account.customer
                fields.append("customer")
            if appeal.address_id is None:
                appeal.address_id = account.service_point.address_id
                fields.append("address")
            if appeal.suggested_account_id == account.pk:
                appeal.suggested_account = None
                fields.append("suggested_account")
        appeal.classified_by = ClassifiedBy.OPERATOR
        _save(appeal, fields)
        _event(
            appeal,
            EventType.RECLASSIFIED,
            actor,
            kind=[old_kind, appeal.kind],
            topic=[old_topic, appeal.topic],
            account=[old_account, appeal.account_id],
            deadline=[old_deadline.isoformat(), appeal.deadline_at.isoformat()],
            suggestion_followed=appeal.suggestion_followed,
        )
        if "customer" in fields:
            _history(
                appeal,
                ContactEventKind.APPEAL,
                f"{appeal.number}: {appeal.get_kind_display()} — {appeal.get_topic_display()}",
                actor,
            )
    return appeal


def link_incident(appeal: Appeal, *, actor: User, incident: Incident | None) -> Appeal:
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal)
        appeal.incident = incident
        _save(appeal, ["incident"])
        _event(appeal, EventType.LINKED, actor, incident=incident.pk if incident else None)
    return appeal


def create_incident(
    *, actor: User, title: str, branch: Branch, topic: str, description: str = ""
) -> Incident:
    with transaction.atomic(), acting_as(actor):
        inc = Incident(title=title, branch=branch, topic=topic, description=description)
        inc.full_clean()
        inc.save()
    return inc


def rate(
    appeal: Appeal, *, actor: Any, score: int, comment: str = "", expected_version: int | None = None
) -> Appeal:
    """The customer's rating of the answer (1–5), after the answer has reached them."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": [_("The rating is a whole number from 1 to 5.")]})
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal, expected_version)
        if appeal.status not in (Status.ANSWERED, Status.CLOSED) or appeal.delivered_at is None:
            raise TransitionNotAllowed(_("An appeal can be rated once its answer has been received."))
        appeal.rating = score
        appeal.rating_comment = comment.strip()
        appeal.rated_at = timezone.now()
        _save(appeal, ["rating", "rating_comment", "rated_at"])
        _event(appeal, EventType.RATED, actor, score=score, comment=comment)
        _history(
            appeal,
            ContactEventKind.FEEDBACK,
            _("Rated the answer to %(n)s: %(s)s of 5") % {"n": appeal.number, "s": score},
            actor,
        )
    return appeal


def comment(appeal: Appeal, *, actor: User, text: str, expected_version: int | None = None) -> AppealEvent:
    if not text.strip():
        raise ValidationError({"text": [_("The comment is empty.")]})
    with transaction.atomic(), acting_as(actor):
        return _event(_lock(appeal, expected_version), EventType.COMMENT, actor, reason=text.strip())


_MARKUP = (b"<html", b"<script", b"<svg", b"<!doctype", b"<iframe", b"<object", b"<?xml", b"<body", b"<head")
# The extension a stored file gets for its real type (a text file named "setup.bat" is kept as
# "setup.bat.txt": nothing a member of staff downloads opens as a program).
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/tiff": (".tif", ".tiff"),
    "text/plain": (".txt",),
    "application/msword": (".doc", ".xls"),
    "application/vnd.ms-excel": (".xls",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
}


def _office_zip(upload: UploadedFile) -> str | None:
    """A ZIP is accepted only as an Office Open XML document: Word or Excel, by its parts."""
    import zipfile

    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    if any(n.startswith("word/") for n in names):
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if any(n.startswith("xl/") for n in names):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def _sniff(head: bytes) -> str | None:
    """The real type of an upload from its first bytes (the browser's claim is not trusted).

    ``"zip"`` means a ZIP container, to be looked into (:func:`_office_zip`). Text is accepted only when
    it is valid UTF-8 (a character cut at the end of ``head`` does not count) and holds no markup.
    """
    signatures = [
        (b"%PDF-", "application/pdf"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"\xd0\xcf\x11\xe0", "application/msword"),
    ]
    for sig, mime in signatures:
        if head.startswith(sig):
            return mime
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    import codecs

    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    lowered = head.lower()
    if b"\x00" in head or any(marker in lowered for marker in _MARKUP):
        return None
    return "text/plain"


def stored_name(name: str, mime: str) -> str:
    """The upload's name, cleaned, with the extension of its real type added when it lacks it."""
    name = (name or "file").replace("/", "_").replace("\\", "_").strip() or "file"
    extensions = EXTENSIONS.get(mime, ())
    if extensions and not name.lower().endswith(extensions):
        name = f"{name}{extensions[0]}"
    return name[-200:]


def add_attachment(appeal: Appeal, *, actor: User, upload: UploadedFile) -> Attachment:
    limit = settings.OKNO_MAX_ATTACHMENT_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    if upload.size > limit:
        raise ValidationError(
            {"file": [_("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}]}
        )
    head = upload.read(2048)
    upload.seek(0)
    mime = _sniff(head)
    if mime == "zip":
        mime = _office_zip(upload)
    if mime is None or mime not in MAX_ATTACHMENTS_TYPES:
        raise ValidationError(
            {"file": [_("Files of this type are not accepted (PDF, images, text and office documents are).")]}
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = stored_name(upload.name or "file", mime)
    with transaction.atomic(), acting_as(actor):
        appeal = _lock(appeal)
        att = Attachment(
            appeal=appeal,
            name=name,
            content_type=mime,
            size=upload.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        att.file.save(name, upload, save=False)
        att.save()
        _event(appeal, EventType.ATTACHMENT, actor, attachment=att.pk, name=name)
    return att


# ---------------------------------------------------------------- periodic checks (called by jobs)


def warn_due(*, actor: Any, now: dt.datetime | None = None) -> int:
    """Record a deadline warning (and e-mail the assignee) for open appeals near their deadline."""
    now = now or timezone.now()
    count = 0
    book = deadlines.get_policy_book()
    candidates = Appeal.objects.filter(
        status__in=OPEN_STATUSES,
        paused_at__isnull=True,
        warned_at__isnull=True,
        deadline_at__gt=now,
        deadline_at__lte=now
        + dt.timedelta(
            hours=max([t.warn_before_hours for t in book.terms] + [deadlines.DEFAULT_TERM.warn_before_hours])
        ),
    ).select_related("assignee", "policy")
    for appeal in candidates.iterator():
        warn_hours = (
            appeal.policy.warn_before_hours if appeal.policy else deadlines.DEFAULT_TERM.warn_before_hours
        )
        if appeal.deadline_at - now > dt.timedelta(hours=warn_hours):
            continue
        with transaction.atomic(), acting_as(actor):
            if not Appeal.objects.filter(pk=appeal.pk, warned_at__isnull=True).update(warned_at=now):
                continue
            _log_flag(appeal, "warned_at", now)
            _event(appeal, EventType.DEADLINE_WARNING, actor, deadline=appeal.deadline_at.isoformat())
            if appeal.assignee and appeal.assignee.email:
                jobs.enqueue(
                    "appeals.notify_staff",
                    appeal_id=appeal.pk,
                    email=appeal.assignee.email,
                    reason="due_soon",
                )
        count += 1
    return count


def escalate_overdue(*, actor: Any, now: dt.datetime | None = None) -> int:
    """Escalate open appeals past their deadline to the head of the department (or the branch head)."""
    now = now or timezone.now()
    count = 0
    overdue = Appeal.objects.filter(
        status__in=OPEN_STATUSES,
        paused_at__isnull=True,
        overdue_escalated_at__isnull=True,
        deadline_at__lt=now,
    ).select_related("department__head", "branch")
    for appeal in overdue.iterator():
        with transaction.atomic(), acting_as(actor):
            if not Appeal.objects.filter(pk=appeal.pk, overdue_escalated_at__isnull=True).update(
                overdue_escalated_at=now
            ):
                continue
            _log_flag(appeal, "overdue_escalated_at", now)
            head = (
                appeal.department.head
                if appeal.department and appeal.department.head
                else _branch_head(appeal.branch_id)
            )
            _event(
                appeal,
                EventType.OVERDUE,
                actor,
                head=head.pk if head else None,
                deadline=appeal.deadline_at.isoformat(),
            )
            if head is not None and head.email:
                jobs.enqueue("appeals.notify_staff", appeal_id=appeal.pk, email=head.email, reason="overdue")
            events.publish("appeal.overdue", appeal_id=appeal.pk)
        count += 1
    return count
