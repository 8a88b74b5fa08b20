"""The IVR engine: a flow is data (JSON, versioned in :class:`~okno.contact_center.models.IvrFlowVersion`),
played turn by turn by :class:`Session`, which knows no telephony: the FastAGI adapter and the simulated
line both feed it digits and play what it returns.

A flow::

    {"start": "greeting", "operator": "operator",
     "steps": {
       "greeting": {"type": "say", "prompt": "greeting", "next": "emergency"},
       "emergency": {"type": "emergency", "next": "identify"},
       "identify": {"type": "identify", "next": "menu"},
       "menu": {"type": "menu", "prompt": "main_menu",
                "options": {"1": "outage", "2": "reading", "3": "balance", "4": "planned", "5": "connection"}},
       "outage": {"type": "outage_status", "next": "menu"},
       "reading": {"type": "reading", "next": "menu"},
       "balance": {"type": "balance", "next": "menu"},
       "planned": {"type": "planned_outages", "next": "menu"},
       "connection": {"type": "queue", "queue": "connection"},
       "operator": {"type": "queue", "queue": "general"},
       "bye": {"type": "hangup"}}}

Step types:

* ``say`` — a prompt, then ``next``.
* ``menu`` — a prompt and one digit; an unknown digit or silence is re-prompted (``retries``, default 2),
  then the caller goes to the operator.
* ``identify`` — the calling number's accounts; with none or several the caller types the account number
  (``#`` to finish), re-prompted like a menu. When the calling number has accounts, only one of *those*
  is accepted. From an unknown number a typed account number is *unverified*: it gives the
  non-confidential answers (power at the address, planned works — never with the flat number), while
  ``balance`` and ``reading`` first ask a second factor, the last 4 digits of the meter's serial number
  (re-prompted like a menu; wrong after the retries: the operator).
* ``emergency`` — during a mass outage its announcement plays first; otherwise nothing.
* ``outage_status`` — power at the caller's address: the outage and its estimated restoration time.
* ``planned_outages`` — planned works at the caller's address in the coming days.
* ``balance`` — balance and last payment; ``reading`` — one value per meter zone by digits, ``*`` for the
  decimal point. Both need an identified caller: they identify first (confidential data only then).
* ``queue`` — hand the call to a queue (the ACD takes over); ``hangup`` — goodbye.

``0`` reaches the operator from every step that waits for digits: the flow's ``operator`` step, or the
step's own ``operator`` (a step name) where it has one — a reading refused after the retries goes there
too (the main flow sends it to the readings queue).

What the engine needs from the rest of Okno comes through :class:`Services` (the real one is
:class:`okno.contact_center.ivr_services.OknoServices`; tests may pass their own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

STEP_TYPES = {
    "say",
    "menu",
    "identify",
    "emergency",
    "outage_status",
    "planned_outages",
    "balance",
    "reading",
    "queue",
    "hangup",
}
NEEDS_NEXT = {"say", "identify", "emergency", "outage_status", "planned_outages", "balance", "reading"}
OPERATOR_DIGIT = "0"
DEFAULT_RETRIES = 2


class FlowError(ValueError):
    """A flow definition that cannot be played (a missing step, an unknown type, a loop with no input)."""


@dataclass(frozen=True)
class Prompt:
    """Something to play: a key (a recorded file may exist for it) and the words for text-to-speech."""

    key: str
    text: str


@dataclass(frozen=True)
class Expect:
    """The digits the engine waits for next."""

    max_digits: int = 1
    timeout_s: int = 6
    terminator: str = ""


@dataclass
class Turn:
    """What the telephony does now: play ``prompts``, then wait for ``expect``, transfer or hang up."""

    prompts: list[Prompt] = field(default_factory=list)
    expect: Expect | None = None
    transfer_to: str = ""
    hangup: bool = False

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.prompts)


@dataclass(frozen=True)
class AccountRef:
    id: int
    number: str
    address: str = ""


class Services(Protocol):
    """What the IVR asks the rest of Okno. Texts come back ready to speak, in the caller's language."""

    def prompt(self, key: str, **params: Any) -> str: ...

    def accounts_by_phone(self, phone: str) -> list[AccountRef]: ...

    def account_by_number(self, digits: str) -> AccountRef | None: ...

    def emergency_announcement(self) -> str: ...

    def outage_status(self, account: AccountRef) -> str: ...

    def planned_outages(self, account: AccountRef) -> str: ...

    def balance(self, account: AccountRef) -> str: ...

    def meter_zones(self, account: AccountRef) -> int: ...

    def meter_serial_matches(self, account: AccountRef, last_digits: str) -> bool: ...

    def submit_reading(self, account: AccountRef, digits: Sequence[str]) -> tuple[bool, str]: ...


