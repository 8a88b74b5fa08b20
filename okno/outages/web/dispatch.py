"""The dispatcher's pages: the board (and incident dashboard), registering and planning outages, an
outage's card with its actions, and the queue of "no power" reports not yet tied to an outage."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.appeals.models import Appeal
from okno.core.access import require_perm
from okno.core.errors import Conflict
from okno.outages import actions, loop, mass
from okno.outages.choices import OFF_STATUSES, Cause, OutageStatus
from okno.outages.models import GridNode, Outage, OutageNode


def _nodes(user: Any):
    return GridNode.objects.restrict(user, "view").select_related("branch")


def _node(user: Any, code: str) -> GridNode | None:
    code = (code or "").strip()
    return _nodes(user).filter(code=code).first() if code else None


def _whole(value: str) -> bool:
    """Digits 0–9 only, and not absurdly long ("²".isdigit() is true, and int() refuses it)."""
    return value.isascii() and value.isdigit() and len(value) <= 9


def _local(value: str, tz: Any) -> dt.datetime | None:
    """A ``datetime-local`` value typed by the dispatcher, read in the branch's time zone."""
    value = (value or "").strip()
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("general" if k == "__all__" else k): [str(m) for m in v] for k, v in exc.message_dict.items()
        }
    return {"general": [str(m) for m in exc.messages]}


