def test_registered_appeal_is_routed_numbered_and_assigned(register, org):
    appeal = register()
    assert appeal.number.endswith("-000001")
    assert appeal.branch == org.a
    assert appeal.department == org.dept_a
    assert appeal.assignee in (org.specialist_a1, org.specialist_a2)
    assert appeal.status == "assigned"
