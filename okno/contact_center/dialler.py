"""The outbound dialler: the job that calls the due targets of running campaigns.

Every minute ``contact_center.dial_campaigns`` (:func:`dial_campaigns`) asks
:func:`okno.contact_center.campaigns.next_due` for the targets to call now (inside the calling window in
the customer's zone, not on the do-not-call list, with consent), dials each through a :class:`Dialer`,
records the outbound :class:`~okno.contact_center.models.Call` and closes the attempt with
:func:`~okno.contact_center.campaigns.record_result`; then finishes the campaigns with nothing left.

**The dialer is pluggable.** ``settings.OKNO_CC_DIALER`` (a dotted path; default
:class:`SimulatedDialer`) names a class with one method, ``dial(request: DialRequest) -> DialResult``:
it places the call to ``request.number``, plays ``request.message`` when answered, collects a keypad
digit for a survey (``request.collect_digit``) and reports ``answered``, ``no_answer``, ``busy`` or
``failed``. :class:`SimulatedDialer` (development, demo, tests) decides from a seeded random number per
target and attempt, so a run is reproducible; :class:`ScriptedDialer` plays given outcomes per number.
An Asterisk dialer would send an AMI ``Originate`` (``Channel: PJSIP/<number>@<trunk>``, an
``Application`` that plays the message and reads a digit) and wait for ``OriginateResponse``
(``Reason`` 4 answered, 3 no answer, 5 busy, anything else failed).

Callback campaigns are not dialled here: the engine dials each callback when it reaches the front of
its queue and an agent is free (the caller keeps their place), and marks it done at the wrap-up;
:func:`okno.contact_center.campaigns.next_due` only mirrors the callbacks' status on the targets.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from okno.contact_center import campaigns
from okno.contact_center.choices import CallOutcome, CampaignKind, Direction
from okno.contact_center.models import Call, CampaignTarget
from okno.core.jobs import job

DEFAULT_DIALER = "okno.contact_center.dialler.SimulatedDialer"
#: The call outcome recorded for each dial outcome. An answered automated message counts as served by
#: the IVR (no operator took part).
CALL_OUTCOME: dict[str, str] = {
    campaigns.TargetResult.ANSWERED: CallOutcome.SELF_SERVICE,
    campaigns.TargetResult.NO_ANSWER: CallOutcome.NO_ANSWER,
    campaigns.TargetResult.BUSY: CallOutcome.BUSY,
    campaigns.TargetResult.FAILED: CallOutcome.FAILED,
}


@dataclass(frozen=True)
class DialRequest:
    """One call to place."""

    target_id: int
    campaign_id: int
    kind: str
    number: str
    message: str
    attempt: int  # 1 for the first attempt
    collect_digit: bool = False  # a survey: read one keypad digit after the message


@dataclass(frozen=True)
class DialResult:
    """What the telephony reports: ``outcome`` (answered, no_answer, busy, failed), the digit keyed in,
    the telephony's call id and how long it rang and talked."""

    outcome: str
    answer: str = ""
    telephony_id: str = ""
    ring_s: int = 0
    talk_s: int = 0


class Dialer(Protocol):
    def dial(self, request: DialRequest) -> DialResult: ...


class SimulatedDialer:
    """The simulated line: outcomes drawn from a random number seeded by target and attempt.

    About 60 % of calls are answered, 25 % ring out and 15 % are busy; a survey answer is 5 in about
    half the answered calls, then 4, 3, 2, 1 less and less often.
    """

    answered = 0.60
    no_answer = 0.25
    answer_weights = {"5": 50, "4": 25, "3": 12, "2": 7, "1": 6}

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def dial(self, request: DialRequest) -> DialResult:
        rng = random.Random(f"{self.seed}:{request.target_id}:{request.attempt}")  # noqa: S311 - a simulation
        draw = rng.random()
        if draw < self.answered:
            answer = ""
            if request.collect_digit:
                answer = rng.choices(list(self.answer_weights), weights=list(self.answer_weights.values()))[0]
            return DialResult(
                "answered", answer=answer, ring_s=rng.randint(3, 20), talk_s=rng.randint(15, 60)
            )
        if draw < self.answered + self.no_answer:
            return DialResult("no_answer", ring_s=30)
        return DialResult("busy", ring_s=rng.randint(1, 4))


