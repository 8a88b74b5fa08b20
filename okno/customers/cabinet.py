"""Actions of the personal cabinet's identity: one-time codes, sign-up, login, password, contacts, links.

A cabinet user (:class:`~okno.customers.models.CabinetUser`) proves two things:

* that they hold an **account** — its number and check value (:mod:`okno.billing.proof`, checked by
  the portal before it calls these actions);
* that they control an **e-mail address or phone** — a 6-digit one-time code sent there
  (:class:`~okno.customers.models.CabinetChallenge`).

Codes are kept as a salted HMAC, expire after :data:`CODE_TTL`, allow :data:`CODE_TRIES` tries and
can be sent again at most :data:`MAX_SENDS` times, :data:`RESEND_AFTER` apart. Sending is not done
here (customers sit below the notification app): the actions return the raw code and the portal
sends it after the transaction commits.

Every action runs in one transaction; a password change bumps ``session_version``, which ends every
other session of the user (:mod:`okno.portal.cabinet.session`).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from okno.core.context import acting_as
from okno.customers import consents
from okno.customers.actions import record_contact
from okno.customers.choices import ConsentPurpose, ContactEventKind, ContactKind
from okno.customers.models import Account, CabinetChallenge, CabinetLink, CabinetUser, ContactPoint
from okno.customers.numbers import is_valid_phone, normalize_phone

CODE_TTL = dt.timedelta(minutes=10)
CODE_TRIES = 5
RESEND_AFTER = dt.timedelta(seconds=60)
MAX_SENDS = 5
CODE_DIGITS = 6
# The contact history has no "cabinet" kind yet: a cabinet sign-up or a linked account is filed as a
# visit (the customer came to us through the cabinet); channel "cabinet" tells them apart.
HISTORY_KIND = ContactEventKind.VISIT
HISTORY_CHANNEL = "cabinet"
# Compared with when no user has the login, so a wrong login costs the same as a wrong password.
_DUMMY_PASSWORD = "okno-cabinet-no-such-user"  # noqa: S105
_dummy_hash: str | None = None

Purpose = CabinetChallenge.Purpose
log = logging.getLogger(__name__)


class CodeResult(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # tries are left
    EXPIRED = "expired"  # too old, or used already: ask for a new code
    EXHAUSTED = "exhausted"  # no tries left: ask for a new code


class AlreadyRegistered(Exception):
    """The e-mail address or phone is already a cabinet user's login."""


@dataclass(frozen=True)
class Login:
    """A login as typed, normalised: an e-mail address (lower case) or a phone in E.164."""

    kind: str  # "email" | "phone" | ""
    value: str

    @property
    def channel(self) -> str:
        return CabinetChallenge.Channel.EMAIL if self.kind == "email" else CabinetChallenge.Channel.SMS


def parse_login(value: str) -> Login:
    """``"Ivan@Example.RU "`` → e-mail ``ivan@example.ru``; ``"8 (912) 345-67-89"`` → phone ``+79123456789``."""
    value = (value or "").strip()[:254]
    if "@" in value:
        return Login("email", value.lower())
    if is_valid_phone(value):
        return Login("phone", normalize_phone(value))
    return Login("", "")


def user_by_login(login: Login) -> CabinetUser | None:
    if login.kind == "email":
        return CabinetUser.objects.filter(email__iexact=login.value, is_active=True).first()
    if login.kind == "phone":
        return CabinetUser.objects.filter(phone=login.value, is_active=True).first()
    return None


def authenticate(login_text: str, password: str) -> CabinetUser | None:
    """The active user with this e-mail or phone and password, or ``None`` (same hashing work either way)."""
    global _dummy_hash
    user = user_by_login(parse_login(login_text))
    if user is None:
        if _dummy_hash is None:
            _dummy_hash = make_password(_DUMMY_PASSWORD)
        from django.contrib.auth.hashers import check_password

        check_password(password, _dummy_hash)
        return None
    return user if user.check_password(password) else None


def record_login(user: CabinetUser) -> None:
    CabinetUser.objects.filter(pk=user.pk).update(last_login_at=timezone.now())


