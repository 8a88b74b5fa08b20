"""The simulated telephone line (``/cc/line/``): call the contact centre as a customer from a browser.

Pick or type the calling number, read the prompts as text, press the keypad (form buttons: it works
without JavaScript; ``line.js`` adds the keyboard), hear the place in the queue and the expected wait while
waiting (the page refreshes itself), ask for a callback, hang up. It drives the same engine functions the
FastAGI adapter calls: :func:`~okno.contact_center.engine.incoming_call`, ``ivr_input``, ``enqueue``,
``placement``, ``request_callback`` and ``hangup``.

Digits are collected like DTMF: with a one-key menu a key is sent at once; when the IVR waits for a number,
keys gather until the terminator (``#``) or the most digits it takes. The gathered keys live in the web
session. Open to staff who handle calls, and to everyone when ``DEBUG`` is on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from okno.contact_center import engine
from okno.contact_center.choices import CallOutcome
from okno.contact_center.ivr import Turn
from okno.contact_center.ivr_services import OknoServices
from okno.contact_center.models import Call
from okno.customers.models import ContactPoint
from okno.customers.numbers import is_valid_phone, normalize_phone

KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]
DEMO_NUMBERS = 12
UNKNOWN_NUMBER = "+79990000000"


def line_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEBUG:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_okno_perm("call.handle"):  # type: ignore[union-attr]
                raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def demo_numbers() -> list[tuple[str, str]]:
    """Phones of customers with an open account (the first few), for the number picker."""
    rows = (
        ContactPoint.objects.filter(kind="phone", customer__accounts__closed_on__isnull=True)
        .select_related("customer")
        .order_by("customer_id", "pk")
        .distinct()[: DEMO_NUMBERS * 2]
    )
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for cp in rows:
        if cp.value in seen:
            continue
        seen.add(cp.value)
        out.append((cp.value, f"{cp.value} — {cp.customer}"))
        if len(out) >= DEMO_NUMBERS:
            break
    return out


@line_access
@require_http_methods(["GET", "POST"])
def line_start(request: HttpRequest) -> HttpResponse:
    numbers = demo_numbers()
    error = ""
    typed = ""
    if request.method == "POST":
        typed = request.POST.get("number", "").strip()
        chosen = typed or request.POST.get("picked", "").strip()
        if not chosen or not is_valid_phone(chosen):
            error = _("Enter a phone number, for example +7 912 345-67-89.")
        else:
            call, turn = engine.incoming_call(
                caller=normalize_phone(chosen),
                called=request.POST.get("called", "").strip()[:32],
                telephony_id=f"line:{request.session.session_key or ''}"[:64],
                flow="main",
            )
            _after_turn(call, turn)
            return redirect("cc:line_call", uid=call.uid)
    return render(
        request,
        "contact_center/line/start.html",
        {"numbers": numbers, "unknown_number": UNKNOWN_NUMBER, "error": error, "typed": typed},
        status=400 if error else 200,
    )


def _after_turn(call: Call, turn: Turn) -> None:
    """A turn that transfers puts the call in its queue, and the caller hears where they stand."""
    call.refresh_from_db()
    outcome = (call.ivr_state.get("session") or {}).get("outcome", "")
    if call.outcome != CallOutcome.IN_IVR or not outcome.startswith("queue:"):
        return
    try:
        place = engine.enqueue(call, turn.transfer_to or outcome.removeprefix("queue:"))
    except engine.EngineError as exc:
        engine.say(call, str(exc))
        try:
            place = engine.enqueue(call, "")  # the default queue
        except engine.EngineError:
            return
    call.refresh_from_db()
    _announce(call, place)


def _announce(call: Call, place: engine.Placement) -> None:
    services = OknoServices(caller=call.caller)
    if place.agent is not None:
        engine.say(
            call, services.prompt("answered", agent=place.agent.user.get_full_name() or str(place.agent))
        )
    else:
        engine.say(call, engine.wait_text(place, services))


def _while_waiting(call: Call, action: str, key: str) -> None:
    """A waiting caller asks for the callback (the button, or key 1 when it is offered)."""
    if action != "callback" and key != "1":
        return
    if action != "callback":
        place = engine.placement(call)
        if place.agent is not None or not place.callback_offered:
            return
    try:
        callback = engine.request_callback(call)
    except engine.EngineError:
        return
    call.refresh_from_db()
    engine.say(call, OknoServices(caller=call.caller).prompt("callback_registered", number=callback.number))


def _buffer_key(call: Call) -> str:
    return f"cc_line_digits_{call.uid}"


@line_access
@require_http_methods(["GET", "POST"])
def line_call(request: HttpRequest, uid: str) -> HttpResponse:
    call = get_object_or_404(Call, uid=uid)
    key = _buffer_key(call)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if call.outcome == CallOutcome.IN_IVR:
            expect = call.ivr_state.get("expect") or {}
            pressed = request.POST.get("key", "")
            if action == "silence":
                request.session.pop(key, None)
                _after_turn(call, engine.ivr_input(call, None))
            elif action == "digits":
                typed = "".join(c for c in request.POST.get("digits", "") if c in "0123456789*#")[:24]
                request.session.pop(key, None)
                if typed:
                    if (
                        expect.get("terminator")
                        and not typed.endswith(expect["terminator"])
                        and len(typed) > 1
                    ):
                        typed += expect["terminator"]
                    _after_turn(call, engine.ivr_input(call, typed))
            elif pressed in KEYS:
                buffer = request.session.get(key, "") + pressed
                max_digits = int(expect.get("max_digits") or 1)
                terminator = expect.get("terminator") or ""
                if max_digits <= 1 or pressed == terminator or len(buffer) >= max_digits:
                    request.session.pop(key, None)
                    _after_turn(call, engine.ivr_input(call, buffer))
                else:
                    request.session[key] = buffer
        elif call.outcome == CallOutcome.QUEUED and call.answered_at is None:
            _while_waiting(call, action, request.POST.get("key", ""))
        if action == "hangup" and call.ended_at is None:
            request.session.pop(key, None)
            engine.hangup(call, by="caller")
        return redirect("cc:line_call", uid=call.uid)

    call.refresh_from_db()
    place: engine.Placement | None = None
    if call.outcome == CallOutcome.QUEUED and call.answered_at is None:
        place = engine.placement(call)
        call.refresh_from_db()
    call = Call.objects.select_related("agent__user", "queue", "customer", "account", "wrapup_code").get(
        pk=call.pk
    )
    log = call.ivr_state.get("log", [])
    expect = call.ivr_state.get("expect") if call.outcome == CallOutcome.IN_IVR else None
    context = {
        "call": call,
        "log": log,
        "expect": expect,
        "buffer": request.session.get(key, ""),
        "keys": KEYS,
        "place": place,
        "wait_text": engine.wait_text(place, OknoServices(caller=call.caller))
        if place and not place.agent
        else "",
        "waiting": place is not None and place.agent is None,
        "talking": call.outcome == CallOutcome.ANSWERED and call.ended_at is None,
        "over": call.ended_at is not None,
        "in_ivr": call.outcome == CallOutcome.IN_IVR,
        "refresh_s": 5,
    }
    return render(request, "contact_center/line/call.html", context)
