"""Sign-up, login, logout, password reset, linking accounts and the profile of the personal cabinet.

How a person proves who they are (docs/portal/cabinet-auth.md):

* **an account** by its number and check value (:func:`okno.billing.proof.account_by_proof`): a wrong
  number and a wrong check value get the same message, status and work; after
  :data:`PROOF_FAILURES` failures an hour per account number (counted together with the kiosk's) or
  per IP address the form answers 429;
* **an e-mail address or phone** by a 6-digit code sent there (:mod:`okno.customers.cabinet`). At
  sign-up the code goes to the contact the person typed, whether or not it is registered already:
  only the person who reads the code learns that it is (and is told to log in or reset the password);
* **a login** by e-mail or phone and password; failures are throttled per login and per IP.

Throttles count an attempt *before* checking it and hand it back when it succeeded
(:func:`okno.portal.abuse.take`), so parallel requests cannot all slip under a limit.

The challenge in progress is kept in the session (by id), never in the URL. Views change nothing
themselves: they call the actions of :mod:`okno.customers.cabinet` as ``system:cabinet``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from okno.billing.proof import account_by_proof
from okno.customers import cabinet
from okno.customers.cabinet import CodeResult, Login, Purpose
from okno.customers.models import CabinetChallenge, CabinetUser
from okno.org.api.permissions import client_ip
from okno.org.models import system_actor
from okno.portal import abuse
from okno.portal.abuse import Check, is_bot, over_limit
from okno.portal.cabinet import auth_forms as forms
from okno.portal.cabinet import session
from okno.portal.cabinet.session import cabinet_required, current_user

log = logging.getLogger(__name__)

# Failed account proofs (sign-up, linking; the kiosk's too) per account number and per IP in an hour.
PROOF_FAILURES = abuse.PROOF_FAILURES
PROOF_WINDOW_S = abuse.PROOF_WINDOW_S
# Failed logins per login in 15 minutes, and per IP address in an hour.
LOGIN_FAILURES = 5
LOGIN_WINDOW_S = 900
LOGIN_IP_FAILURES = 20
LOGIN_IP_WINDOW_S = 3600
# Codes sent to one e-mail address or phone, and requested from one IP address, in an hour.
CODES_PER_DESTINATION = 5
CODES_PER_IP = 20
CODES_WINDOW_S = 3600

CHALLENGE_KEY = "cabinet_challenges"
THROTTLED_TEMPLATE = "portal/cabinet/signup_throttled.html"


def _actor() -> Any:
    return system_actor("cabinet")


def _ip(request: HttpRequest) -> str:
    return client_ip(request) or "-"


_key = abuse.hashed_key


def _home() -> str:
    try:
        return reverse("cabinet:dashboard")
    except NoReverseMatch:
        return "/cabinet/"


def safe_next(request: HttpRequest) -> str:
    """The ``next`` parameter when it is a local path of this site, else ""."""
    value = (request.POST.get("next") or request.GET.get("next") or "").strip()
    if (
        value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(value, allowed_hosts=set(), require_https=False)
    ):
        return value
    return ""


# ---------------------------------------------------------------- throttling


_minutes_left = abuse.minutes_left


def _too_many(request: HttpRequest, minutes: int) -> HttpResponse:
    response = render(
        request,
        THROTTLED_TEMPLATE,
        {
            "message": _("Too many attempts. Please try again in %(n)s minutes.") % {"n": minutes},
            "minutes": minutes,
        },
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


def _proof_checks(request: HttpRequest, number: str) -> list[Check]:
    return [
        (abuse.PROOF_SCOPE, abuse.account_key(number), PROOF_FAILURES, PROOF_WINDOW_S),
        ("cabinet-proof-ip", _ip(request), PROOF_FAILURES, PROOF_WINDOW_S),
    ]


def _proved_account(request: HttpRequest, form: forms.ProofFields) -> tuple[Any, HttpResponse | None]:
    """The account proved by the form's number and check value; or a 429 response; or (None, None).

    The attempt is counted before the check and handed back when it succeeded or the form was
    incomplete, so only failures stay counted."""
    number = form.data.get("account_number", "")
    wait, counted = abuse.take(_proof_checks(request, number))
    if wait:
        return None, _too_many(request, wait)
    if not form.is_valid():
        abuse.give_back(counted)
        return None, None
    account = account_by_proof(form.cleaned_data["account_number"], form.cleaned_data["check_value"])
    if account is None:
        form.add_error(None, _("The account number or check value does not match."))
    else:
        abuse.give_back(counted)
    return account, None


# ---------------------------------------------------------------- codes


def _send_code(challenge: CabinetChallenge, code: str) -> None:
    """Send the code once the transaction commits: by e-mail, or by SMS through the notify transport."""
    if not challenge.destination:
        return
    text = _(
        "Your code for the personal cabinet: %(code)s. It is valid for 10 minutes. "
        "Do not tell it to anyone, our staff never ask for it."
    ) % {"code": code}
    destination, channel = challenge.destination, challenge.channel

    def send() -> None:
        try:
            if channel == CabinetChallenge.Channel.EMAIL:
                send_mail(
                    _("Your code for the personal cabinet"), text, settings.DEFAULT_FROM_EMAIL, [destination]
                )
            else:
                from okno.notify.transports.base import Message
                from okno.notify.transports.registry import transport_for

                with transport_for("sms", on_receipt=None) as transport:
                    result = transport.send(
                        Message(notice_id=0, channel="sms", recipient=destination, subject="", body=text)
                    )
                if not result.ok:
                    log.warning("cabinet code SMS to %s not sent: %s", destination[:5], result.error)
        except Exception:  # a failed send must not break the page: the person can ask for a new code
            log.exception("sending a cabinet code failed")

    transaction.on_commit(send)


def _codes_blocked(request: HttpRequest, destination: str) -> int:
    """Count one code sent to ``destination`` from this IP; minutes to wait when over the limit."""
    if over_limit("cabinet-code", _key(destination), limit=CODES_PER_DESTINATION, window_s=CODES_WINDOW_S):
        return _minutes_left(CODES_WINDOW_S)
    if over_limit("cabinet-code-ip", _ip(request), limit=CODES_PER_IP, window_s=CODES_WINDOW_S):
        return _minutes_left(CODES_WINDOW_S)
    return 0


def _start(request: HttpRequest, purpose: str, **kwargs: Any) -> HttpResponse | None:
    """Create a challenge, keep its id in the session, send its code; a 429 response when over limits."""
    wait = _codes_blocked(request, kwargs.get("destination") or kwargs.get("payload", {}).get("typed", ""))
    if wait:
        return _too_many(request, wait)
    with transaction.atomic():
        challenge, code = cabinet.start_challenge(purpose, **kwargs)
        _send_code(challenge, code)
    challenges = request.session.get(CHALLENGE_KEY) or {}
    challenges[purpose] = challenge.pk
    request.session[CHALLENGE_KEY] = challenges
    return None


def _challenge(
    request: HttpRequest, purpose: str, user: CabinetUser | None = None
) -> CabinetChallenge | None:
    pk = (request.session.get(CHALLENGE_KEY) or {}).get(purpose)
    if not pk:
        return None
    qs = CabinetChallenge.objects.filter(pk=pk, purpose=purpose).select_related("account", "user")
    if user is not None:
        qs = qs.filter(user=user)
    return qs.first()


def _forget(request: HttpRequest, purpose: str) -> None:
    challenges = request.session.get(CHALLENGE_KEY) or {}
    if challenges.pop(purpose, None) is not None:
        request.session[CHALLENGE_KEY] = challenges


def _masked(challenge: CabinetChallenge) -> str:
    value = challenge.destination or challenge.payload.get("typed", "")
    if "@" in value:
        local, _at, domain = value.partition("@")
        return f"{local[:2]}***@{domain}"
    return f"{value[:5]}***{value[-2:]}" if value else ""


def _resend(request: HttpRequest, challenge: CabinetChallenge) -> None:
    wait = cabinet.seconds_until_resend(challenge)
    if wait < 0:
        messages.error(request, _("No more codes can be sent for this request: please start again."))
        return
    if wait > 0:
        messages.error(request, _("You can ask for a new code in %(n)s seconds.") % {"n": wait})
        return
    if _codes_blocked(request, challenge.destination or challenge.payload.get("typed", "")):
        messages.error(request, _("Too many codes were sent. Please try again later."))
        return
    with transaction.atomic():
        code = cabinet.resend(challenge)
        if code is not None:
            _send_code(challenge, code)
    messages.success(request, _("We have sent a new code."))


def _code_error(form: forms.CodeForm, challenge: CabinetChallenge, result: CodeResult) -> None:
    if result == CodeResult.WRONG:
        form.add_error(
            "code",
            _("The code is not correct. Tries left: %(n)s.") % {"n": cabinet.tries_left(challenge)},
        )
    else:
        form.add_error(
            "code", _("The code has expired or was entered wrongly too many times: ask for a new code.")
        )


def _verify_page(
    request: HttpRequest,
    template: str,
    challenge: CabinetChallenge,
    form: Any,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = {
        "form": form,
        "sent_to": _masked(challenge),
        "resend_in": cabinet.seconds_until_resend(challenge),
        **extra,
    }
    return render(request, template, context, status=status)


def _code_step(
    request: HttpRequest,
    template: str,
    challenge: CabinetChallenge,
    here: str,
    form_class: Any = None,
    *,
    require_user: bool = False,
    **form_kwargs: Any,
) -> tuple[Any, HttpResponse | None]:
    """What every one-time-code page does first: show the form, resend a code, validate, check the code.

    Returns ``(form, None)`` once the code is right (the caller goes on), else ``(form, response)``.
    ``require_user``: the challenge must belong to a user (a reset for an unknown login never passes).
    """
    form_class = form_class or forms.CodeForm
    if request.method != "POST":
        return None, _verify_page(request, template, challenge, form_class(**form_kwargs))
    if request.POST.get("action") == "resend":
        _resend(request, challenge)
        return None, redirect(here)
    form = form_class(request.POST, **form_kwargs)
    if not form.is_valid():
        return form, _verify_page(request, template, challenge, form, status=400)
    result = cabinet.check_code(challenge, form.cleaned_data["code"])
    if result != CodeResult.OK or (require_user and challenge.user is None):
        _code_error(form, challenge, result)
        return form, _verify_page(request, template, challenge, form, status=400)
    return form, None


# ---------------------------------------------------------------- login and logout


@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    if request.method == "POST":
        form = forms.LoginForm(request.POST)
        raw = request.POST.get("login", "")[:254]
        typed = cabinet.parse_login(raw)
        checks: list[Check] = [
            ("cabinet-login", _key(typed.value or raw.strip().lower()), LOGIN_FAILURES, LOGIN_WINDOW_S),
            ("cabinet-login-ip", _ip(request), LOGIN_IP_FAILURES, LOGIN_IP_WINDOW_S),
        ]
        wait, counted = abuse.take(checks)
        if wait:
            return _too_many(request, wait)
        if not form.is_valid():
            abuse.give_back(counted)
        else:
            user = cabinet.authenticate(form.cleaned_data["login"], form.cleaned_data["password"])
            if user is not None:
                abuse.give_back(counted)
                session.login(request, user)
                cabinet.record_login(user)
                return redirect(next_url or _home())
            form.add_error(None, _("The e-mail or phone and password do not match."))
        return render(request, "portal/cabinet/login.html", {"form": form, "next": next_url}, status=400)
    if current_user(request) is not None and not next_url:
        return redirect(_home())
    return render(request, "portal/cabinet/login.html", {"form": forms.LoginForm(), "next": next_url})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session.logout(request)
    messages.success(request, _("You have logged out of the personal cabinet."))
    return redirect("cabinet:login")


# ---------------------------------------------------------------- sign-up


@sensitive_post_parameters("password1", "password2", "check_value")
def signup(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "portal/cabinet/signup.html", {"form": forms.SignupForm()})
    form = forms.SignupForm(request.POST)
    if is_bot(request):
        return redirect("cabinet:signup_verify")
    account, refused = _proved_account(request, form)
    if refused is not None:
        return refused
    if account is None:
        return render(request, "portal/cabinet/signup.html", {"form": form}, status=400)
    login: Login = form.cleaned_data["login"]
    payload = cabinet.signup_payload(login=login, password=form.cleaned_data["password1"])
    refused = _start(
        request,
        Purpose.SIGNUP,
        channel=login.channel,
        destination=login.value,
        account=account,
        payload=payload,
    )
    return refused or redirect("cabinet:signup_verify")


def signup_verify(request: HttpRequest) -> HttpResponse:
    template = "portal/cabinet/signup_verify.html"
    challenge = _challenge(request, Purpose.SIGNUP)
    if challenge is None:
        messages.error(request, _("Please fill in the sign-up form first."))
        return redirect("cabinet:signup")
    _form, stop = _code_step(request, template, challenge, "cabinet:signup_verify")
    if stop is not None:
        return stop
    _forget(request, Purpose.SIGNUP)
    try:
        user = cabinet.sign_up(challenge, actor=_actor(), language=get_language() or "ru")
    except cabinet.AlreadyRegistered:
        return render(request, "portal/cabinet/signup_registered.html", {"sent_to": _masked(challenge)})
    session.login(request, user)
    cabinet.record_login(user)
    messages.success(
        request,
        _("Welcome! Account %(n)s is in your personal cabinet.") % {"n": challenge.account.number},  # type: ignore[union-attr]
    )
    return redirect(_home())


# ---------------------------------------------------------------- password reset


def reset(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "portal/cabinet/reset.html", {"form": forms.ResetForm()})
    form = forms.ResetForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/cabinet/reset.html", {"form": form}, status=400)
    login: Login = form.cleaned_data["login"]
    user = cabinet.user_by_login(login)
    refused = _start(
        request,
        Purpose.RESET,
        channel=login.channel,
        destination=login.value if user is not None else "",
        user=user,
        payload={"typed": login.value},
    )
    if refused is not None:
        return refused
    messages.info(request, _("If this e-mail or phone is registered, we have sent a code to it."))
    return redirect("cabinet:reset_verify")


@sensitive_post_parameters("password1", "password2", "code")
def reset_verify(request: HttpRequest) -> HttpResponse:
    template = "portal/cabinet/reset_verify.html"
    challenge = _challenge(request, Purpose.RESET)
    if challenge is None:
        messages.error(request, _("Please enter your e-mail or phone first."))
        return redirect("cabinet:reset")
    typed = challenge.payload.get("typed", "")
    probe = challenge.user or CabinetUser(email=typed if "@" in typed else "")
    form, stop = _code_step(
        request,
        template,
        challenge,
        "cabinet:reset_verify",
        forms.ResetVerifyForm,
        require_user=True,
        user=probe,
    )
    if stop is not None:
        return stop
    assert challenge.user is not None
    _forget(request, Purpose.RESET)
    user = cabinet.set_password(challenge.user, form.cleaned_data["password1"])
    session.login(request, user)
    cabinet.record_login(user)
    messages.success(request, _("Your password is changed. You are logged in."))
    return redirect(_home())


# ---------------------------------------------------------------- more accounts


@cabinet_required
@sensitive_post_parameters("check_value")
def add_account(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    assert user is not None
    if request.method != "POST":
        return render(request, "portal/cabinet/add_account.html", {"form": forms.AddAccountForm()})
    form = forms.AddAccountForm(request.POST)
    account, refused = _proved_account(request, form)
    if refused is not None:
        return refused
    if account is None:
        return render(request, "portal/cabinet/add_account.html", {"form": form}, status=400)
    if session.my_accounts(user).filter(pk=account.pk).exists():
        messages.info(request, _("Account %(n)s is already in your cabinet.") % {"n": account.number})
        return redirect(_home())
    login = cabinet.login_of(user)
    refused = _start(
        request, Purpose.LINK, channel=login.channel, destination=login.value, user=user, account=account
    )
    return refused or redirect("cabinet:add_account_verify")


@cabinet_required
def add_account_verify(request: HttpRequest) -> HttpResponse:
    template = "portal/cabinet/add_account_verify.html"
    user = current_user(request)
    challenge = _challenge(request, Purpose.LINK, user)
    if challenge is None or challenge.account is None:
        return redirect("cabinet:add_account")
    _form, stop = _code_step(request, template, challenge, "cabinet:add_account_verify")
    if stop is not None:
        return stop
    _forget(request, Purpose.LINK)
    assert user is not None
    cabinet.link_account(user, challenge.account, actor=_actor())
    messages.success(request, _("Account %(n)s is added to your cabinet.") % {"n": challenge.account.number})
    return redirect(_home())


# ---------------------------------------------------------------- profile


def _profile_page(request: HttpRequest, user: CabinetUser, status: int = 200, **forms_: Any) -> HttpResponse:
    context = {
        "cabinet_user": user,
        "accounts": session.my_accounts(user),
        "password_form": forms_.get("password_form") or forms.PasswordChangeForm(user=user),
        "contact_form": forms_.get("contact_form") or forms.ContactChangeForm(),
    }
    return render(request, "portal/cabinet/profile.html", context, status=status)


@cabinet_required
@sensitive_post_parameters("current", "password1", "password2")
def profile(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    assert user is not None
    if request.method != "POST":
        return _profile_page(request, user)
    action = request.POST.get("action")
    if action == "password":
        password_form = forms.PasswordChangeForm(request.POST, user=user)
        checks: list[Check] = [("cabinet-password", str(user.pk), LOGIN_FAILURES, LOGIN_WINDOW_S)]
        wait, counted = abuse.take(checks)
        if wait:
            return _too_many(request, wait)
        if "current" not in password_form.errors:
            abuse.give_back(counted)  # only a wrong current password counts
        if not password_form.is_valid():
            return _profile_page(request, user, status=400, password_form=password_form)
        cabinet.set_password(user, password_form.cleaned_data["password1"])
        session.login(request, user)  # this session goes on with the new version; the others end
        messages.success(request, _("Your password is changed. Other sessions are logged out."))
        return redirect("cabinet:profile")
    if action == "contact":
        contact_form = forms.ContactChangeForm(request.POST)
        if not contact_form.is_valid():
            return _profile_page(request, user, status=400, contact_form=contact_form)
        login: Login = contact_form.cleaned_data["login"]
        refused = _start(
            request,
            Purpose.CONTACT,
            channel=login.channel,
            destination=login.value,
            user=user,
            payload={"kind": login.kind, "login": login.value},
        )
        return refused or redirect("cabinet:profile_verify")
    return _profile_page(request, user, status=400)


@cabinet_required
def profile_verify(request: HttpRequest) -> HttpResponse:
    template = "portal/cabinet/profile_verify.html"
    user = current_user(request)
    assert user is not None
    challenge = _challenge(request, Purpose.CONTACT, user)
    if challenge is None:
        return redirect("cabinet:profile")
    _form, stop = _code_step(request, template, challenge, "cabinet:profile_verify")
    if stop is not None:
        return stop
    _forget(request, Purpose.CONTACT)
    login = Login(challenge.payload["kind"], challenge.payload["login"])
    try:
        cabinet.change_contact(user, login)
    except cabinet.AlreadyRegistered:
        messages.error(request, _("This e-mail or phone is already used by another personal cabinet."))
        return redirect("cabinet:profile")
    messages.success(request, _("Your contact is changed; you can log in with it."))
    return redirect("cabinet:profile")
