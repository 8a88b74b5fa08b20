"""The topology pages (find a node, its chain and counts, upload CSVs with row errors) and the Django
admin of the outages app (GridNode saved through save_node with clean() errors, outages read-only)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.outages.test_topology import NODES, _feeds, _nodes_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(org):
    """The dispatcher of branch A (from the org personas, created here on an older tests/conftest.py)."""
    from okno.org.models import User

    user = getattr(org, "dispatcher_a", None)
    if user is None:
        user = User.objects.create_user(username="dispatcher_a", password="okno-test-pass", role="dispatcher")
        user.branches.set([org.a])
    return user


def _upload(client, nodes=None, feeds=None):
    data = {}
    if nodes is not None:
        data["nodes"] = SimpleUploadedFile("nodes.csv", nodes.encode(), content_type="text/csv")
    if feeds is not None:
        data["feeds"] = SimpleUploadedFile("feeds.csv", feeds.encode(), content_type="text/csv")
    return client.post("/dispatch/topology/import/", data)


def test_dispatcher_uploads_files_and_sees_a_node_with_its_chain_and_counts(
    client, dispatcher, org, customers
):
    client.force_login(dispatcher)
    response = _upload(client, _nodes_csv(org), _feeds(customers.acc_ivanov.number).split("TP-2")[0])
    assert response.status_code == 302
    page = client.get("/dispatch/topology/", follow=True)
    text = page.content.decode()
    assert "Nodes: 4 created" in text and "PS-1" in text
    node = client.get("/dispatch/topology/nodes/F-1/")
    assert node.status_code == 200
    body = node.content.decode()
    assert "PS-1" in body and "TP-1" in body and "TP-2" in body
    assert "Service points: 1" in body
    found = client.get("/dispatch/topology/", {"q": "ТП-2"}).content.decode()
    assert "TP-2" in found


def test_upload_with_errors_lists_them_by_line_and_loads_nothing(client, dispatcher, org):
    from okno.outages.models import GridNode

    client.force_login(dispatcher)
    bad = NODES.split("\n", 1)[0] + "\nPS-1,plant,,ПС,110,north,,,,,,,,\n"
    response = _upload(client, bad)
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was imported: 1 errors." in text and "Unknown kind" in text and "<td>2</td>" in text
    assert not GridNode.objects.exists()


def test_upload_without_files_is_refused(client, dispatcher):
    client.force_login(dispatcher)
    response = _upload(client)
    assert response.status_code == 400
    assert "Choose a nodes file" in response.content.decode()


def test_operator_may_look_but_not_upload(client, org):
    client.force_login(org.operator_a)
    page = client.get("/dispatch/topology/")
    assert page.status_code == 200 and "Upload the topology" not in page.content.decode()
    assert _upload(client, "code\n").status_code == 403


def test_security_officer_may_not_see_the_topology(client, org):
    client.force_login(org.security)
    assert client.get("/dispatch/topology/").status_code == 403


def test_another_branchs_node_answers_404(client, org, dispatcher):
    from okno.outages.models import GridNode
    from okno.outages.topology import save_node

    save_node(
        GridNode(code="PS-B", name="ПС Восток", kind="power_centre", branch=org.b, voltage_kv=Decimal(110))
    )
    client.force_login(dispatcher)
    assert client.get("/dispatch/topology/nodes/PS-B/").status_code == 404
    assert "PS-B" not in client.get("/dispatch/topology/").content.decode()


# --- admin ---------------------------------------------------------------------------------------


@pytest.fixture
def root(org, client):
    from okno.org.models import User

    user = User.objects.create_superuser(username="root", password="okno-test-pass", email="root@okno.test")
    client.force_login(user)
    return client


def _node_post(org, **overrides):
    data = {
        "code": "F-9",
        "name": "Фидер 9",
        "kind": "feeder",
        "parent": "",
        "branch": str(org.a.pk),
        "grid_district": "",
        "voltage_kv": "10",
        "in_service": "on",
        "settlement": "",
        "location": "",
        "latitude": "",
        "longitude": "",
        "installed_mva": "",
        "load_mva": "",
        "reserved_mva": "",
        "closed_reason": "",
        "reconstruction_from": "",
        "reconstruction_until": "",
        "reconstruction_note": "",
    }
    data.update(overrides)
    return data


def test_admin_adds_a_node_with_its_path_and_refuses_a_wrong_parent(root, org):
    from okno.outages.models import GridNode
    from okno.outages.topology import save_node

    pc = save_node(
        GridNode(code="PS-1", name="ПС", kind="power_centre", branch=org.a, voltage_kv=Decimal(110))
    )
    response = root.post("/admin/outages/gridnode/add/", _node_post(org, parent=str(pc.pk)))
    assert response.status_code == 302, response.content.decode()[:2000]
    feeder = GridNode.objects.get(code="F-9")
    assert feeder.path == f"/{pc.pk}/{feeder.pk}/"
    bad = root.post("/admin/outages/gridnode/add/", _node_post(org, code="F-10", voltage_kv="-1"))
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "give its parent" in text and "The voltage must be positive." in text
    assert not GridNode.objects.filter(code="F-10").exists()


def test_admin_lists_nodes_with_filters_and_search(root, org):
    from okno.outages.models import GridNode
    from okno.outages.topology import save_node

    save_node(
        GridNode(code="PS-1", name="ПС Северная", kind="power_centre", branch=org.a, voltage_kv=Decimal(110))
    )
    response = root.get("/admin/outages/gridnode/", {"kind__exact": "power_centre", "q": "Северная"})
    assert response.status_code == 200 and "PS-1" in response.content.decode()


def test_admin_shows_outages_read_only_and_settings_once(root, org):
    from okno.outages.models import GridNode, Outage, OutageSettings
    from okno.outages.topology import save_node

    pc = save_node(
        GridNode(code="PS-1", name="ПС", kind="power_centre", branch=org.a, voltage_kv=Decimal(110))
    )
    outage = Outage.objects.create(number="A-1", kind="unplanned", status="active", branch=org.a, node=pc)
    assert root.get("/admin/outages/outage/").status_code == 200
    assert root.get(f"/admin/outages/outage/{outage.pk}/change/").status_code == 200
    assert root.get("/admin/outages/outage/add/").status_code == 403
    assert root.post(f"/admin/outages/outage/{outage.pk}/change/", {"number": "X"}).status_code == 403
    assert root.get("/admin/outages/outagesettings/add/").status_code == 200
    OutageSettings.objects.create()
    assert root.get("/admin/outages/outagesettings/add/").status_code == 403
    for model in ("feed", "localauthority", "announcement"):
        assert root.get(f"/admin/outages/{model}/").status_code == 200
