"""Grid topology: CSV import (idempotent, all or nothing, row-numbered errors), GridNode.clean, moving a
subtree keeps paths true, downstream and upstream queries, the node summary and ``okno topology``."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from okno.outages.topology_import import TopologyImportError, import_topology

pytestmark = pytest.mark.django_db

NODES = """code,kind,parent_code,name,voltage_kv,branch,settlement,latitude,longitude,installed_mva,load_mva,reserved_mva,closed_for_connection,closed_reason
TP-1,substation,F-1,ТП-1 Ленина,10,north,Северск,56.6,84.9,,,,,
F-1,feeder,PS-1,Фидер 1,10,north,,,,,,,,
PS-1,power_centre,,ПС 110 кВ Северная,110,Северный филиал,Северск,56.61,84.88,"80,0",55.5,10,1,Нет резерва мощности
TP-2,substation,F-1,ТП-2,10,{branch_id},Северск,,,,,,0,
"""


def _feeds(acc):
    return f"""node_code,account,service_point_id,settlement,street,house
TP-1,{acc},,,,
TP-2,,,Северск,Ленина,12
"""


@pytest.fixture
def houses(org, customers):
    from okno.customers.models import Address, ServicePoint

    sps = []
    for flat in ("1", "2", "3"):
        address = Address.objects.create(
            region="Тестовая область", settlement="Северск", street="ул. Ленина", house="12", flat=flat
        )
        sps.append(ServicePoint.objects.create(address=address, branch=org.a, grid_district=org.district_a))
    return sps


def _nodes_csv(org):
    return NODES.replace("{branch_id}", str(org.a.pk))


def test_import_loads_nodes_in_any_order_and_feeds_by_account_and_building(org, customers, houses):
    from okno.core.models import ChangeLog
    from okno.outages.models import Feed, GridNode

    result = import_topology(
        nodes=_nodes_csv(org), feeds=_feeds(customers.acc_ivanov.number), actor=org.admin
    )
    assert result.as_dict() == {
        "nodes_created": 4,
        "nodes_updated": 0,
        "nodes_unchanged": 0,
        "feeds_created": 4,
        "feeds_updated": 0,
        "feeds_unchanged": 0,
    }
    ps = GridNode.objects.get(code="PS-1")
    f1 = GridNode.objects.get(code="F-1")
    tp1 = GridNode.objects.get(code="TP-1")
    assert (ps.path, f1.path, tp1.path) == (f"/{ps.pk}/", f"/{ps.pk}/{f1.pk}/", f"/{ps.pk}/{f1.pk}/{tp1.pk}/")
    assert tp1.depth == 2
    # Branch by code, by name and by id; decimals with a comma; flags.
    assert {n.branch_id for n in GridNode.objects.all()} == {org.a.pk}
    assert str(ps.installed_mva) == "80.000" and str(ps.free_mva) == "14.500"
    assert ps.closed_for_connection is True and ps.closed_reason == "Нет резерва мощности"
    assert Feed.objects.get(service_point=customers.acc_ivanov.service_point).node == tp1
    assert set(Feed.objects.filter(node__code="TP-2").values_list("service_point_id", flat=True)) == {
        sp.pk for sp in houses
    }
    assert (
        ChangeLog.objects.filter(object_type="outages.gridnode", action="create", actor=org.admin).count()
        == 4
    )


def test_import_twice_changes_nothing_and_a_changed_row_updates_its_node(org, customers, houses):
    from okno.outages.models import GridNode

    feeds = _feeds(customers.acc_ivanov.number)
    import_topology(nodes=_nodes_csv(org), feeds=feeds, actor=org.admin)
    again = import_topology(nodes=_nodes_csv(org), feeds=feeds, actor=org.admin)
    assert again.as_dict() == {
        "nodes_created": 0,
        "nodes_updated": 0,
        "nodes_unchanged": 4,
        "feeds_created": 0,
        "feeds_updated": 0,
        "feeds_unchanged": 4,
    }
    renamed = _nodes_csv(org).replace("ТП-2,10", "ТП-2 новая,10")
    changed = import_topology(nodes=renamed, actor=org.admin)
    assert (changed.nodes_updated, changed.nodes_unchanged) == (1, 3)
    assert GridNode.objects.get(code="TP-2").name == "ТП-2 новая"


def test_feeds_file_moves_a_service_point_to_another_node(org, customers, houses):
    from okno.outages.models import Feed

    import_topology(nodes=_nodes_csv(org), feeds=_feeds(customers.acc_ivanov.number), actor=org.admin)
    moved = import_topology(
        feeds=f"node_code;account\nTP-2;{customers.acc_ivanov.number}\n", actor=org.admin
    )  # semicolons, only the columns needed
    assert (moved.feeds_updated, moved.feeds_created) == (1, 0)
    assert Feed.objects.get(service_point=customers.acc_ivanov.service_point).node.code == "TP-2"


def test_feeds_by_service_point_id(org, customers, houses):
    from okno.outages.models import Feed

    import_topology(nodes=_nodes_csv(org), actor=org.admin)
    import_topology(feeds=f"node_code,service_point_id\nTP-1,{houses[0].pk}\n", actor=org.admin)
    assert Feed.objects.get(service_point=houses[0]).node.code == "TP-1"


def _errors(org, *, nodes=None, feeds=None):
    with pytest.raises(TopologyImportError) as info:
        import_topology(nodes=nodes, feeds=feeds, actor=org.admin)
    return [(e.line, e.column, e.message) for e in info.value.errors]


HEADER = NODES.split("\n", 1)[0] + "\n"


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("PS-9,power_centre,,ПС,110,nowhere,,,,,,,,", "branch", "No branch"),
        ("PS-9,plant,,ПС,110,north,,,,,,,,", "kind", "Unknown kind"),
        ("PS-9,power_centre,,ПС,-110,north,,,,,,,,", "voltage_kv", "positive"),
        ("PS-9,power_centre,,ПС,abc,north,,,,,,,,", "voltage_kv", "not a number"),
        ("PS-9,power_centre,,ПС,110,north,,,,-1,,,,", "installed_mva", "negative"),
        ("PS-9,power_centre,,ПС,110,north,,95,,,,,,", "latitude", "between"),
        ("PS-9,power_centre,,ПС,110,north,,,,,,,maybe,", "closed_for_connection", "1/0"),
        (",power_centre,,ПС,110,north,,,,,,,,", "code", "Required"),
        ("F-9,feeder,,Фидер,10,north,,,,,,,,", "parent_code", "needs a parent_code"),
        ("PS-9,power_centre,PS-1,ПС,110,north,,,,,,,,", "parent_code", "top of the tree"),
        ("TP-9,substation,NOPE,ТП,10,north,,,,,,,,", "parent_code", "No node with code"),
        ("TP-9,substation,PS-1,ТП,10,north,,,,,,,,", "parent_code", "cannot be fed from PS-1"),
        ("PS-1,power_centre,,Дубль,110,north,,,,,,,,", "code", "already on line"),
    ],
)
def test_each_bad_node_row_is_refused_with_its_line_and_nothing_is_written(org, row, column, fragment):
    from okno.outages.models import GridNode

    text = HEADER + "PS-1,power_centre,,ПС 1,110,north,,,,,,,,\n" + row + "\n"
    errors = _errors(org, nodes=text)
    assert len(errors) == 1, errors
    line, col, message = errors[0]
    assert (line, col) == (3, column)
    assert fragment in message
    assert not GridNode.objects.exists()


def test_unknown_columns_and_too_many_values_are_refused(org):
    assert _errors(org, nodes="code,kind,colour\n")[0][2].startswith("Unknown columns colour")
    errors = _errors(org, nodes=HEADER + "PS-1,power_centre,,ПС,110,north,,,,,,,,,,extra\n")
    assert errors[0][0] == 2 and "values for" in errors[0][2]


def test_a_loop_of_parents_is_refused(org):
    from okno.outages.models import GridNode
    from okno.outages.topology import save_node

    save_node(GridNode(code="PS-1", name="ПС", kind="power_centre", branch=org.a, voltage_kv=110))
    text = HEADER + "F-1,feeder,PS-1,Ф1,10,north,,,,,,,,\nTP-1,substation,F-1,ТП,10,north,,,,,,,,\n"
    import_topology(nodes=text, actor=org.admin)
    # Turning the feeder into a line under its own substation: wrong kind and a loop.
    errors = _errors(org, nodes=HEADER + "F-1,line,TP-1,Ф1,10,north,,,,,,,,\n")
    messages = " | ".join(m for _l, _c, m in errors)
    assert "loop" in messages
    assert GridNode.objects.get(code="F-1").kind == "feeder"


def test_changing_a_kind_that_orphans_children_in_the_database_is_refused(org):
    base = (
        HEADER
        + "PS-1,power_centre,,ПС,110,north,,,,,,,,\nF-1,feeder,PS-1,Ф1,10,north,,,,,,,,\nTP-1,substation,F-1,ТП,10,north,,,,,,,,\n"
    )
    import_topology(nodes=base, actor=org.admin)
    errors = _errors(org, nodes=HEADER + "F-1,substation,PS-1,Ф1,10,north,,,,,,,,\n")
    assert any("TP-1" in m and line == 2 for line, _c, m in errors)


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("NOPE,{acc},,,,", "node_code", "No node with code"),
        ("TP-1,0000000000,,,,", "account", "No account"),
        ("TP-1,,999999,,,", "service_point_id", "No service point"),
        ("TP-1,,,Северск,Ленина,999", "house", "No service points"),
        ("TP-1,,,,,", "", "exactly one"),
        ("TP-1,{acc},1,,,", "", "exactly one"),
        ("TP-1,,,Северск,Ленина,", "house", "settlement and house"),
    ],
)
def test_each_bad_feed_row_is_refused_and_the_nodes_file_is_not_loaded_either(
    org, customers, row, column, fragment
):
    from okno.outages.models import Feed, GridNode

    feeds = "node_code,account,service_point_id,settlement,street,house\n" + row.replace(
        "{acc}", customers.acc_ivanov.number
    )
    errors = _errors(org, nodes=_nodes_csv(org), feeds=feeds)
    assert [(line, col) for line, col, _m in errors] == [(2, column)]
    assert fragment in errors[0][2]
    assert not GridNode.objects.exists() and not Feed.objects.exists()


def test_one_service_point_on_two_nodes_in_one_file_is_refused(org, customers):
    acc = customers.acc_ivanov.number
    errors = _errors(org, nodes=_nodes_csv(org), feeds=f"node_code,account\nTP-1,{acc}\nTP-2,{acc}\n")
    assert errors[0][0] == 3 and "line 2" in errors[0][2]


def test_cp1251_file_with_semicolons_is_read(org):
    from okno.outages.models import GridNode

    text = "code;kind;name;voltage_kv;branch\nPS-7;ПС;Подстанция Южная;35;north\n"
    import_topology(nodes=text.encode("cp1251"), actor=org.admin)
    node = GridNode.objects.get(code="PS-7")
    assert (node.kind, node.name) == ("power_centre", "Подстанция Южная")


# --- the tree --------------------------------------------------------------------------------------


@pytest.fixture
def tree(org, customers, houses):
    from okno.outages.models import GridNode

    import_topology(nodes=_nodes_csv(org), feeds=_feeds(customers.acc_ivanov.number), actor=org.admin)
    nodes = {n.code: n for n in GridNode.objects.all()}
    return nodes


def test_moving_a_feeder_to_another_power_centre_re_paths_its_subtree(org, tree):
    from okno.outages.models import GridNode
    from okno.outages.topology import save_node

    ps2 = save_node(GridNode(code="PS-2", name="ПС 2", kind="power_centre", branch=org.a, voltage_kv=35))
    f1 = tree["F-1"]
    f1.parent = ps2
    save_node(f1)
    for code in ("F-1", "TP-1", "TP-2"):
        node = GridNode.objects.get(code=code)
        assert node.path.startswith(f"/{ps2.pk}/{f1.pk}/"), code
    assert GridNode.objects.get(code="TP-1").depth == 2
    # The paths agree with a rebuild from the parent links.
    from okno.outages.topology import rebuild_paths

    before = dict(GridNode.objects.values_list("code", "path"))
    assert rebuild_paths() == 0  # nothing to change
    GridNode.objects.update(path="", depth=0)  # as after a bulk load
    assert rebuild_paths() == len(before)
    assert dict(GridNode.objects.values_list("code", "path")) == before
    assert GridNode.objects.get(code="TP-1").depth == 2


def test_a_node_cannot_move_under_its_own_subtree(tree):
    from okno.outages.topology import save_node

    f1 = tree["F-1"]
    f1.parent = tree["TP-1"]
    with pytest.raises(ValueError):
        save_node(f1)


def test_downstream_service_points_and_upstream_chains(tree, customers, houses):
    from okno.outages import topology

    under_f1 = set(topology.service_points_under([tree["F-1"]]))
    assert under_f1 == {customers.acc_ivanov.service_point_id, *(sp.pk for sp in houses)}
    assert set(topology.service_points_under([tree["F-1"]], exclude=[tree["TP-2"]])) == {
        customers.acc_ivanov.service_point_id
    }
    assert set(topology.descendant_ids([tree["F-1"]])) == {tree[c].pk for c in ("F-1", "TP-1", "TP-2")}
    chain = topology.chain_of_service_point(customers.acc_ivanov.service_point_id)
    assert [n.code for n in chain] == ["PS-1", "F-1", "TP-1"]
    assert [n.code for n in topology.chain_of_address(houses[1].address)] == ["PS-1", "F-1", "TP-2"]


def test_node_summary_counts_what_is_downstream(tree):
    from okno.outages.topology import node_summary

    summary = node_summary(tree["F-1"])
    assert [n.code for n in summary.chain] == ["PS-1", "F-1"]
    assert summary.below == {"substation": 2}
    assert (summary.service_points, summary.accounts) == (4, 1)


# --- GridNode.clean ------------------------------------------------------------------------------


def test_grid_node_clean_checks_parent_kind_voltage_and_capacities(org, tree):
    from okno.outages.models import GridNode

    bad = GridNode(
        code="X", name="X", kind="substation", parent=tree["PS-1"], branch=org.a, voltage_kv=0, load_mva=-1
    )
    with pytest.raises(ValidationError) as info:
        bad.clean()
    assert set(info.value.message_dict) == {"parent", "voltage_kv", "load_mva"}
    orphan = GridNode(code="Y", name="Y", kind="line", branch=org.a, voltage_kv=Decimal("0.4"))
    with pytest.raises(ValidationError):
        orphan.clean()
    GridNode(
        code="Z", name="Z", kind="line", parent=tree["TP-1"], branch=org.a, voltage_kv=Decimal("0.4")
    ).clean()


# --- the command ---------------------------------------------------------------------------------


def test_command_imports_files_and_shows_a_node(org, customers, houses, tmp_path):
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(_nodes_csv(org), encoding="utf-8")
    feeds = tmp_path / "feeds.csv"
    feeds.write_text(_feeds(customers.acc_ivanov.number), encoding="utf-8")
    out = io.StringIO()
    call_command("topology", "import", "--nodes", str(nodes), "--feeds", str(feeds), stdout=out)
    assert "4 created" in out.getvalue()
    out = io.StringIO()
    call_command("topology", "show", "TP-1", stdout=out)
    text = out.getvalue()
    assert "PS-1" in text and "F-1" in text and "TP-1" in text
    assert "service points: 1" in text


def test_command_reports_row_errors_and_fails(org, tmp_path):
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(HEADER + "PS-1,plant,,ПС,110,north,,,,,,,,\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("topology", "import", "--nodes", str(nodes), stderr=err)
    assert "nodes.csv:2: kind: Unknown kind" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("topology", "show", "NOPE")


def test_the_documented_example_nodes_file_imports(org):
    from pathlib import Path

    from okno.outages.models import GridNode

    example = Path(__file__).resolve().parents[2] / "docs" / "outages" / "examples" / "nodes.csv"
    result = import_topology(nodes=example.read_bytes(), actor=org.admin)
    assert result.nodes_created == 7
    line = GridNode.objects.get(code="L-11-1")
    assert line.name == "ВЛ-0,4 кВ Л-1 от ТП-11"
    assert sorted(GridNode.objects.filter(pk__in=line.ancestor_ids()).values_list("code", flat=True)) == [
        "F-1",
        "L-11-1",
        "PS-1",
        "TP-11",
    ]
    assert GridNode.objects.get(code="PS-2").closed_for_connection is True


def test_a_branch_dispatcher_cannot_change_another_branchs_grid(org, grid):
    from okno.outages.models import Feed, GridNode
    from tests.conftest import _user

    dispatcher_b = _user("dispatcher_b", "dispatcher", branches=[org.b])
    nodes = "code,kind,parent_code,name,voltage_kv,branch\nТП-11,substation,Ф-2,ХАК,10,east\n"
    with pytest.raises(TopologyImportError) as err:
        import_topology(nodes=nodes, actor=dispatcher_b)
    assert [(e.line, e.column) for e in err.value.errors] == [(2, "branch")]
    new_in_a = "code,kind,parent_code,name,voltage_kv,branch\nNEW-A,substation,Ф-1,new,10,north\n"
    with pytest.raises(TopologyImportError):
        import_topology(nodes=new_in_a, actor=dispatcher_b)
    account = grid.accounts["ТП-12"][0]
    with pytest.raises(TopologyImportError):
        import_topology(feeds=f"node_code,account\nТП-11,{account.number}\n", actor=dispatcher_b)
    tp11 = GridNode.objects.get(code="ТП-11")
    assert (tp11.name, tp11.branch_id, tp11.parent_id) == ("ТП-11", org.a.pk, grid.f1.pk)
    assert not GridNode.objects.filter(code="NEW-A").exists()
    assert Feed.objects.get(service_point=account.service_point).node_id == grid.tp12.pk
    # The branch's own dispatcher may.
    import_topology(nodes=new_in_a, actor=org.dispatcher_a)
    assert GridNode.objects.get(code="NEW-A").branch_id == org.a.pk