def validate_flow(definition: Any) -> None:
    """Raise :class:`FlowError` unless ``definition`` is a playable flow."""
    if not isinstance(definition, dict):
        raise FlowError("a flow is a JSON object with 'start' and 'steps'")
    steps = definition.get("steps")
    if not isinstance(steps, dict) or not steps:
        raise FlowError("'steps' must be a non-empty object")
    for name in ("start", "operator"):
        target = definition.get(name)
        if name == "operator" and target is None:
            continue
        if target not in steps:
            raise FlowError(f"'{name}' names a step that does not exist: {target!r}")
    for key, step in steps.items():
        if not isinstance(step, dict):
            raise FlowError(f"step {key!r} must be an object")
        kind = step.get("type")
        if kind not in STEP_TYPES:
            raise FlowError(f"step {key!r}: unknown type {kind!r}")
        if kind in NEEDS_NEXT and step.get("next") not in steps:
            raise FlowError(f"step {key!r}: 'next' names a step that does not exist: {step.get('next')!r}")
        if kind == "menu":
            options = step.get("options")
            if not isinstance(options, dict) or not options:
                raise FlowError(f"step {key!r}: a menu needs options")
            for digit, target in options.items():
                if not (isinstance(digit, str) and len(digit) == 1 and digit in "123456789*#"):
                    raise FlowError(f"step {key!r}: option {digit!r} must be one key other than 0")
                if target not in steps:
                    raise FlowError(f"step {key!r}: option {digit} goes to a missing step {target!r}")
        if "operator" in step and step["operator"] not in steps:
            raise FlowError(
                f"step {key!r}: 'operator' names a step that does not exist: {step['operator']!r}"
            )
        if kind == "queue" and not step.get("queue"):
            raise FlowError(f"step {key!r}: a queue step names its queue")
    # Steps without input must not loop forever.
    for key in steps:
        seen: set[str] = set()
        current = key
        while steps[current]["type"] in NEEDS_NEXT - {"identify", "reading"}:
            if current in seen:
                raise FlowError(f"steps loop without waiting for the caller: {' → '.join(sorted(seen))}")
            seen.add(current)
            current = steps[current]["next"]


def validate_queues(definition: dict, known: Iterable[str]) -> None:
    """Raise :class:`FlowError` when a queue step names a queue that is not set up (``known``: the codes)."""
    codes = set(known)
    for key, step in (definition.get("steps") or {}).items():
        if isinstance(step, dict) and step.get("type") == "queue" and step.get("queue") not in codes:
            raise FlowError(f"step {key!r}: the queue {step.get('queue')!r} does not exist")


