"""The action forms of the appeal card: which are offered (status AND permission) and how each calls its action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms as djforms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from okno.appeals import actions, forms
from okno.appeals.actions import TRANSITIONS
from okno.appeals.choices import AnswerChannel, Status
from okno.appeals.models import Appeal
from okno.core.errors import StaleVersion
from okno.customers.models import Account

Runner = Callable[[Appeal, Any, dict[str, Any]], str]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    title: Any
    perm: str
    form: type[forms.VersionedForm]
    allowed: Callable[[Appeal], bool]
    run: Runner
    button: Any = None
    danger: bool = False
    inline: bool = False  # only a button (no visible fields)


def _can(target: str) -> Callable[[Appeal], bool]:
    return lambda a: target in TRANSITIONS[a.status]


def _check_version(appeal: Appeal, data: dict[str, Any]) -> None:
    """For actions that take no ``expected_version``: refuse when the appeal changed since the form was shown."""
    if data["version"] != appeal.version:
        raise StaleVersion(
            _(
                "The appeal was changed by someone else (version %(now)s, yours %(yours)s); reload it and try again."
            )
            % {"now": appeal.version, "yours": data["version"]}
        )


def _assign(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    a = actions.assign(
        appeal,
        actor=user,
        department=d.get("department"),
        assignee=d.get("assignee"),
        reason=d.get("reason") or "",
        expected_version=d["version"],
    )
    return _("Assigned to %(who)s.") % {"who": a.assignee.short_name if a.assignee else a.department}


def _start(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    actions.start_work(appeal, actor=user, expected_version=d["version"])
    return _("Work started.")


def _wait(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    actions.wait_for_customer(appeal, actor=user, reason=d["reason"], expected_version=d["version"])
    return _("The clock is paused while the customer is asked.")


def _resume(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    a = actions.resume(appeal, actor=user, reason=d.get("reason") or "", expected_version=d["version"])
    return _("Resumed; the deadline is now %(d)s.") % {"d": f"{a.local_deadline:%d.%m.%Y %H:%M}"}


def _answer(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    ans = actions.answer_appeal(
        appeal,
        actor=user,
        text=d["text"],
        channel=d["channel"],
        template=d.get("template"),
        expected_version=d["version"],
    )
    return _("Answer %(n)s saved.") % {"n": ans.outgoing_number}


def _deliver(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    _check_version(appeal, d)
    actions.mark_delivered(d["answer"], actor=user, delivered_at=d.get("delivered_at"))
    return _("Delivery of the answer recorded.")


def _close(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    actions.close(appeal, actor=user, reason=d.get("reason") or "", expected_version=d["version"])
    return _("The appeal is closed.")


def _reopen(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    actions.reopen(appeal, actor=user, reason=d["reason"], expected_version=d["version"])
    return _("The appeal is back in work.")


def _cancel(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    actions.cancel(
        appeal,
        actor=user,
        reason=d["code"],
        comment=d.get("comment") or "",
        duplicate_of=d.get("duplicate_number"),
        expected_version=d["version"],
    )
    return _("The appeal is cancelled.")


def _extend(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    a = actions.extend_deadline(
        appeal, actor=user, days=d["days"], reason=d["reason"], expected_version=d["version"]
    )
    return _("The deadline is extended to %(d)s.") % {"d": f"{a.local_deadline:%d.%m.%Y %H:%M}"}


def _escalate(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    _check_version(appeal, d)
    new = actions.escalate(appeal, actor=user, text=d["text"], channel=d["channel"])
    return _("Escalation %(n)s registered.") % {"n": new.number}


def _rate(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    _check_version(appeal, d)
    actions.rate(appeal, actor=user, score=d["score"], comment=d.get("comment") or "")
    return _("The rating is recorded.")


def _comment(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    _check_version(appeal, d)
    actions.comment(appeal, actor=user, text=d["text"])
    return _("Comment added.")


def _attach(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    att = actions.add_attachment(appeal, actor=user, upload=d["file"])
    return _("File %(name)s attached.") % {"name": att.name}


def _reclassify(appeal: Appeal, user: Any, d: dict[str, Any]) -> str:
    account = None
    if d.get("link_account") and appeal.suggested_account_id:
        account = Account.objects.restrict(user, "view").filter(pk=appeal.suggested_account_id).first()
        if account is None:
            raise ValidationError({"link_account": [_("This account is not in your scope.")]})
    a = actions.reclassify(
        appeal, actor=user, kind=d["kind"], topic=d["topic"], account=account, expected_version=d["version"]
    )
    return _("Type and topic: %(kind)s, %(topic)s.") % {
        "kind": a.get_kind_display(),
        "topic": a.get_topic_display(),
    }


def _has_undelivered_letter(a: Appeal) -> bool:
    return (
        a.status in (Status.ANSWERED, Status.CLOSED)
        and a.answers.filter(
            delivered_at__isnull=True,
            channel__in=[AnswerChannel.MAIL, AnswerChannel.EMAIL, AnswerChannel.SMS],
        ).exists()
    )


_ANSWERED = (Status.ANSWERED, Status.CLOSED)

SPECS: list[ActionSpec] = [
    ActionSpec(
        "classify",
        gettext_lazy("Confirm or change the type and topic"),
        "appeal.change",
        forms.ReclassifyForm,
        lambda a: a.is_open,
        _reclassify,
    ),
    ActionSpec(
        "start",
        gettext_lazy("Start work"),
        "appeal.transition",
        forms.VersionedForm,
        lambda a: a.status in (Status.REGISTERED, Status.ASSIGNED),
        _start,
        inline=True,
    ),
    ActionSpec(
        "resume",
        gettext_lazy("Resume (the customer answered)"),
        "appeal.transition",
        forms.OptionalReasonForm,
        lambda a: a.status == Status.WAITING_CUSTOMER,
        _resume,
    ),
    ActionSpec(
        "answer",
        pgettext_lazy("action", "Answer"),
        "appeal.answer",
        forms.AnswerForm,
        _can(Status.ANSWERED),
        _answer,
    ),
    ActionSpec(
        "deliver",
        gettext_lazy("Mark the answer delivered"),
        "appeal.answer",
        forms.DeliverForm,
        _has_undelivered_letter,
        _deliver,
    ),
    ActionSpec(
        "close",
        gettext_lazy("Close"),
        "appeal.transition",
        forms.VersionedForm,
        lambda a: Status.CLOSED in TRANSITIONS[a.status] and a.delivered_at is not None,
        _close,
        inline=True,
    ),
    ActionSpec(
        "assign", gettext_lazy("Assign"), "appeal.assign", forms.AssignForm, _can(Status.ASSIGNED), _assign
    ),
    ActionSpec(
        "wait",
        gettext_lazy("Wait for the customer"),
        "appeal.transition",
        forms.ReasonForm,
        _can(Status.WAITING_CUSTOMER),
        _wait,
    ),
    ActionSpec(
        "extend",
        gettext_lazy("Extend the deadline"),
        "appeal.extend",
        forms.ExtendForm,
        lambda a: a.is_open and not a.extended_days,
        _extend,
    ),
    ActionSpec(
        "reopen",
        gettext_lazy("Reopen"),
        "appeal.transition",
        forms.ReasonForm,
        lambda a: a.status in _ANSWERED,
        _reopen,
    ),
    ActionSpec(
        "escalate",
        gettext_lazy("Contest the answer (escalation)"),
        "appeal.register",
        forms.EscalateForm,
        lambda a: a.status in _ANSWERED,
        _escalate,
    ),
    ActionSpec(
        "rate",
        gettext_lazy("Customer's rating"),
        "appeal.feedback",
        forms.RateForm,
        lambda a: a.status in _ANSWERED and a.delivered_at is not None,
        _rate,
    ),
    ActionSpec(
        "cancel",
        gettext_lazy("Cancel"),
        "appeal.cancel",
        forms.CancelForm,
        _can(Status.CANCELLED),
        _cancel,
        danger=True,
    ),
    ActionSpec(
        "comment", gettext_lazy("Comment"), "appeal.change", forms.CommentForm, lambda a: True, _comment
    ),
    ActionSpec(
        "attach",
        gettext_lazy("Attach a file"),
        "attachment.add",
        forms.AttachmentForm,
        lambda a: a.status != Status.CANCELLED,
        _attach,
    ),
]
BY_NAME = {s.name: s for s in SPECS}


def allowed_specs(appeal: Appeal, user: Any) -> list[ActionSpec]:
    return [s for s in SPECS if user.has_okno_perm(s.perm) and s.allowed(appeal)]


def apply_errors(form: djforms.Form, message_dict: dict[str, list[str]]) -> None:
    """Put an action's field errors on the form (unknown fields become form-wide errors)."""
    aliases = {"reason": "code"} if "code" in form.fields else {}
    aliases.update({"duplicate_of": "duplicate_number", "score": "score", "department": "department"})
    for field, messages in message_dict.items():
        target = aliases.get(field, field)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)
