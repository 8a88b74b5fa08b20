"""The agent desktop and the supervisors' wallboard (issue 5, part 3).

* ``/cc/desktop/`` — the agent's state controls; while the agent has a call, the customer card: the
  calling number, the customer and accounts the IVR identified (or a search), open appeals with their
  deadlines, outages at the customer's addresses now, recent notifications, the IVR path; one-screen
  appeal registration (the operators' :class:`~okno.appeals.forms.RegisterForm`, the same action as
  every channel) and the wrap-up code. ``state.json`` lets a small script reload the page when the
  agent's state or call changes; without JavaScript a Refresh button does the same.
* ``/cc/wallboard/`` and ``wallboard.json`` — per queue: waiting now, longest wait, agents by state,
  offered/answered/abandoned today and the service level today against the queue's norm, and the live
  calls. The page refreshes its board every 3 s (a fragment of the same page, so it is rendered once).

Every state change goes through :mod:`okno.contact_center.engine`; appeals through
:func:`okno.appeals.actions.register_appeal`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from okno.appeals.choices import OPEN_STATUSES
from okno.appeals.models import Appeal
from okno.appeals.queries import visible_appeals
from okno.appeals.views.act import apply_errors
from okno.appeals.views.register import local_tz, register_from_form
from okno.contact_center import engine
from okno.contact_center.choices import AgentState, CallOutcome
from okno.contact_center.desktop_forms import AgentStateForm, DesktopRegisterForm, WrapUpForm
from okno.contact_center.models import Agent, Call, Queue
from okno.core.audit import log_access
from okno.customers.models import Customer
from okno.customers.queries import search_customers, with_visible_accounts
from okno.notify.models import Notice
from okno.outages.lookup import AddressAnswer, power_at

CANDIDATE_LIMIT = 10
OPEN_APPEALS_SHOWN = 10
NOTICES_SHOWN = 5
ACCOUNTS_LOOKED_UP = 5  # outage lookups per card (one indexed query each)


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_okno_perm(perm):  # type: ignore[union-attr]
        raise PermissionDenied


def _agent(request: HttpRequest) -> Agent | None:
    if not request.user.is_authenticated:
        return None
    return Agent.objects.filter(user=request.user).select_related("user").first()


def _open_call(agent: Agent, uid: Any) -> Call | None:
    """The agent's call with this id, while it is still theirs to work on (talking or in wrap-up)."""
    if not uid:
        return None
    try:
        return Call.objects.filter(uid=uid, agent=agent, wrapup_ended_at__isnull=True).first()
    except ValidationError:  # not a UUID
        return None


# ---------------------------------------------------------------- the customer card


@dataclass
class Card:
    """What the agent sees about the caller."""

    call: Call
    customer: Customer | None = None
    candidates: list[Customer] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    power: list[AddressAnswer] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    ivr_path: list[str] = field(default_factory=list)
    ivr_transcript: list[dict[str, str]] = field(default_factory=list)
    wait_s: float | None = None
    talking: bool = True

    @property
    def outages_now(self) -> bool:
        return any(o.off_now for answer in self.power for o in answer.outages)


def ivr_steps(path: Any) -> list[str]:
    """The IVR path as readable steps: the engine stores the step names visited with the digits pressed
    between them (``["greeting", "menu", "1", "outage"]`` → ``["greeting", "menu [1]", "outage"]``)."""
    lines: list[str] = []
    for item in path or []:
        text = str(item.get("step", "")) if isinstance(item, dict) else str(item)
        if not text:
            continue
        if lines and all(ch.isdigit() or ch in "*#" for ch in text):
            lines[-1] += f" [{text}]"
        else:
            lines.append(text)
    return lines


def ivr_transcript(call: Call) -> list[dict[str, str]]:
    """What the caller heard and pressed in the IVR (the engine's log on the call), oldest first."""
    log = (call.ivr_state or {}).get("log") or []
    return [
        {"say": str(e.get("say") or ""), "pressed": str(e.get("in") or "")}
        for e in log
        if isinstance(e, dict) and (e.get("say") or e.get("in"))
    ]