@dataclass
class Session:
    """One caller's way through a flow. ``start()`` gives the first turn, ``digits()`` each next one;
    ``path`` records the steps visited (it goes into the call's record)."""

    definition: dict
    services: Services
    caller: str = ""
    account: AccountRef | None = None
    path: list[str] = field(default_factory=list)
    outcome: str = ""  # "queue:<code>", "hangup" or "self_service"
    _step: str = ""
    _retries: int = 0
    _stage: str = ""
    _collected: list[str] = field(default_factory=list)
    _after_identify: str = ""
    _self_served: bool = False
    _verified: bool = False  # the account came from the calling number or passed the second factor

    def __post_init__(self) -> None:
        validate_flow(self.definition)

    # ------------------------------------------------------------------ public

    def start(self) -> Turn:
        return self._run(self.definition["start"], Turn())

    def digits(self, entered: str | None) -> Turn:
        """The caller typed ``entered`` (``None`` or ``""``: silence until the timeout)."""
        if self.outcome:
            return Turn(hangup=True)
        entered = (entered or "").strip()
        if entered == OPERATOR_DIGIT:
            self.path.append("0")
            return self._to_operator(Turn())
        step = self._steps[self._step]
        if self._stage == "account":
            return self._input_account(entered)
        if self._stage == "meter_serial":
            return self._input_meter_serial(entered)
        handler = getattr(self, f"_input_{step['type']}")
        return handler(step, entered)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ running steps

    @property
    def _steps(self) -> dict[str, dict]:
        return self.definition["steps"]

    def _say(self, turn: Turn, key: str, **params: Any) -> None:
        turn.prompts.append(Prompt(key, self.services.prompt(key, **params)))

    def _run(self, name: str, turn: Turn) -> Turn:
        """Play steps from ``name`` until one waits for the caller, transfers or hangs up."""
        for _ in range(100):
            self._step = name
            self._retries = 0
            self.path.append(name)
            step = self._steps[name]
            kind = step["type"]
            if kind == "say":
                self._say(turn, step.get("prompt", name))
                name = step["next"]
            elif kind == "emergency":
                text = self.services.emergency_announcement()
                if text:
                    turn.prompts.append(Prompt("emergency", text))
                name = step["next"]
            elif kind == "menu":
                return self._ask_menu(step, turn)
            elif kind == "identify":
                if self.account is None:
                    found = self.services.accounts_by_phone(self.caller) if self.caller else []
                    if len(found) == 1:
                        self.account = found[0]
                        self._verified = True
                    else:
                        self._after_identify = step["next"]
                        return self._ask_account(turn, "several_accounts" if found else "enter_account")
                name = step["next"]
            elif kind in ("outage_status", "planned_outages", "balance", "reading"):
                if self.account is None:
                    found = self.services.accounts_by_phone(self.caller) if self.caller else []
                    if len(found) == 1:
                        self.account = found[0]
                        self._verified = True
                    else:
                        self._after_identify = name
                        return self._ask_account(turn, "several_accounts" if found else "enter_account")
                if kind in ("balance", "reading") and not self._verified:
                    # Confidential data: a typed account number needs the second factor.
                    self._after_identify = name
                    return self._ask_meter_serial(turn, "enter_meter_serial")
                if kind == "reading":
                    return self._ask_reading(turn)
                self._self_served = True
                if kind == "outage_status":
                    turn.prompts.append(Prompt("outage_status", self.services.outage_status(self.account)))
                elif kind == "planned_outages":
                    turn.prompts.append(
                        Prompt("planned_outages", self.services.planned_outages(self.account))
                    )
                else:
                    turn.prompts.append(Prompt("balance", self.services.balance(self.account)))
                name = step["next"]
            elif kind == "queue":
                self.outcome = f"queue:{step['queue']}"
                self._say(turn, "connecting")
                turn.transfer_to = step["queue"]
                return turn
            else:  # hangup
                self.outcome = "self_service" if self._self_served else "hangup"
                self._say(turn, "goodbye")
                turn.hangup = True
                return turn
        raise FlowError("the flow did not wait for the caller within 100 steps")

    def _to_operator(self, turn: Turn) -> Turn:
        step = self._steps.get(self._step) or {}
        operator = step.get("operator") or self.definition.get("operator")
        if operator:
            return self._run(operator, turn)
        self.outcome = "queue:"
        turn.transfer_to = ""  # the adapter's default queue
        return turn

    def _retry(self, turn: Turn, again: Any) -> Turn:
        """Re-prompt after bad input, at most ``retries`` times; then the operator."""
        retries = self._steps[self._step].get("retries", DEFAULT_RETRIES)
        if self._retries >= retries:
            self._say(turn, "to_operator")
            return self._to_operator(turn)
        self._retries += 1
        self._say(turn, "invalid_input")
        return again(turn)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ menus

    def _ask_menu(self, step: dict, turn: Turn) -> Turn:
        self._stage = "menu"
        self._say(turn, step.get("prompt", self._step))
        turn.expect = Expect(max_digits=1, timeout_s=int(step.get("timeout_s", 6)))
        return turn

    def _input_menu(self, step: dict, entered: str) -> Turn:
        target = step["options"].get(entered)
        if target is None:
            return self._retry(Turn(), lambda t: self._ask_menu(step, t))
        self.path.append(entered)
        return self._run(target, Turn())

    # ------------------------------------------------------------------ identification

    def _ask_account(self, turn: Turn, key: str) -> Turn:
        self._stage = "account"
        self._say(turn, key)
        turn.expect = Expect(max_digits=20, timeout_s=10, terminator="#")
        return turn

    def _input_account(self, entered: str) -> Turn:
        digits = entered.rstrip("#")
        account = self.services.account_by_number(digits) if digits.isdigit() else None
        own = self.services.accounts_by_phone(self.caller) if self.caller else []
        if account is not None and own and account.id not in {a.id for a in own}:
            account = None  # a known number chooses only among its own accounts
        if account is None:
            return self._retry(Turn(), lambda t: self._ask_account(t, "account_not_found"))
        self.account = account
        self._verified = bool(own)
        turn = Turn()
        self._say(turn, "identified")
        return self._run(self._after_identify, turn)

    def _ask_meter_serial(self, turn: Turn, key: str) -> Turn:
        self._stage = "meter_serial"
        self._say(turn, key)
        turn.expect = Expect(max_digits=4, timeout_s=10, terminator="#")
        return turn

    def _input_meter_serial(self, entered: str) -> Turn:
        digits = entered.rstrip("#")
        assert self.account is not None
        if not (len(digits) == 4 and digits.isdigit()) or not self.services.meter_serial_matches(
            self.account, digits
        ):
            return self._retry(Turn(), lambda t: self._ask_meter_serial(t, "meter_serial_wrong"))
        self._verified = True
        return self._run(self._after_identify, Turn())

    def _input_identify(self, step: dict, entered: str) -> Turn:
        return self._input_account(entered)

    def _input_outage_status(self, step: dict, entered: str) -> Turn:
        return self._input_account(entered)

    _input_planned_outages = _input_outage_status
    _input_balance = _input_outage_status

    # ------------------------------------------------------------------ readings

    def _ask_reading(self, turn: Turn) -> Turn:
        assert self.account is not None
        zones = self.services.meter_zones(self.account)
        if zones <= 0:
            self._say(turn, "no_meter")
            return self._to_operator(turn)
        self._stage = "reading"
        self._say(turn, "enter_reading", zone=len(self._collected) + 1, zones=zones)
        turn.expect = Expect(max_digits=12, timeout_s=15, terminator="#")
        return turn

    def _input_reading(self, step: dict, entered: str) -> Turn:
        assert self.account is not None
        value = entered.rstrip("#")
        if (
            not value
            or not all(c.isdigit() or c == "*" for c in value)
            or value.count("*") > 1
            or value.startswith("*")
        ):
            return self._retry(Turn(), self._ask_reading)
        self._collected.append(value)
        if len(self._collected) < self.services.meter_zones(self.account):
            return self._ask_reading(Turn())
        ok, text = self.services.submit_reading(self.account, list(self._collected))
        self._collected = []
        turn = Turn(prompts=[Prompt("reading_result", text)])
        if not ok:
            return self._retry(turn, self._ask_reading)
        self._self_served = True
        return self._run(step["next"], turn)
