"""Outbound campaigns: who is called, when, how often, and what came of it.

A :class:`~okno.contact_center.models.Campaign` is made from a *kind* (:func:`create_campaign`; the
selections live in :mod:`okno.contact_center.campaign_targets`):

* **planned_outage** — the customers whose service points lie under a scheduled planned outage
  (:func:`okno.outages.fanout.affected_service_points`), told the works' start and end;
* **debt_reminder** — accounts with an open debt case (:class:`okno.billing.models.DebtCase`) and,
  with ``min_debt_kop``, every account whose overdue debt (:func:`okno.billing.ledger.overdue_by_account`)
  is at least that much; the overdue debt is kept in the target's context;
* **survey** — customers whose appeal was answered (the answer delivered) in the last ``days`` days and
  who have not rated it; they are asked to rate the answer from 1 to 5 on the keypad, and the answer is
  recorded on the target and as the appeal's rating (:func:`okno.appeals.actions.rate`);
* **callback** — the callers waiting for a callback (pending :class:`~okno.contact_center.models.Callback`
  rows). The dialler does not dial them: the engine's own callback logic does
  (:mod:`okno.contact_center.engine`), so the caller keeps their place — a callback is dialled only when
  it is at the front of its queue (ordered by the original call's arrival) and an agent is free, and it
  is marked done at the agent's wrap-up. The campaign follows its callbacks (:func:`next_due` mirrors
  each Callback's status on its target: done → *done*, failed → *failed*); the do-not-call list still
  applies (a listed number's callback is failed).

One target per number (several accounts of one customer under one outage make one call). The target
keeps the customer's time zone — the branch of their service point — and the calling window
(``window_start``–``window_end``) is read in that zone: a Yekaterinburg customer may be called at
08:30 Moscow time (10:30 local) and not at 19:30 Moscow time (21:30 local).

:func:`next_due` hands the dialler (:mod:`okno.contact_center.dialler`) the targets of running campaigns
that are due (first attempt, or ``retry_after_min`` after the last) and inside their window, marking them
*dialling*; it skips — status *skipped*, for good — numbers on the do-not-call list and customers without
an active consent to calls (a :class:`~okno.customers.models.Consent` on channel *phone* or *any* for the
kind's purpose, :data:`CONSENT_PURPOSE`). Consent is checked at dialling time, not when the campaign is
made, so a consent withdrawn meanwhile is respected. Callback targets need no consent (the caller asked
to be called) but the do-not-call list still applies.

:func:`record_result` closes an attempt: answered → *done*; no answer, busy or failed → *pending* again
after ``retry_after_min``, or *failed* after ``max_attempts``; each attempt is a line in the customer's
contact history. A running campaign with nothing left to dial is finished by :func:`finish_completed`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okno.contact_center.campaign_targets import (
    DEFAULT_SURVEY_DAYS,
    Candidate,
    callback_candidates,
    debt_candidates,
    planned_outage_candidates,
    survey_candidates,
    tz_of,
)
from okno.contact_center.choices import CallbackStatus, CampaignKind, CampaignStatus, TargetStatus
from okno.contact_center.models import Call, Callback, Campaign, CampaignTarget, DoNotCall, Queue
from okno.core import audit
from okno.core.context import acting_as
from okno.core.errors import Conflict
from okno.customers.choices import ConsentPurpose, ContactEventKind
from okno.customers.models import Consent
from okno.customers.numbers import is_valid_phone, normalize_phone

PERMISSION = "campaign.change"
#: The consent a kind of campaign needs (``None``: none — the customer asked for the call).
CONSENT_PURPOSE: dict[str, str | None] = {
    CampaignKind.PLANNED_OUTAGE: ConsentPurpose.SERVICE_NOTICES,
    CampaignKind.DEBT_REMINDER: ConsentPurpose.SERVICE_NOTICES,
    CampaignKind.SURVEY: ConsentPurpose.SERVICE_NOTICES,
    CampaignKind.CALLBACK: None,
}
#: Consent channels that allow a phone call.
CALL_CHANNELS = ("phone", "any")
#: A target left *dialling* this long (a dialler that died mid-call) is dialled again.
DIALLING_STALE = dt.timedelta(minutes=15)
#: Survey answers: a digit 1–5 on the keypad.
SURVEY_ANSWERS = ("1", "2", "3", "4", "5")


class TargetResult(models.TextChoices):
    """What became of a target's last attempt (``CampaignTarget.result``)."""

    ANSWERED = "answered", gettext_lazy("Answered")
    NO_ANSWER = "no_answer", gettext_lazy("No answer")
    BUSY = "busy", gettext_lazy("Busy")
    FAILED = "failed", gettext_lazy("Not connected")
    DO_NOT_CALL = "do_not_call", gettext_lazy("On the do-not-call list")
    NO_CONSENT = "no_consent", gettext_lazy("No consent to calls")
    HANDLED = "handled", gettext_lazy("Callback handled elsewhere")
    CANCELLED = "cancelled", gettext_lazy("Campaign finished before the call")


