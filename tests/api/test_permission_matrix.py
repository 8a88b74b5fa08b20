"""Every endpoint with every persona (NetBox's generic API view tests): a role without the permission
gets 403, a row outside the user's branches gets 404, anonymous gets 401, and nothing answers 5xx."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from okno.appeals import actions

PERSONAS = [
    "operator_a",
    "cc_operator",
    "specialist_a1",
    "specialist_b",
    "head_a",
    "branch_head_a",
    "operator_b",
    "quality",
    "security",
    "admin",
]
TRANSITIONS = {
    "assign": "appeal.assign",
    "start": "appeal.transition",
    "wait": "appeal.transition",
    "resume": "appeal.transition",
    "answer": "appeal.answer",
    "deliver": "appeal.answer",
    "close": "appeal.transition",
    "reopen": "appeal.transition",
    "cancel": "appeal.cancel",
    "extend": "appeal.extend",
    "escalate": "appeal.register",
    "rate": "appeal.feedback",
    "comment": "appeal.change",
}


def endpoints(appeal, answer, attachment, customers):
    """(method, url, permission or None, row of branch A?) for every route under /api/v1/."""
    a, c = f"/api/v1/appeals/{appeal.pk}", customers.ivanov.pk
    rows = [
        ("get", "/api/v1/appeals/", "appeal.view", False),
        ("post", "/api/v1/appeals/", "appeal.register", False),
        ("get", f"{a}/", "appeal.view", True),
        ("get", f"/api/v1/appeals/by-number/{appeal.number}/", "appeal.view", True),
        ("get", f"{a}/answers/{answer.pk}/pdf/", "appeal.view", True),
        ("get", f"{a}/attachments/", "attachment.view", True),
        ("post", f"{a}/attachments/", "attachment.add", True),
        ("get", f"{a}/attachments/{attachment.pk}/download/", "attachment.view", True),
        ("get", "/api/v1/customers/", "customer.view", False),
        ("post", "/api/v1/customers/", "customer.add", False),
        ("get", f"/api/v1/customers/{c}/", "customer.view", True),
        ("get", f"/api/v1/customers/{c}/history/", "customer.view", True),
        ("get", f"/api/v1/customers/{c}/appeals/", "appeal.view", True),
        ("get", "/api/v1/accounts/", "account.view", False),
        ("get", f"/api/v1/accounts/{customers.acc_ivanov.pk}/", "account.view", True),
        ("get", f"/api/v1/accounts/lookup/?number={customers.acc_ivanov.number}", "account.view", True),
        ("get", "/api/v1/reference/", None, False),
        ("get", "/api/v1/branches/", "branch.view", False),
        ("get", f"/api/v1/branches/{appeal.branch_id}/", "branch.view", True),
        ("get", "/api/v1/departments/", "department.view", False),
        ("get", f"/api/v1/departments/{appeal.department_id}/", "department.view", True),
        ("get", "/api/v1/grid-districts/", "branch.view", False),
        ("get", "/api/v1/answer-templates/", "appeal.view", False),
        ("get", "/api/v1/deadline-policies/", None, False),
        ("get", "/api/v1/audit/access/", "accesslog.view", False),
        ("get", "/api/v1/audit/changes/", "changelog.view", False),
    ]
    rows += [("post", f"{a}/{act}/", perm, True) for act, perm in TRANSITIONS.items()]
    return rows


@pytest.fixture
def world(org, customers, register):
    appeal = register()
    answer = actions.answer_appeal(appeal, actor=org.specialist_a1, text="Ответ письмом.", channel="mail")
    attachment = actions.add_attachment(
        appeal, actor=org.operator_a, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n")
    )
    return endpoints(appeal, answer, attachment, customers)


def _call(client, method, url):
    if method == "get":
        return client.get(url)
    if url.endswith("/attachments/"):
        return client.post(url, {}, format="multipart")
    return client.post(url, {}, format="json")


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_endpoint_answers_by_role_and_scope(api, org, world, persona):
    user = getattr(org, persona)
    client = api(user)
    wrong = []
    for method, url, perm, branch_a_row in world:
        response = _call(client, method, url)
        if perm is not None and not user.has_okno_perm(perm):
            expected = "403"
            ok = response.status_code == 403
        elif branch_a_row and not user.in_scope(org.a.pk):
            expected = "404"
            ok = response.status_code == 404
        else:
            expected = "allowed (not 401/403/404, no 5xx)"
            ok = response.status_code not in (401, 403, 404) and response.status_code < 500
        if not ok:
            wrong.append(f"{method.upper()} {url}: {response.status_code}, expected {expected}")
    assert wrong == []


def test_anonymous_gets_401_everywhere(api, world):
    client = api()
    statuses = {
        (method, url): _call(client, method, url).status_code for method, url, _perm, _scoped in world
    }

    assert set(statuses.values()) == {401}, statuses