class ScriptedDialer:
    """Plays given results per number in turn (tests, demonstrations); a number without a script (or
    past its end) rings out. Results may be given as outcome strings or ``"answered:4"``."""

    def __init__(self, script: dict[str, Iterable[DialResult | str]] | None = None) -> None:
        self.script = {n: list(results) for n, results in (script or {}).items()}
        self.placed: list[DialRequest] = []

    def dial(self, request: DialRequest) -> DialResult:
        self.placed.append(request)
        results = self.script.get(request.number) or []
        if not results:
            return DialResult("no_answer", ring_s=30)
        result = results.pop(0)
        if isinstance(result, DialResult):
            return result
        outcome, _sep, answer = result.partition(":")
        return DialResult(outcome, answer=answer)


def get_dialer() -> Dialer:
    """The dialer the settings name (``OKNO_CC_DIALER``), or the simulated line."""
    path = getattr(settings, "OKNO_CC_DIALER", "") or DEFAULT_DIALER
    return import_string(path)()  # type: ignore[no-any-return]


def _caller_id() -> str:
    from okno.org.models import Company

    return str(Company.objects.values_list("hotline", flat=True).first() or "")[:32]


def _request(target: CampaignTarget) -> DialRequest:
    return DialRequest(
        target_id=target.pk,
        campaign_id=target.campaign_id,
        kind=target.campaign.kind,
        number=target.number,
        message=campaigns.message_for(target),
        attempt=target.attempts + 1,
        collect_digit=target.campaign.kind == CampaignKind.SURVEY,
    )


def _record_call(
    target: CampaignTarget, request: DialRequest, result: DialResult, started: dt.datetime, caller: str
) -> Call:
    """The outbound call as it went."""
    ended = started + dt.timedelta(seconds=result.ring_s + result.talk_s)
    return Call.objects.create(
        direction=Direction.OUTBOUND,
        caller=caller,
        called=target.number,
        customer_id=target.customer_id,
        account_id=target.account_id,
        started_at=started,
        ended_at=ended,
        outcome=CALL_OUTCOME.get(result.outcome, CallOutcome.FAILED),
        campaign_target=target,
        telephony_id=result.telephony_id[:64],
        ivr_state={
            "campaign": target.campaign_id,
            "attempt": request.attempt,
            "message": request.message,
            "answer": result.answer,
            "ring_s": result.ring_s,
            "talk_s": result.talk_s,
        },
    )


def dial_due(
    *, now: dt.datetime | None = None, limit: int = 50, dialer: Dialer | None = None, actor: Any = None
) -> dict[str, int]:
    """Dial up to ``limit`` due targets; returns counts by outcome, and campaigns finished."""
    now = now or timezone.now()
    dialer = dialer or get_dialer()
    caller = _caller_id()
    counts = {"dialled": 0, **{o.value: 0 for o in campaigns.DIAL_OUTCOMES}, "put_through": 0}
    for target in campaigns.next_due(now, limit=limit):
        request = _request(target)
        try:
            result = dialer.dial(request)
        except Exception:  # noqa: BLE001 - a telephony fault fails this attempt, not the run
            result = DialResult("failed")
        if result.outcome not in campaigns.DIAL_OUTCOMES:
            result = DialResult("failed", telephony_id=result.telephony_id)
        call = _record_call(target, request, result, now, caller)
        campaigns.record_result(target, result.outcome, result.answer, call=call, actor=actor, now=now)
        counts["dialled"] += 1
        counts[result.outcome] += 1
    counts["finished"] = campaigns.finish_completed(actor=actor)
    return counts


@job("contact_center.dial_campaigns", every=dt.timedelta(minutes=1), max_attempts=1)
def dial_campaigns(now: str | None = None, limit: int = 200) -> dict[str, Any]:
    """The periodic dialler run (acts as the system actor ``system:contact_center``)."""
    from okno.org.models import system_actor

    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    return dial_due(now=moment, limit=limit, actor=system_actor("contact_center"))


__all__ = [
    "DialRequest",
    "DialResult",
    "Dialer",
    "ScriptedDialer",
    "SimulatedDialer",
    "dial_campaigns",
    "dial_due",
    "get_dialer",
]