# ---------------------------------------------------------------- one-time codes


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _hash_code(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = salted_hmac("okno.cabinet.code", f"{salt}:{code}", algorithm="sha256").hexdigest()
    return f"{salt}${digest}"


def _code_matches(code: str, stored: str) -> bool:
    salt, _sep, _digest = stored.partition("$")
    return constant_time_compare(_hash_code(code.strip(), salt), stored)


def start_challenge(
    purpose: str,
    *,
    channel: str,
    destination: str,
    user: CabinetUser | None = None,
    account: Account | None = None,
    payload: dict[str, Any] | None = None,
) -> tuple[CabinetChallenge, str]:
    """A new challenge and its raw code (to be sent to ``destination`` once the transaction commits).

    ``destination`` may be empty (a reset for a login nobody has): the challenge then exists, so the
    next step looks the same, but no code is sent and none will ever match.
    """
    code = _new_code()
    now = timezone.now()
    challenge = CabinetChallenge.objects.create(
        purpose=purpose,
        channel=channel,
        destination=destination,
        code_hash=_hash_code(code) if destination else "!",
        user=user,
        account=account,
        payload=payload or {},
        created_at=now,
        last_sent_at=now,
        expires_at=now + CODE_TTL,
    )
    return challenge, code


def seconds_until_resend(challenge: CabinetChallenge, now: dt.datetime | None = None) -> int:
    """0 when a new code may be sent now; else how many seconds to wait (-1: no more codes)."""
    if challenge.sends >= MAX_SENDS or challenge.used_at is not None:
        return -1
    wait = (challenge.last_sent_at + RESEND_AFTER - (now or timezone.now())).total_seconds()
    return max(0, int(wait + 0.999))


def resend(challenge: CabinetChallenge) -> str | None:
    """A new code for the challenge (the old one stops working), or ``None`` when too soon or too many."""
    with transaction.atomic():
        locked = CabinetChallenge.objects.select_for_update().get(pk=challenge.pk)
        now = timezone.now()
        if seconds_until_resend(locked, now) != 0:
            return None
        code = _new_code()
        locked.code_hash = _hash_code(code) if locked.destination else "!"
        locked.sends += 1
        locked.attempts = 0
        locked.last_sent_at = now
        locked.expires_at = now + CODE_TTL
        locked.save(update_fields=["code_hash", "sends", "attempts", "last_sent_at", "expires_at"])
    for field in ("code_hash", "sends", "attempts", "last_sent_at", "expires_at"):
        setattr(challenge, field, getattr(locked, field))
    return code


def check_code(challenge: CabinetChallenge, code: str) -> CodeResult:
    """Try ``code``: counts a try; on success marks the challenge used (a code works once)."""
    with transaction.atomic():
        locked = CabinetChallenge.objects.select_for_update().get(pk=challenge.pk)
        now = timezone.now()
        if locked.used_at is not None or locked.expires_at <= now:
            return CodeResult.EXPIRED
        if locked.attempts >= CODE_TRIES:
            return CodeResult.EXHAUSTED
        CabinetChallenge.objects.filter(pk=locked.pk).update(attempts=F("attempts") + 1)
        if not _code_matches(code or "", locked.code_hash):
            return CodeResult.EXHAUSTED if locked.attempts + 1 >= CODE_TRIES else CodeResult.WRONG
        CabinetChallenge.objects.filter(pk=locked.pk).update(used_at=now)
    challenge.used_at = now
    return CodeResult.OK


def tries_left(challenge: CabinetChallenge) -> int:
    challenge.refresh_from_db(fields=["attempts"])
    return max(0, CODE_TRIES - challenge.attempts)


# ---------------------------------------------------------------- sign-up and accounts


def login_taken(login: Login, *, exclude: CabinetUser | None = None) -> bool:
    user = user_by_login(login) if login.kind else None
    if user is None and login.kind == "email":  # an inactive user still holds the address
        user = CabinetUser.objects.filter(email__iexact=login.value).first()
    elif user is None and login.kind == "phone":
        user = CabinetUser.objects.filter(phone=login.value).first()
    return user is not None and (exclude is None or user.pk != exclude.pk)


def signup_payload(*, login: Login, password: str, name: str = "") -> dict[str, Any]:
    """What the sign-up's verify step completes: the login, the password's hash, the consent time."""
    return {
        "kind": login.kind,
        "login": login.value,
        "password_hash": make_password(password),
        "name": name[:200],
        "consent_at": timezone.now().isoformat(),
    }


def sign_up(challenge: CabinetChallenge, *, actor: Any, language: str = "ru") -> CabinetUser:
    """Create the user of a verified sign-up challenge, link its account, record consent and history.

    Raises :class:`AlreadyRegistered` when the login became someone's meanwhile (nothing is created).
    """
    data = challenge.payload
    login = Login(data.get("kind", ""), data.get("login", ""))
    account = challenge.account
    if challenge.purpose != Purpose.SIGNUP or challenge.used_at is None or account is None or not login.kind:
        raise ValueError("sign_up needs a verified sign-up challenge")
    try:
        with transaction.atomic(), acting_as(actor):
            if login_taken(login):
                raise AlreadyRegistered
            user = CabinetUser(
                email=login.value if login.kind == "email" else "",
                phone=login.value if login.kind == "phone" else "",
                password=data["password_hash"],
                name=data.get("name", ""),
                language=language[:8],
            )
            user.save()
            CabinetLink.objects.create(user=user, account=account)
            consent_at = dt.datetime.fromisoformat(data["consent_at"]) if data.get("consent_at") else None
            consents.give(
                account.customer,
                channel="any",
                purpose=ConsentPurpose.PERSONAL_DATA,
                actor=actor,
                source=HISTORY_CHANNEL,
            )
            _notify_linked(account, login)
            record_contact(
                account.customer_id,
                kind=HISTORY_KIND,
                channel=HISTORY_CHANNEL,
                summary=_(
                    "Signed up to the personal cabinet with account %(n)s (%(login)s); consented to the "
                    "processing of personal data"
                )
                % {"n": account.number, "login": _masked(login)},
                ref=("customers.cabinetuser", user.pk, ""),
                actor=actor,
                occurred_at=consent_at,
            )
    except IntegrityError as exc:  # a second sign-up with the same login committed first
        raise AlreadyRegistered from exc
    return user


def link_account(user: CabinetUser, account: Account, *, actor: Any) -> bool:
    """Link ``account`` to ``user`` (proved by its check value and a code); false when already linked."""
    with transaction.atomic(), acting_as(actor):
        CabinetUser.objects.select_for_update().filter(pk=user.pk).first()
        if CabinetLink.objects.filter(user=user, account=account).exists():
            return False
        CabinetLink.objects.create(user=user, account=account)
        _notify_linked(account, login_of(user))
        record_contact(
            account.customer_id,
            kind=HISTORY_KIND,
            channel=HISTORY_CHANNEL,
            summary=_("Account %(n)s added to a personal cabinet (%(login)s)")
            % {"n": account.number, "login": _masked(login_of(user))},
            ref=("customers.cabinetuser", user.pk, ""),
            actor=actor,
        )
    return True


def _notify_linked(account: Account, login: Login) -> None:
    """After commit, tell the customer's primary e-mail (if any) that the account joined a cabinet.

    The holder learns of a link they did not make (someone who found an old invoice), whatever
    contact the cabinet user signed up with.
    """
    email = (
        ContactPoint.objects.filter(customer_id=account.customer_id, kind=ContactKind.EMAIL)
        .order_by("-is_primary", "pk")
        .values_list("value", flat=True)
        .first()
    )
    if not email:
        return
    subject = _("Your account was linked to a personal cabinet")
    body = _(
        "Account %(n)s was linked to a personal cabinet (%(login)s). If it was not you, please "
        "contact us: the link can be removed and the account protected."
    ) % {"n": account.number, "login": _masked(login)}

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except Exception:  # a failed notice must not undo the link
            log.exception("the cabinet link notice to account %s was not sent", account.number)

    transaction.on_commit(send)


def login_of(user: CabinetUser) -> Login:
    return Login("email", user.email) if user.email else Login("phone", user.phone)


def _masked(login: Login) -> str:
    """``iv***@example.ru``, ``+7912***6789``: enough for an operator to recognise, not to copy."""
    if login.kind == "email":
        local, _at, domain = login.value.partition("@")
        return f"{local[:2]}***@{domain}"
    return f"{login.value[:5]}***{login.value[-4:]}" if login.value else ""


# ---------------------------------------------------------------- password and contacts


def set_password(user: CabinetUser, raw: str) -> CabinetUser:
    """New password; bumps ``session_version`` so every session signed in before ends."""
    with transaction.atomic():
        locked = CabinetUser.objects.select_for_update().get(pk=user.pk)
        locked.set_password(raw)
        locked.session_version = F("session_version") + 1
        locked.save(update_fields=["password", "session_version"])
        locked.refresh_from_db(fields=["password", "session_version"])
    user.password, user.session_version = locked.password, locked.session_version
    return user


def change_contact(user: CabinetUser, login: Login) -> CabinetUser:
    """Replace the user's e-mail (or phone) with one they proved by a code; raises :class:`AlreadyRegistered`."""
    field = "email" if login.kind == "email" else "phone"
    try:
        with transaction.atomic():
            locked = CabinetUser.objects.select_for_update().get(pk=user.pk)
            if login_taken(login, exclude=locked):
                raise AlreadyRegistered
            setattr(locked, field, login.value)
            locked.save(update_fields=[field])
    except IntegrityError as exc:
        raise AlreadyRegistered from exc
    setattr(user, field, login.value)
    return user


def purge_expired(before: dt.datetime | None = None) -> int:
    """Delete challenges that expired more than a day ago (a periodic job may call it)."""
    cutoff = (before or timezone.now()) - dt.timedelta(days=1)
    deleted, _rows = CabinetChallenge.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
