"""Flow versions in the admin (an edit of a published version makes a new one; the tree preview; the
validation error shown), the publish action, and the demo seed of the contact centre."""

from __future__ import annotations

import copy
import json

import pytest

from okno.contact_center.admin import flow_tree
from okno.contact_center.flows import MAIN_FLOW, ensure_defaults
from okno.contact_center.models import Agent, IvrFlow, IvrFlowVersion, Queue, Skill, WrapUpCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, org):
    org.admin.is_staff = True
    org.admin.is_superuser = True
    org.admin.save()
    client.force_login(org.admin)
    ensure_defaults()
    return client


def _form(version, definition, note="changed"):
    return {"flow": version.flow_id, "note": note, "definition": json.dumps(definition)}


def test_editing_a_published_version_makes_a_new_version(admin_client):
    v1 = IvrFlow.objects.get(code="main").published()
    changed = copy.deepcopy(MAIN_FLOW)
    changed["steps"]["menu"]["options"]["7"] = "operator"
    response = admin_client.post(f"/admin/contact_center/ivrflowversion/{v1.pk}/change/", _form(v1, changed))
    assert response.status_code == 302
    v1.refresh_from_db()
    assert "7" not in v1.definition["steps"]["menu"]["options"]  # the published one is untouched
    v2 = IvrFlowVersion.objects.get(flow=v1.flow, number=2)
    assert v2.published_at is None and v2.definition["steps"]["menu"]["options"]["7"] == "operator"
    assert IvrFlow.objects.get(code="main").published().pk == v1.pk

    admin_client.post(
        "/admin/contact_center/ivrflowversion/",
        {"action": "publish", "_selected_action": [v2.pk]},
    )
    assert IvrFlow.objects.get(code="main").published().pk == v2.pk


def test_an_invalid_flow_is_refused_with_the_error(admin_client):
    v1 = IvrFlow.objects.get(code="main").published()
    broken = copy.deepcopy(MAIN_FLOW)
    broken["steps"]["menu"]["options"]["7"] = "nowhere"
    response = admin_client.post(f"/admin/contact_center/ivrflowversion/{v1.pk}/change/", _form(v1, broken))
    assert response.status_code == 200
    assert "option 7 goes to a missing step" in response.content.decode()
    assert IvrFlowVersion.objects.count() == 1


def test_preview_draws_the_flow_as_a_tree(admin_client):
    v1 = IvrFlow.objects.get(code="main").published()
    page = admin_client.get(f"/admin/contact_center/ivrflowversion/{v1.pk}/change/").content.decode()
    assert "key 1 → outage: outage_status" in page
    lines = flow_tree(MAIN_FLOW)
    assert lines[0] == (0, "greeting: say «greeting»")
    assert (2, "key 2 → menu (see above)") in lines  # outage menu back to the main menu
    assert (0, "key 0 (operator) → operator: queue general") in lines


def test_demo_seed_creates_queues_codes_flow_and_agents(org):
    from okno.demo.contact_center import build_contact_center

    said = []
    made = build_contact_center(said.append)
    assert Queue.objects.count() == 5 and WrapUpCode.objects.count() >= 5
    assert Queue.objects.get(code="outage").overflow_to.code == "general"
    assert IvrFlow.objects.get(code="main").published() is not None
    agent = Agent.objects.get(user=org.cc_operator)
    assert agent.extension == "101"
    assert Skill.objects.filter(agent=agent).count() == 5
    assert set(Skill.objects.filter(agent__user=org.operator_a).values_list("queue__code", flat=True)) == {
        "general"
    }
    assert made["agents"] == 3 and said
    assert build_contact_center()["agents"] == 0  # idempotent


def test_main_flow_reaches_the_readings_queue_other_questions_and_names_the_operator_key():
    from okno.contact_center.flows import MAIN_FLOW
    from okno.contact_center.ivr_services import PROMPTS

    steps = MAIN_FLOW["steps"]
    queues = {s["queue"] for s in steps.values() if s["type"] == "queue"}
    assert {"general", "outage", "billing", "readings", "connection"} <= queues
    assert steps[steps["reading"]["operator"]]["queue"] == "readings"
    assert steps[steps["menu"]["options"]["6"]]["queue"] == "general"
    for step in steps.values():
        if step["type"] == "menu":
            assert "press 0" in str(PROMPTS[step["prompt"]]), step["prompt"]