def _customers_with_accounts(request: HttpRequest, ids: list[int]) -> list[Customer]:
    if not ids:
        return []
    user = request.user
    full = with_visible_accounts(user, Customer.objects.restrict(user, "view").filter(pk__in=ids))
    by_id = {c.pk: c for c in full}
    shown = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
    for customer in shown:
        log_access(
            actor=user,
            customer_id=customer.pk,
            context_name="ui:cc-desktop",
            remote_addr=request.META.get("REMOTE_ADDR") or None,
        )
    return shown


def build_card(request: HttpRequest, call: Call, query: str) -> Card:
    user = request.user
    card = Card(
        call=call,
        ivr_path=ivr_steps(call.ivr_path),
        ivr_transcript=ivr_transcript(call),
        talking=call.ended_at is None,
    )
    if call.enqueued_at is not None:
        card.wait_s = call.wait_s
    ids: list[int] = []
    if call.customer_id is not None:
        ids.append(call.customer_id)
    if query:
        ids += [c.pk for c in search_customers(user, query, limit=CANDIDATE_LIMIT)]
    card.candidates = _customers_with_accounts(request, ids)
    if call.customer_id is not None:
        card.customer = next((c for c in card.candidates if c.pk == call.customer_id), None)
    customer = card.customer
    if customer is None:
        return card
    card.appeals = list(
        visible_appeals(user)
        .filter(customer=customer, status__in=OPEN_STATUSES)
        .order_by("deadline_at")[:OPEN_APPEALS_SHOWN]
    )
    accounts = [a for a in customer.accounts.all() if a.is_open] or list(customer.accounts.all())
    if call.account_id is not None:  # the account the caller identified with first
        accounts.sort(key=lambda a: a.pk != call.account_id)
    seen: set[int] = set()
    for account in accounts[:ACCOUNTS_LOOKED_UP]:
        for answer in power_at(account=account.number).answers:
            if answer.match.id not in seen:
                seen.add(answer.match.id)
                card.power.append(answer)
    card.notices = list(
        Notice.objects.restrict(user, "view")
        .filter(customer=customer)
        .select_related("event")
        .order_by("-created_at", "-id")[:NOTICES_SHOWN]
    )
    return card


# ---------------------------------------------------------------- the desktop