#: Outcomes of a dial attempt that :func:`record_result` accepts.
DIAL_OUTCOMES = (TargetResult.ANSWERED, TargetResult.NO_ANSWER, TargetResult.BUSY, TargetResult.FAILED)

#: The message read to the customer, per kind (placeholders filled from the target's context).
DEFAULT_MESSAGES: dict[str, Any] = {
    CampaignKind.PLANNED_OUTAGE: gettext_lazy(
        "Planned works on the grid: the power at {address} will be off from {start} to {end}."
    ),
    CampaignKind.DEBT_REMINDER: gettext_lazy(
        "Account {account}: the overdue debt is {debt} roubles. Please pay it to avoid a restriction of supply."
    ),
    CampaignKind.SURVEY: gettext_lazy(
        "We answered your appeal {appeal}. Please rate the answer from 1 to 5 on the keypad."
    ),
    CampaignKind.CALLBACK: gettext_lazy("You asked us to call you back. Please hold for an operator."),
}


class CampaignError(ValidationError):
    """A request the campaign's state does not allow (start a finished campaign …)."""


# --------------------------------------------------------------------------------------------------- helpers


def _check_actor(actor: Any) -> None:
    """Staff need ``campaign.change``; the system actor of jobs and commands has it."""
    if actor is not None and hasattr(actor, "has_okno_perm") and not actor.has_okno_perm(PERMISSION):
        raise PermissionDenied


