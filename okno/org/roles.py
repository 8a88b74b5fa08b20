"""What each role may do. Permissions are ``<model>.<action>`` strings checked by ``restrict``.

Scope (which branches' rows) is separate: a user sees the branches they are attached to, or the
whole company when ``all_branches`` is set (contact centre, quality, security, administrators).
"""

from __future__ import annotations

from okno.org.choices import Role

_VIEW_CORE = {
    "appeal.view",
    "customer.view",
    "account.view",
    "attachment.view",
    "incident.view",
    "branch.view",
    "department.view",
    # metering and billing
    "meter.view",
    "reading.view",
    "charge.view",
    "ledgerentry.view",
    "payment.view",
    "invoice.view",
    "debtcase.view",
    "billingrun.view",
    # outages and notifications
    "outage.view",
    "gridnode.view",
    "notice.view",
}
# Operators and specialists route appeals themselves ("not ours — to the metering department");
# extending deadlines and cancelling stay with the heads.
_WORK = {
    "appeal.register",
    "appeal.assign",
    "appeal.change",
    "appeal.transition",
    "appeal.answer",
    "attachment.add",
    "customer.add",
    "customer.change",
    # readings taken at the office or by phone, payments at the office cash desk
    "reading.add",
    "payment.add",
}

# What heads add to the daily work: deadlines, cancellations, reports, incidents.
_MANAGE = {"appeal.extend", "appeal.cancel", "appeal.feedback", "report.view", "incident.change"}
# Billing work that changes money or supply: reviews, corrections, runs, matching, debt steps.
_BILLING = {
    "meter.change",
    "reading.review",
    "reading.import",
    "payment.match",
    "payment.import",
    "ledgerentry.add",
    "billingrun.add",
    "invoice.add",
    "debtcase.change",
}
# Dispatchers register and restore outages, keep the topology and speak to local authorities.
_DISPATCH = {
    "outage.add",
    "outage.change",
    "gridnode.change",
    "gridnode.import",
    "announcement.change",
    "localauthority.change",
    "incident.change",
    "subscription.change",
}
_AUDIT = {"changelog.view", "accesslog.view"}
# The contact centre: agents take calls; supervisors watch the wallboard and statistics; heads run
# outbound campaigns.
_CALLS = {"call.handle"}
_SUPERVISE = {"call.supervise", "call.view"}
_CAMPAIGNS = {"campaign.change"}

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OPERATOR: frozenset(_VIEW_CORE | _WORK | _CALLS | {"appeal.feedback"}),
    Role.SPECIALIST: frozenset(_VIEW_CORE | _WORK),
    Role.DISPATCHER: frozenset(_VIEW_CORE | _WORK | _DISPATCH | {"report.view"}),
    Role.HEAD_OF_DEPARTMENT: frozenset(_VIEW_CORE | _WORK | _MANAGE | _BILLING | _SUPERVISE | _CAMPAIGNS),
    Role.BRANCH_HEAD: frozenset(
        _VIEW_CORE | _WORK | _MANAGE | _BILLING | _DISPATCH | _SUPERVISE | _CAMPAIGNS
    ),
    Role.QUALITY_MANAGER: frozenset(_VIEW_CORE | _SUPERVISE | {"report.view", "appeal.feedback"}),
    Role.SECURITY_OFFICER: frozenset(
        _AUDIT | {"customer.view", "account.view", "branch.view", "department.view"}
    ),
    Role.ADMINISTRATOR: frozenset(
        _VIEW_CORE
        | _WORK
        | _MANAGE
        | _BILLING
        | _DISPATCH
        | _AUDIT
        | _CALLS
        | _SUPERVISE
        | _CAMPAIGNS
        | {"refdata.change"}
    ),
    Role.SYSTEM: frozenset(
        _VIEW_CORE | _WORK | _MANAGE | _BILLING | _DISPATCH | _CALLS | _SUPERVISE | _CAMPAIGNS
    ),
}