def _render_desktop(
    request: HttpRequest,
    agent: Agent | None,
    *,
    register_form: DesktopRegisterForm | None = None,
    wrapup_form: WrapUpForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    call = engine.current_call(agent) if agent is not None else None
    context: dict[str, Any] = {
        "agent": agent,
        "call": call,
        "state_form": AgentStateForm(initial={"state": agent.state if agent else ""}),
        "choosable": [s for s, _label in AgentStateForm.base_fields["state"].choices],  # type: ignore[attr-defined]
        "busy": agent is not None and agent.state in (AgentState.ON_CALL, AgentState.WRAP_UP),
    }
    if call is not None:
        if register_form is not None:
            query = request.POST.get("q", "").strip()
        else:
            query = request.GET.get("q", "").strip()
            if not query and call.customer_id is None:
                query = call.caller
        card = build_card(request, call, query)
        if register_form is None:
            register_form = DesktopRegisterForm(user=user, call=call, initial={"q": query})
        picked_account = call.account_id
        picked_customer = call.customer_id if call.account_id is None else None
        if register_form.is_bound:
            picked_account = register_form.account.pk if register_form.account is not None else None
            picked_customer = (
                register_form.customer.pk
                if register_form.customer is not None and register_form.account is None
                else None
            )
        context.update(
            card=card,
            form=register_form,
            query=query,
            candidates=card.candidates,
            picked_account=picked_account,
            picked_customer=picked_customer,
            wrapup_form=wrapup_form or WrapUpForm(call=call, user=user),
        )
    with timezone.override(local_tz(user)):
        return render(request, "contact_center/desktop/desktop.html", context, status=status)


@login_required
@require_GET
def desktop(request: HttpRequest) -> HttpResponse:
    _require(request, "call.handle")
    return _render_desktop(request, _agent(request))


def _agent_or_refuse(request: HttpRequest) -> Agent | None:
    _require(request, "call.handle")
    agent = _agent(request)
    if agent is None:
        messages.error(request, _("You are not set up as an agent; ask a supervisor to add you."))
    return agent


@login_required
@require_POST
def set_state(request: HttpRequest) -> HttpResponse:
    agent = _agent_or_refuse(request)
    if agent is None:
        return redirect("cc:desktop")
    form = AgentStateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose available, break or offline."))
        return redirect("cc:desktop")
    try:
        call = engine.set_agent_state(agent, form.cleaned_data["state"], actor=request.user)
    except (ValidationError, ValueError) as exc:
        messages.error(request, _first_message(exc, _("Your state cannot change now.")))
        return redirect("cc:desktop")
    if call is not None:
        messages.info(request, _("A call from %(caller)s is yours now.") % {"caller": call.caller or "?"})
    return redirect("cc:desktop")


@login_required
@require_POST
def hang_up(request: HttpRequest) -> HttpResponse:
    agent = _agent_or_refuse(request)
    if agent is None:
        return redirect("cc:desktop")
    call = _open_call(agent, request.POST.get("call"))
    if call is None or call.ended_at is not None:
        messages.error(request, _("This call is no longer on the line."))
        return redirect("cc:desktop")
    try:
        engine.hangup(call, by="agent")
    except (ValidationError, ValueError) as exc:
        messages.error(request, _first_message(exc, _("The call could not be ended.")))
    return redirect("cc:desktop")


@login_required
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    """Register an appeal from the card: the operators' registration, channel ``contact_center``."""
    agent = _agent_or_refuse(request)
    _require(request, "appeal.register")
    if agent is None:
        return redirect("cc:desktop")
    user = request.user
    call = _open_call(agent, request.POST.get("call"))
    if call is None:
        messages.error(request, _("This call is over; register the appeal from the Register page instead."))
        return redirect("cc:desktop")
    form = DesktopRegisterForm(request.POST, user=user, call=call)
    with timezone.override(local_tz(user)):  # typed times are the agent's local time
        valid = form.is_valid()
    if valid:
        try:
            appeal = register_from_form(form, user)
        except ValidationError as exc:
            apply_errors(form, exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
        else:
            # the call is linked to the appeal at wrap-up (engine.wrap_up(appeal=…)): WrapUpForm offers
            # the appeals registered during the call, the latest by default
            deadline = timezone.localtime(appeal.deadline_at, appeal.branch.tz)
            messages.success(
                request,
                _("Appeal %(number)s is registered; answer due by %(deadline)s.")
                % {"number": appeal.number, "deadline": f"{deadline:%d.%m.%Y %H:%M}"},
            )
            return redirect("cc:desktop")
    return _render_desktop(request, agent, register_form=form, status=400)


@login_required
@require_POST
def wrap_up(request: HttpRequest) -> HttpResponse:
    """End the call (if still talking) and its wrap-up with a code; the call keeps its appeal."""
    agent = _agent_or_refuse(request)
    if agent is None:
        return redirect("cc:desktop")
    call = _open_call(agent, request.POST.get("call"))
    if call is None:
        messages.error(request, _("This call is already wrapped up."))
        return redirect("cc:desktop")
    form = WrapUpForm(request.POST, call=call, user=request.user)
    if not form.is_valid():
        return _render_desktop(request, agent, wrapup_form=form, status=400)
    try:  # a call still on the line is ended by the engine in the same step
        call = engine.wrap_up(
            call, code=form.cleaned_data["code"].code, actor=request.user, appeal=form.cleaned_data["appeal"]
        )
    except (ValidationError, ValueError) as exc:
        messages.error(request, _first_message(exc, _("The call could not be wrapped up.")))
        return redirect("cc:desktop")
    messages.success(request, _("The call is wrapped up."))
    return redirect("cc:desktop")


@login_required
@require_GET
def state_json(request: HttpRequest) -> JsonResponse:
    """The agent's state and call, polled by desktop.js every 2 s; a change reloads the page."""
    _require(request, "call.handle")
    agent = _agent(request)
    call = engine.current_call(agent) if agent is not None else None
    data = {
        "agent": agent is not None,
        "state": agent.state if agent is not None else None,
        "state_since": agent.state_since.isoformat() if agent is not None else None,
        "call": str(call.uid) if call is not None else None,
        "call_phase": _phase(call),
    }
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


def _phase(call: Call | None) -> str | None:
    if call is None:
        return None
    if call.ended_at is None:
        return "talking"
    return "wrap_up" if call.wrapup_ended_at is None else "done"


def _first_message(exc: Exception, default: str) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(m) for m in exc.messages) or default
    return str(exc) or default


# ---------------------------------------------------------------- the wallboard


def _seconds(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    return int(float(value))


def live_calls(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Who is waiting and who talks to whom, longest first."""
    now = now or timezone.now()
    rows = (
        Call.objects.filter(ended_at__isnull=True, outcome__in=[CallOutcome.QUEUED, CallOutcome.ANSWERED])
        .select_related("queue", "agent__user", "customer")
        .order_by("enqueued_at", "started_at")
    )
    calls: list[dict[str, Any]] = []
    for call in rows:
        talking = call.answered_at is not None
        since = call.answered_at or call.enqueued_at or call.started_at
        calls.append(
            {
                "id": str(call.uid),
                "caller": call.caller,
                "customer": call.customer.display_name if call.customer is not None else "",
                "queue": call.queue.code if call.queue is not None else "",
                "queue_name": call.queue.name if call.queue is not None else "",
                "state": "talking" if talking else "waiting",
                "agent": call.agent.user.short_name if talking and call.agent is not None else "",
                "seconds": max(0, int((now - since).total_seconds())),
                "waited_s": _seconds(call.wait_s) if talking else None,
            }
        )
    return calls


def agents_now(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The agents logged on (everyone not offline), with their state and for how long."""
    now = now or timezone.now()
    rows = (
        Agent.objects.exclude(state=AgentState.OFFLINE)
        .select_related("user")
        .order_by("state", "state_since")
    )
    return [
        {
            "agent": agent.user.short_name,
            "extension": agent.extension,
            "state": agent.state,
            "state_label": str(agent.get_state_display()),
            "seconds": max(0, int((now - agent.state_since).total_seconds())),
        }
        for agent in rows
    ]


def wallboard_data(now: dt.datetime | None = None) -> dict[str, Any]:
    """The engine's figures per queue with each queue's norm, plus the live calls and the agents."""
    now = now or timezone.now()
    board = engine.wallboard()
    queues = {q.code: q for q in Queue.objects.all()}
    rows: list[dict[str, Any]] = []
    for code, figures in board.items():
        queue = queues.get(code)
        row = dict(figures)
        row.setdefault("queue", code)
        if queue is not None:
            row.setdefault("name", queue.name)
            row["target_answer_s"] = queue.target_answer_s
            row["target_service_level"] = float(queue.target_service_level)
        sl = row.get("service_level")
        target = row.get("target_service_level")
        row["service_level_ok"] = None if sl is None or target is None else sl >= target
        rows.append(row)
    rows.sort(key=lambda r: str(r.get("name") or r["queue"]))
    return {
        "generated_at": now.isoformat(),
        "queues": rows,
        "calls": live_calls(now),
        "agents": agents_now(now),
    }


@login_required
@require_GET
def wallboard(request: HttpRequest) -> HttpResponse:
    _require(request, "call.supervise")
    template = (
        "contact_center/desktop/_board.html"
        if request.GET.get("fragment")
        else "contact_center/desktop/wallboard.html"
    )
    with timezone.override(local_tz(request.user)):
        return render(request, template, {"board": wallboard_data(), "as_of": timezone.now()})


@login_required
@require_GET
def wallboard_json(request: HttpRequest) -> JsonResponse:
    _require(request, "call.supervise")
    response = JsonResponse(wallboard_data())
    response["Cache-Control"] = "no-store"
    return response