def in_window(campaign: Campaign, now: dt.datetime, time_zone: str) -> bool:
    """Is ``now`` inside the campaign's calling window, read in ``time_zone``? A window whose end is before
    its start runs over midnight."""
    local = now.astimezone(tz_of(time_zone)).time()
    start, end = _time(campaign.window_start), _time(campaign.window_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def _time(value: Any) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


# --------------------------------------------------------------------------------------------------- making one


def _branch_of(actor: Any, branch_id: int | None) -> int | None:
    """Staff who work in some branches only may make campaigns for those branches only."""
    if actor is None or getattr(actor, "all_branches", True) or getattr(actor, "is_superuser", False):
        return branch_id
    mine = list(getattr(actor, "branch_ids", []))
    if branch_id is None:
        if len(mine) == 1:
            return mine[0]
        raise CampaignError({"branch": [_("Choose one of your branches.")]})
    if branch_id not in mine:
        raise PermissionDenied
    return branch_id


def create_campaign(
    *,
    kind: str,
    name: str,
    actor: Any,
    window_start: dt.time | None = None,
    window_end: dt.time | None = None,
    max_attempts: int = 3,
    retry_after_min: int = 60,
    queue: Queue | None = None,
    message: str = "",
    outage: Any = None,
    branch_id: int | None = None,
    min_debt_kop: int | None = None,
    days: int = DEFAULT_SURVEY_DAYS,
    now: dt.datetime | None = None,
) -> Campaign:
    """Make a draft campaign of ``kind`` with its targets (see the module's docstring for who they are).

    ``outage`` is required for a planned-outage campaign; ``branch_id`` narrows debt reminders and surveys;
    ``min_debt_kop`` adds debtors without a case; ``days`` is the survey's look-back.
    """
    _check_actor(actor)
    errors: dict[str, list[str]] = {}
    if kind not in CampaignKind.values:
        errors["kind"] = [_("Choose a kind from the list.")]
    if not name.strip():
        errors["name"] = [_("Give the campaign a name.")]
    if not 1 <= max_attempts <= 10:
        errors["max_attempts"] = [_("From 1 to 10 attempts.")]
    if retry_after_min < 1:
        errors["retry_after_min"] = [_("At least one minute between attempts.")]
    if window_start is not None and window_end is not None and window_start == window_end:
        errors["window_end"] = [_("The calling window is empty.")]
    if kind == CampaignKind.PLANNED_OUTAGE:
        from okno.outages.choices import OutageKind, OutageStatus

        if outage is None:
            errors["outage"] = [_("Choose the planned outage.")]
        elif outage.kind != OutageKind.PLANNED or outage.status != OutageStatus.SCHEDULED:
            errors["outage"] = [_("Only scheduled planned works can be announced by phone.")]
        elif actor is not None and hasattr(actor, "in_scope") and not actor.in_scope(outage.branch_id):
            raise PermissionDenied
    if errors:
        raise CampaignError(errors)
    if kind in (CampaignKind.DEBT_REMINDER, CampaignKind.SURVEY):
        branch_id = _branch_of(actor, branch_id)

    if kind == CampaignKind.PLANNED_OUTAGE:
        candidates = planned_outage_candidates(outage)
    elif kind == CampaignKind.DEBT_REMINDER:
        candidates = debt_candidates(branch_id=branch_id, min_debt_kop=min_debt_kop)
    elif kind == CampaignKind.SURVEY:
        candidates = survey_candidates(days=days, branch_id=branch_id, now=now)
    else:
        candidates = callback_candidates(queue)

    now = now or timezone.now()
    with transaction.atomic(), acting_as(actor):
        campaign = Campaign(
            name=name.strip()[:200],
            kind=kind,
            max_attempts=max_attempts,
            retry_after_min=retry_after_min,
            queue=queue,
            message=message.strip() or str(DEFAULT_MESSAGES[kind]),
            created_at=now,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        if window_start is not None:
            campaign.window_start = window_start
        if window_end is not None:
            campaign.window_end = window_end
        campaign.save()
        targets: dict[str, CampaignTarget] = {}
        for c in candidates:
            if c.number in targets:  # one call per number: the other accounts go into its context
                extra = targets[c.number].context.setdefault("also", [])
                if c.context.get("account") and len(extra) < 20:
                    extra.append(c.context["account"])
                continue
            targets[c.number] = CampaignTarget(
                campaign=campaign,
                customer_id=c.customer_id,
                account_id=c.account_id,
                number=c.number[:32],
                time_zone=c.time_zone,
                next_attempt_at=now,
                context=c.context,
            )
        CampaignTarget.objects.bulk_create(targets.values(), batch_size=1000)
        audit.log_change(campaign, "create", None, {**audit.snapshot(campaign), "targets": len(targets)})
    return campaign


# --------------------------------------------------------------------------------------------------- its state


def _set_status(campaign: Campaign, status: str, allowed: Iterable[str], actor: Any) -> Campaign:
    _check_actor(actor)
    with transaction.atomic(), acting_as(actor):
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status == status:
            return locked
        if locked.status not in allowed:
            raise CampaignError(
                _("A campaign that is %(status)s cannot be %(action)s.")
                % {
                    "status": str(CampaignStatus(locked.status).label).lower(),
                    "action": str(_ACTIONS[status]),
                }
            )
        before = audit.snapshot(locked)
        locked.status = status
        locked.save(update_fields=["status"])
        if status == CampaignStatus.FINISHED:
            locked.targets.filter(status=TargetStatus.PENDING).update(
                status=TargetStatus.SKIPPED, result=TargetResult.CANCELLED
            )
        audit.log_change(locked, "update", before, audit.snapshot(locked))
    campaign.status = locked.status
    return locked


_ACTIONS: dict[str, Any] = {
    CampaignStatus.RUNNING: gettext_lazy("started"),
    CampaignStatus.PAUSED: gettext_lazy("paused"),
    CampaignStatus.FINISHED: gettext_lazy("finished"),
}


def start(campaign: Campaign, *, actor: Any) -> Campaign:
    """Draft or paused → running: the dialler calls its due targets from the next run."""
    return _set_status(campaign, CampaignStatus.RUNNING, (CampaignStatus.DRAFT, CampaignStatus.PAUSED), actor)


def pause(campaign: Campaign, *, actor: Any) -> Campaign:
    """Running → paused (calls in progress end normally; no new ones)."""
    return _set_status(campaign, CampaignStatus.PAUSED, (CampaignStatus.RUNNING,), actor)


def finish(campaign: Campaign, *, actor: Any) -> Campaign:
    """→ finished; the targets not yet called are skipped (result *cancelled*)."""
    return _set_status(
        campaign,
        CampaignStatus.FINISHED,
        (CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED),
        actor,
    )


def finish_completed(*, actor: Any = None) -> int:
    """Finish the running campaigns that have nothing left to dial; returns how many."""
    done = 0
    open_states = [TargetStatus.PENDING, TargetStatus.DIALLING]
    for campaign in Campaign.objects.filter(status=CampaignStatus.RUNNING).exclude(
        targets__status__in=open_states
    ):
        finish(campaign, actor=actor)
        done += 1
    return done


# --------------------------------------------------------------------------------------------------- dialling


def _skip(target: CampaignTarget, result: str) -> bool:
    return (
        CampaignTarget.objects.filter(pk=target.pk, status=target.status, attempts=target.attempts).update(
            status=TargetStatus.SKIPPED, result=result
        )
        == 1
    )


def _claim(target: CampaignTarget, now: dt.datetime) -> bool:
    """Mark the target *dialling* if nobody else took it since it was read (a conditional update)."""
    taken = CampaignTarget.objects.filter(
        pk=target.pk, status=target.status, attempts=target.attempts
    ).update(status=TargetStatus.DIALLING, next_attempt_at=now)
    if taken:
        target.status, target.next_attempt_at = TargetStatus.DIALLING, now
    return bool(taken)


def _follow_engine_callbacks(campaign: Campaign, now: dt.datetime) -> None:
    """A callback campaign's targets follow their Callback rows, which the engine dials in queue order
    (keeping the caller's place); numbers on the do-not-call list are skipped and their callback failed."""
    targets = list(campaign.targets.filter(status__in=[TargetStatus.PENDING, TargetStatus.DIALLING]))
    if not targets:
        return
    callbacks = Callback.objects.in_bulk([t.context.get("callback_id") for t in targets if t.context])
    blocked = _do_not_call([t.number for t in targets])
    with transaction.atomic():
        for target in targets:
            callback = callbacks.get(target.context.get("callback_id"))
            if callback is None:
                _skip(target, TargetResult.HANDLED)
            elif target.number in blocked and callback.status == CallbackStatus.PENDING:
                if _skip(target, TargetResult.DO_NOT_CALL):
                    Callback.objects.filter(pk=callback.pk, status=CallbackStatus.PENDING).update(
                        status=CallbackStatus.FAILED, done_at=now
                    )
            elif callback.status in (CallbackStatus.DONE, CallbackStatus.FAILED):
                done = callback.status == CallbackStatus.DONE
                CampaignTarget.objects.filter(pk=target.pk, status=target.status).update(
                    status=TargetStatus.DONE if done else TargetStatus.FAILED,
                    result=TargetResult.ANSWERED if done else TargetResult.NO_ANSWER,
                    attempts=callback.attempts,
                )


def _do_not_call(numbers: list[str]) -> set[str]:
    """The numbers (normalised ``+7…``) on the do-not-call list, however the list spells them."""
    variants = {n: n for n in numbers}
    for n in numbers:
        if n.startswith("+7") and len(n) == 12:
            variants.update({"8" + n[2:]: n, "7" + n[2:]: n, n[2:]: n})
    listed = DoNotCall.objects.filter(number__in=list(variants)).values_list("number", flat=True)
    return {variants[number] for number in listed}


def next_due(
    now: dt.datetime | None = None, *, limit: int = 50, campaign: Campaign | None = None
) -> list[CampaignTarget]:
    """The targets to dial now, marked *dialling* (at most ``limit``): of running campaigns, due, and
    inside the calling window in the customer's time zone. Numbers on the do-not-call list and customers
    without consent to calls are skipped (status *skipped*) on the way. Several dialler processes may
    run: each target is claimed by a conditional update, so only one of them dials it."""
    now = now or timezone.now()
    campaigns = Campaign.objects.filter(status=CampaignStatus.RUNNING).order_by("created_at", "pk")
    if campaign is not None:
        campaigns = campaigns.filter(pk=campaign.pk)
    out: list[CampaignTarget] = []
    for c in campaigns:
        if c.kind == CampaignKind.CALLBACK:  # the engine dials callbacks, in their queue's order
            _follow_engine_callbacks(c, now)
            continue
        if len(out) >= limit:
            break
        due = c.targets.filter(
            Q(status=TargetStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=TargetStatus.DIALLING, next_attempt_at__lte=now - DIALLING_STALE)
        )
        # The zones inside the window now (a campaign's targets live in a handful of zones).
        zones = [
            z for z in due.order_by().values_list("time_zone", flat=True).distinct() if in_window(c, now, z)
        ]
        if not zones:
            continue
        purpose = CONSENT_PURPOSE.get(c.kind)
        while len(out) < limit:
            batch = list(
                due.filter(time_zone__in=zones).order_by("next_attempt_at", "pk")[: limit - len(out)]
            )
            if not batch:
                break
            blocked = _do_not_call([t.number for t in batch])
            consented: set[int] = set()
            if purpose is not None:
                consented = set(
                    Consent.objects.filter(
                        customer_id__in=[t.customer_id for t in batch if t.customer_id],
                        channel__in=CALL_CHANNELS,
                        purpose=purpose,
                        withdrawn_at__isnull=True,
                    ).values_list("customer_id", flat=True)
                )
            with transaction.atomic():
                for target in batch:
                    target.campaign = c
                    if target.number in blocked:
                        _skip(target, TargetResult.DO_NOT_CALL)
                    elif purpose is not None and target.customer_id not in consented:
                        _skip(target, TargetResult.NO_CONSENT)
                    elif _claim(target, now):
                        out.append(target)
    return out


def message_for(target: CampaignTarget) -> str:
    """The campaign's message with the target's context filled in: ``{name}`` placeholders only (no
    attribute or index lookups); unknown ones are left empty."""
    text = target.campaign.message or str(DEFAULT_MESSAGES.get(target.campaign.kind, ""))
    values = {k: str(v) for k, v in target.context.items() if isinstance(v, str | int)}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def record_result(
    target: CampaignTarget,
    outcome: str,
    answer: str = "",
    *,
    call: Call | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> CampaignTarget:
    """Close one attempt with ``outcome`` (answered, no_answer, busy, failed) and, for a survey, the
    ``answer`` keyed in (1–5). Answered → *done*; otherwise *pending* again after ``retry_after_min``, or
    *failed* once ``max_attempts`` are spent. A line in the customer's contact history for the attempt;
    a survey answer is also the appeal's rating; a callback's row follows its target."""
    if outcome not in DIAL_OUTCOMES:
        raise CampaignError({"outcome": [_("Unknown call outcome.")]})
    now = now or timezone.now()
    with transaction.atomic(), acting_as(actor):
        t = CampaignTarget.objects.select_for_update().select_related("campaign").get(pk=target.pk)
        campaign = t.campaign
        if t.status not in (TargetStatus.DIALLING, TargetStatus.PENDING):
            raise CampaignError(_("This number is not being called."))
        answer = answer.strip()
        if campaign.kind != CampaignKind.SURVEY or answer not in SURVEY_ANSWERS:
            answer = ""
        t.attempts += 1
        t.result = outcome
        if outcome == TargetResult.ANSWERED:
            t.status = TargetStatus.DONE
            t.answer = answer
        elif t.attempts >= campaign.max_attempts:
            t.status = TargetStatus.FAILED
        else:
            t.status = TargetStatus.PENDING
            t.next_attempt_at = now + dt.timedelta(minutes=campaign.retry_after_min)
        t.context["last_attempt_at"] = now.isoformat(timespec="seconds")
        t.save(update_fields=["attempts", "result", "status", "answer", "next_attempt_at", "context"])
        if campaign.kind == CampaignKind.CALLBACK:
            _follow_callback(t, now)
        if t.customer_id is not None:
            _history(t, campaign, call, actor, now)
        if answer and t.context.get("appeal_id"):
            _rate(t, int(answer), actor)
    target.__dict__.update(
        {k: getattr(t, k) for k in ("attempts", "result", "status", "answer", "next_attempt_at", "context")}
    )
    return t


def _follow_callback(target: CampaignTarget, now: dt.datetime) -> None:
    callback = Callback.objects.select_for_update().filter(pk=target.context.get("callback_id")).first()
    if callback is None:
        return
    callback.attempts += 1
    if target.status == TargetStatus.DONE:
        callback.status, callback.done_at = CallbackStatus.DONE, now
    elif target.status == TargetStatus.FAILED:
        callback.status, callback.done_at = CallbackStatus.FAILED, now
    else:  # waits again; the engine may put it through meanwhile, whichever comes first
        callback.status, callback.next_attempt_at = CallbackStatus.PENDING, target.next_attempt_at
    callback.save(update_fields=["attempts", "status", "done_at", "next_attempt_at"])


def _history(
    target: CampaignTarget, campaign: Campaign, call: Call | None, actor: Any, now: dt.datetime
) -> None:
    from okno.customers.actions import record_contact

    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Campaign “%(name)s”: call to %(number)s, %(result)s") % {
            "name": campaign.name,
            "number": target.number,
            "result": str(TargetResult(target.result).label).lower(),
        }
        if target.answer:
            summary += "; " + _("rating %(n)s of 5") % {"n": target.answer}
        if target.status == TargetStatus.FAILED:
            summary += "; " + _("no more attempts")
        elif target.status == TargetStatus.PENDING:
            summary += "; " + _("attempt %(n)s of %(max)s") % {
                "n": target.attempts,
                "max": campaign.max_attempts,
            }
    if call is not None:
        ref = ("contact_center.call", call.pk, str(call.uid)[:8])
    else:
        ref = ("contact_center.campaign", campaign.pk, campaign.name[:50])
    record_contact(
        target.customer_id or 0,
        kind=ContactEventKind.CALL,
        summary=summary,
        channel="contact_center",
        ref=ref,
        actor=actor,
        occurred_at=now,
    )
    if call is not None and not (
        campaign.kind == CampaignKind.CALLBACK and target.status == TargetStatus.DONE
    ):
        # This line is the call's history; the engine does not add a second one. An answered callback
        # goes on to an operator, whose wrap-up adds the conversation's own line.
        call.ivr_state["contact_recorded"] = True
        Call.objects.filter(pk=call.pk).update(ivr_state=call.ivr_state)


def _rate(target: CampaignTarget, score: int, actor: Any) -> None:
    """The survey answer becomes the appeal's rating, where the appeal still takes one."""
    from okno.appeals import actions as appeal_actions
    from okno.appeals.models import Appeal
    from okno.org.models import system_actor

    appeal = Appeal.objects.filter(pk=target.context["appeal_id"], rating__isnull=True).first()
    if appeal is None:
        return
    comment = _("By phone, campaign “%(name)s”") % {"name": target.campaign.name}
    try:
        with transaction.atomic():
            appeal_actions.rate(
                appeal,
                actor=actor if getattr(actor, "pk", None) else system_actor("contact_center"),
                score=score,
                comment=comment,
            )
    except (ValidationError, Conflict) as exc:  # the appeal moved on (reopened…): the target keeps the answer
        target.context["rating_error"] = str(getattr(exc, "message", exc))[:200]
        CampaignTarget.objects.filter(pk=target.pk).update(context=target.context)


# --------------------------------------------------------------------------------------------------- results


def results(campaign: Campaign) -> dict[str, Any]:
    """Counts by status, by result (outcome of the last attempt), survey answers, and the attempts made."""
    targets = campaign.targets.all()
    by_status = dict.fromkeys(TargetStatus.values, 0)
    for status, n in targets.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"):
        by_status[status] = n
    by_result: dict[str, int] = {}
    for result, n in targets.order_by().values("result").annotate(n=Count("id")).values_list("result", "n"):
        by_result[result or ""] = n
    answers = dict.fromkeys(SURVEY_ANSWERS, 0)
    for answer, n in (
        targets.exclude(answer="")
        .order_by()
        .values("answer")
        .annotate(n=Count("id"))
        .values_list("answer", "n")
    ):
        answers[answer] = n
    rated = sum(int(a) * n for a, n in answers.items())
    n_rated = sum(answers.values())
    total = sum(by_status.values())
    attempts = sum(targets.values_list("attempts", flat=True))
    return {
        "total": total,
        "by_status": by_status,
        "by_result": by_result,
        "answers": answers,
        "average_answer": round(rated / n_rated, 2) if n_rated else None,
        "attempts": attempts,
        "reached": by_status[TargetStatus.DONE],
    }


def add_do_not_call(number: str, *, reason: str = "", actor: Any) -> DoNotCall:
    """Put a number on the do-not-call list (normalised, once)."""
    _check_actor(actor)
    norm = normalize_phone(number)
    if not is_valid_phone(norm):
        raise CampaignError({"number": [_("Phone number %(p)s is not valid.") % {"p": number}]})
    with transaction.atomic(), acting_as(actor):
        row, _created = DoNotCall.objects.get_or_create(number=norm, defaults={"reason": reason[:200]})
    return row


__all__ = [
    "CONSENT_PURPOSE",
    "Candidate",
    "CampaignError",
    "TargetResult",
    "add_do_not_call",
    "create_campaign",
    "finish",
    "finish_completed",
    "in_window",
    "message_for",
    "next_due",
    "pause",
    "record_result",
    "results",
    "start",
]
