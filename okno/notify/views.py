"""Pages of notifications: the public unsubscribe and confirm links, and the staff's subscription and log pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from okno.core.access import require_perm
from okno.core.audit import log_access
from okno.customers.models import Customer
from okno.notify import actions
from okno.notify.choices import Channel, NoticeStatus
from okno.notify.models import Notice, Subscription

PAGE_SIZE = 100


@csrf_exempt  # the token in the link is the secret; mail clients POST here without a session (RFC 8058)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a confirmation page; POST (the page's button or a one-click ``List-Unsubscribe=One-Click``):
    unsubscribe. Idempotent, no login."""
    sub = get_object_or_404(Subscription, token=token)
    if request.method == "POST":
        changed = actions.unsubscribe(sub)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse(_("Unsubscribed."), content_type="text/plain; charset=utf-8")
        return render(request, "notify/unsubscribe.html", {"sub": sub, "done": True, "changed": changed})
    return render(request, "notify/unsubscribe.html", {"sub": sub, "done": not sub.active})


@csrf_exempt  # the token (and the code) are the secret; the page is opened from a message without a session
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Double opt-in: GET shows a button (mail scanners open links), POST confirms (with the SMS code, if asked)."""
    sub = get_object_or_404(Subscription, token=token)
    error = ""
    if request.method == "POST" and sub.confirmed_at is None:
        code = request.POST.get("code")
        if not actions.confirm(sub, code=code if code is not None and code != "" else None):
            error = _("The code does not match. Check the SMS and try again.")
    return render(request, "notify/confirm.html", {"sub": sub, "error": error})


@login_required
def customer_subscriptions(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's subscriptions; staff can switch one off (the customer asked by phone)."""
    require_perm(request.user, "subscription.change")
    customer = get_object_or_404(Customer.objects.restrict(request.user, "view"), pk=pk)
    subs = Subscription.objects.restrict(request.user, "change").filter(customer=customer)
    if request.method == "POST":
        sub = get_object_or_404(subs, pk=request.POST.get("subscription") or 0)
        if actions.unsubscribe(sub, actor=request.user):
            messages.success(request, _("Subscription #%(n)s is switched off.") % {"n": sub.pk})
        return redirect("notify:customer_subscriptions", pk=customer.pk)
    log_access(
        actor=request.user,
        customer_id=customer.pk,
        context_name="ui:subscriptions",
        remote_addr=request.META.get("REMOTE_ADDR") or None,
    )
    notices = (
        Notice.objects.restrict(request.user, "view").filter(customer=customer).select_related("event")[:50]
        if request.user.has_okno_perm("notice.view")  # type: ignore[union-attr]
        else []
    )
    return render(
        request,
        "notify/customer_subscriptions.html",
        {"customer": customer, "subscriptions": subs.select_related("account"), "notices": notices},
    )


@login_required
def delivery_log(request: HttpRequest) -> HttpResponse:
    """Every notice with its status, filtered by status, channel and event key."""
    require_perm(request.user, "notice.view")
    qs = Notice.objects.restrict(request.user, "view").select_related("event").order_by("-created_at", "-id")
    filters = {
        "status": request.GET.get("status", "") if request.GET.get("status") in NoticeStatus.values else "",
        "channel": request.GET.get("channel", "") if request.GET.get("channel") in Channel.values else "",
        "event": request.GET.get("event", "").strip()[:150],
    }
    if filters["status"]:
        qs = qs.filter(status=filters["status"])
    if filters["channel"]:
        qs = qs.filter(channel=filters["channel"])
    if filters["event"]:
        qs = qs.filter(event__key__startswith=filters["event"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    base = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "notify/log.html",
        {
            "page_obj": page,
            "filters": filters,
            "statuses": NoticeStatus.choices,
            "channels": Channel.choices,
            "querystring_base": f"{base}&" if base else "",
        },
    )
