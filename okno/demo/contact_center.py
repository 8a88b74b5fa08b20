"""The demo's contact centre: queues, wrap-up codes and the main IVR flow (published), and an agent for
every demo operator with skills.

:func:`build_contact_center` runs after the organisation exists (the seed calls it at the end, inside its
transaction); it is idempotent: run again, it adds what is missing and leaves the rest.

* ``cc_operator`` and ``cc_operator_2`` (the contact-centre operators) work every queue: general and
  outages first (penalty 0), the others at penalty 1 — ``cc_operator_2`` takes billing and readings
  first, so the skills strategy has a choice;
* the office operators (``operator``, ``operator_<branch>``) help in the general queue (penalty 2);
* extensions from 101 in that order; everyone starts logged off.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from okno.contact_center.flows import ensure_defaults
from okno.contact_center.models import Agent, Queue, Skill
from okno.org.choices import Role
from okno.org.models import User

CC_LOGINS = ("cc_operator", "cc_operator_2")


def _penalties(username: str) -> dict[str, int]:
    if username == "cc_operator":
        return {"general": 0, "outage": 0, "readings": 1, "billing": 1, "connection": 1}
    if username == "cc_operator_2":
        return {"general": 0, "outage": 1, "readings": 0, "billing": 0, "connection": 1}
    return {"general": 2}


def build_contact_center(say: Callable[[str], None] | None = None) -> dict[str, int]:
    """Queues, codes, the main flow and the demo operators' agents; returns what was created."""
    say = say or (lambda message: None)
    with transaction.atomic():
        created = ensure_defaults()
        queues = {q.code: q for q in Queue.objects.all()}
        operators = list(
            User.objects.filter(role=Role.OPERATOR, is_active=True, is_system=False).order_by("username")
        )
        operators.sort(key=lambda u: (u.username not in CC_LOGINS, u.username != "operator", u.username))
        used = set(Agent.objects.exclude(extension="").values_list("extension", flat=True))
        next_ext = 101
        agents = skills = 0
        for user in operators:
            agent = Agent.objects.filter(user=user).first()
            if agent is None:
                while str(next_ext) in used:
                    next_ext += 1
                agent = Agent.objects.create(user=user, extension=str(next_ext))
                used.add(str(next_ext))
                agents += 1
            for code, penalty in _penalties(user.username).items():
                if code in queues:
                    _skill, made = Skill.objects.get_or_create(
                        agent=agent, queue=queues[code], defaults={"penalty": penalty}
                    )
                    skills += made
        created.update(agents=agents, skills=skills)
    say(
        "contact centre: {queues} queues, {wrapup_codes} wrap-up codes, {flows} flow, "
        "{agents} agents, {skills} skills created".format(**created)
    )
    return created


__all__ = ["build_contact_center"]


def contact_center_models() -> list:
    """The contact centre's tables in the order they can be emptied (children first)."""
    from okno.contact_center import models as cc

    return [
        cc.CallEvent,
        cc.Callback,
        cc.Call,
        cc.CampaignTarget,
        cc.Campaign,
        cc.DoNotCall,
        cc.Skill,
        cc.Agent,
        cc.Queue,
        cc.WrapUpCode,
        cc.IvrFlowVersion,
        cc.IvrFlow,
    ]