def _since(start: dt.datetime | None, now: dt.datetime) -> str:
    if start is None:
        return ""
    minutes = int((now - start).total_seconds() // 60)
    return _("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """Everything a dispatcher watches: outages that are on, proposals, planned works, waiting reports."""
    require_perm(request.user, "outage.view")
    user = request.user
    now = timezone.now()
    qs = Outage.objects.restrict(user, "view").select_related("branch", "node")
    active = list(qs.filter(status__in=OFF_STATUSES).order_by("-customers_affected"))
    for o in active:
        o.since = _since(o.started_at, now)  # type: ignore[attr-defined]
        o.etr_overdue = o.etr is not None and o.etr < now  # type: ignore[attr-defined]
    branch_ids = None if user.all_branches else user.branch_ids  # type: ignore[union-attr]
    context = {
        "active": active,
        "proposed": qs.filter(status=OutageStatus.PROPOSED).order_by("-detected_at"),
        "planned": qs.filter(
            status=OutageStatus.SCHEDULED, planned_start__lte=now + dt.timedelta(days=30)
        ).order_by("planned_start")[:50],
        "waiting": loop.waiting_reports(branch_ids).count(),
        "customers_off": sum(o.customers_affected for o in active),
        "reports": sum(o.reports for o in active),
        "crews": sum(o.crews for o in active),
        "mass": [o for o in active if o.mass_mode_at],
        "announcements": [
            a for a in mass.active_announcements() if branch_ids is None or a.branch_id in branch_ids
        ],
        "recent": qs.filter(status=OutageStatus.RESTORED).order_by("-restored_at")[:10],
    }
    return render(request, "outages/dispatch/board.html", context)


def _form_context(request: HttpRequest, planned: bool) -> dict[str, Any]:
    return {
        "planned": planned,
        "causes": Cause.choices,
        "node_codes": list(_nodes(request.user).values_list("code", "name")[:2000]),
    }


@login_required
def register(request: HttpRequest, planned: bool = False) -> HttpResponse:
    """Register an unplanned outage, or (``planned``) schedule planned works."""
    require_perm(request.user, "outage.add")
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    form = {
        k: data.get(k, "") for k in ("node", "extra_nodes", "cause", "started_at", "etr", "reason", "crews")
    }
    form.update({k: data.get(k, "") for k in ("planned_start", "planned_end", "works_order", "merge")})
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        node = _node(user, form["node"])
        extra: list[GridNode] = []
        if node is None:
            errors["node"] = [_("No grid node with this code in your branches.")]
        for code in form["extra_nodes"].replace(",", " ").split():
            other = _node(user, code)
            if other is None:
                errors["extra_nodes"] = [_("No grid node with code “%(c)s”.") % {"c": code}]
            else:
                extra.append(other)
        crews = 0
        if form["crews"]:
            if not _whole(form["crews"]):
                errors["crews"] = [_("Enter a whole number.")]
            else:
                crews = int(form["crews"])
        if node is not None and not errors:
            tz = node.branch.tz
            try:
                times = {
                    k: _local(form[k], tz) for k in ("started_at", "etr", "planned_start", "planned_end")
                }
            except ValueError:
                errors["general"] = [_("Enter dates and times as shown.")]
            else:
                try:
                    if planned:
                        outage = actions.schedule_planned(
                            node=node,
                            extra_nodes=extra,
                            planned_start=times["planned_start"],  # type: ignore[arg-type]
                            planned_end=times["planned_end"],  # type: ignore[arg-type]
                            reason=form["reason"],
                            works_order=form["works_order"],
                            merge=bool(form["merge"]),
                            actor=user,
                        )
                    else:
                        outage = actions.register_unplanned(
                            node=node,
                            extra_nodes=extra,
                            actor=user,
                            cause=form["cause"] or Cause.UNKNOWN,
                            started_at=times["started_at"],
                            etr=times["etr"],
                            reason=form["reason"],
                            crews=crews,
                        )
                except ValidationError as exc:
                    errors = _errors(exc)
                except Conflict as exc:
                    errors["general"] = [str(exc.message)]
                else:
                    messages.success(
                        request,
                        _("Outage %(n)s registered: %(c)s customers.")
                        % {"n": outage.number, "c": outage.customers_affected},
                    )
                    return redirect("outages:outage", pk=outage.pk)
    context = _form_context(request, planned) | {"form": form, "errors": errors}
    return render(request, "outages/dispatch/register.html", context, status=400 if errors else 200)


@login_required
def outage_card(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "outage.view")
    outage = get_object_or_404(
        Outage.objects.restrict(request.user, "view").select_related("branch", "node", "incident"), pk=pk
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        require_perm(request.user, "outage.change")
        result = _act(request, outage)
        if isinstance(result, dict):
            errors = result
        else:
            return redirect("outages:outage", pk=outage.pk)
    tz = outage.branch.tz
    reports = (
        Appeal.objects.filter(incident_id=outage.incident_id)
        .select_related("customer")
        .order_by("-registered_at")[:200]
        if outage.incident_id
        else []
    )
    context = {
        "outage": outage,
        "tz": tz,
        "nodes": OutageNode.objects.filter(outage=outage).select_related("node"),
        "etr_changes": outage.etr_changes.select_related("actor"),
        "events": outage.events.select_related("actor").order_by("-time", "-id")[:100],
        "reports": reports,
        "causes": Cause.choices,
        "errors": errors,
        "since": _since(outage.started_at, outage.restored_at or timezone.now()),
        "is_off": outage.status in OFF_STATUSES,
        "announcements": outage.announcements.all(),
    }
    return render(request, "outages/dispatch/card.html", context, status=400 if errors else 200)


def _act(request: HttpRequest, outage: Outage) -> dict[str, list[str]] | None:
    """One action from the card's forms; errors come back as field errors for the page."""
    op = request.POST.get("op", "")
    tz = outage.branch.tz
    user = request.user
    version = request.POST.get("version")
    expected = int(version) if version and _whole(version) else None
    try:
        if op == "etr":
            etr = _local(request.POST.get("etr", ""), tz)
            if etr is None:
                return {"etr": [_("Enter the estimated restoration time.")]}
            actions.change_etr(
                outage, etr=etr, actor=user, reason=request.POST.get("reason", ""), expected_version=expected
            )
            messages.success(request, _("Restoration time changed; subscribers will be told."))
        elif op == "restore":
            ids = [int(x) for x in request.POST.getlist("nodes") if _whole(x)]
            at = _local(request.POST.get("restored_at", ""), tz)
            if ids:
                actions.restore_nodes(outage, node_ids=ids, actor=user, at=at, expected_version=expected)
            else:
                actions.restore(outage, actor=user, at=at, expected_version=expected)
            messages.success(request, _("Restoration recorded."))
        elif op == "add_node":
            node = _node(user, request.POST.get("node", ""))
            if node is None:
                return {"node": [_("No grid node with this code in your branches.")]}
            actions.add_node(outage, node=node, actor=user)
            messages.success(request, _("Node added to the outage."))
        elif op == "crews":
            crews = request.POST.get("crews", "")
            if not _whole(crews):
                return {"crews": [_("Enter a whole number.")]}
            actions.set_crews(outage, crews=int(crews), note=request.POST.get("note", ""), actor=user)
            messages.success(request, _("Saved."))
        elif op == "confirm":
            actions.confirm(
                outage,
                actor=user,
                etr=_local(request.POST.get("etr", ""), tz),
                cause=request.POST.get("cause") or Cause.UNKNOWN,
                expected_version=expected,
            )
            messages.success(request, _("Outage confirmed; waiting reports are attached to it."))
        elif op == "cancel":
            actions.cancel(
                outage, actor=user, reason=request.POST.get("reason", ""), expected_version=expected
            )
            messages.success(request, _("Outage cancelled."))
        else:
            return {"general": [_("Unknown action.")]}
    except ValueError:
        return {"general": [_("Enter dates and times as shown.")]}
    except ValidationError as exc:
        return _errors(exc)
    except Conflict as exc:
        return {"general": [str(exc.message)]}
    return None


@login_required
def waiting(request: HttpRequest) -> HttpResponse:
    """Reports with no outage, grouped by the node feeding them: the dispatcher starts an outage from here."""
    require_perm(request.user, "outage.view")
    user = request.user
    branch_ids = None if user.all_branches else user.branch_ids  # type: ignore[union-attr]
    appeals = list(loop.waiting_reports(branch_ids).select_related("address", "account", "branch")[:500])
    groups: dict[int | None, list[Appeal]] = defaultdict(list)
    for appeal in appeals:
        placement = loop.place(appeal)
        groups[placement.node_id if placement else None].append(appeal)
    nodes = GridNode.objects.in_bulk([k for k in groups if k is not None])
    rows = sorted(
        ((nodes.get(k) if k is not None else None, v) for k, v in groups.items()),
        key=lambda row: -len(row[1]),
    )
    return render(request, "outages/dispatch/waiting.html", {"rows": rows, "count": len(appeals)})
