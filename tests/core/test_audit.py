from okno.core import audit
from okno.core.context import acting_as, request_id
from okno.core.models import AccessLog, ChangeLog


def test_an_appeal_change_is_logged_with_before_after_actor_and_request(register, org):
    with request_id("req-42"):
        appeal = register()
    from okno.appeals import actions

    with request_id("req-43"):
        actions.start_work(appeal, actor=org.specialist_a1)
    entry = ChangeLog.objects.filter(
        object_type="appeals.appeal", object_id=str(appeal.pk), request_id="req-43"
    ).latest("id")
    assert entry.action == "update"
    assert entry.actor == org.specialist_a1
    assert entry.before["status"] == "assigned"
    assert entry.after["status"] == "in_progress"
    created = ChangeLog.objects.get(object_type="appeals.appeal", object_id=str(appeal.pk), action="create")
    assert (created.actor, created.request_id) == (org.cc_operator, "req-42")


def test_deleting_reference_data_is_logged(org):
    from okno.org.models import Office

    office = Office.objects.create(
        service_centre=org.office.service_centre, name="Временный офис", address="Северск"
    )
    pk = office.pk
    with acting_as(org.admin):
        office.delete()
    entry = ChangeLog.objects.get(object_type="org.office", object_id=str(pk), action="delete")
    assert entry.before["name"] == "Временный офис"
    assert entry.after is None
    assert entry.actor_name == "admin"


def test_passwords_never_reach_the_change_log(org):
    org.operator_a.set_password("новый-пароль-123")
    with acting_as(org.admin):
        org.operator_a.save()
    for entry in ChangeLog.objects.filter(object_type="org.user"):
        assert "password" not in (entry.after or {})


def test_jobs_act_as_a_named_system_actor(register, org, django_capture_on_commit_callbacks):
    from okno.appeals.models import Appeal
    from okno.core import jobs

    register()
    past = Appeal.objects.get().deadline_at.replace(year=2000)
    Appeal.objects.update(deadline_at=past)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.submit("appeals.check_deadlines")
    entry = ChangeLog.objects.filter(object_type="appeals.appeal", action="update").latest("id")
    assert entry.actor_name == "system:jobs"


def test_security_officer_can_list_who_saw_a_customer(customers, org):
    audit.log_access(actor=org.operator_a, customer_id=customers.ivanov.pk, context_name="ui:customer")
    audit.log_access(actor=org.cc_operator, customer_id=customers.ivanov.pk, context_name="api:appeal")
    audit.log_access(actor=org.cc_operator, customer_id=customers.romashka.pk, context_name="ui:customer")
    seen_by = set(
        AccessLog.objects.filter(customer_id=customers.ivanov.pk).values_list("actor_name", flat=True)
    )
    assert seen_by == {"operator_a", "cc_operator"}
