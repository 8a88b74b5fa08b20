"""Enumerations of the notifications capability (codes are stable English words, labels translated)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Web push")
    MESSENGER = "messenger", _("Messenger")


class Language(models.TextChoices):
    RU = "ru", _("Russian")
    EN = "en", _("English")


class Source(models.TextChoices):
    """Where a subscription came from (also recorded as the consent's source for anonymous ones)."""

    PUBLIC = "public", _("Public site")
    CABINET = "cabinet", _("Personal cabinet")
    OPERATOR = "operator", _("Operator")
    API = "api", _("API")
    IMPORT = "import", _("Import")


class NoticeStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SCHEDULED = "scheduled", _("Scheduled (quiet hours)")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERABLE = "undeliverable", _("Undeliverable")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


# A notice in one of these is waiting for the delivery loop.
DUE_STATUSES = (NoticeStatus.QUEUED, NoticeStatus.SCHEDULED)


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("No consent for the channel")
    NO_CONTACT = "no_contact", _("No contact for any channel")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed before sending")


class AttemptResult(models.TextChoices):
    SENT = "sent", _("Sent")
    RETRY = "retry", _("Failed, will retry")
    FAILED = "failed", _("Failed permanently")


class TemplateCode(models.TextChoices):
    PLANNED_AHEAD = "outage_planned_ahead", _("Planned outage, notice ahead")
    PLANNED_TODAY = "outage_planned_today", _("Planned outage, on the day")
    UNPLANNED = "outage_unplanned", _("Unplanned outage with restoration time")
    ETR_CHANGED = "outage_etr_changed", _("Restoration time changed")
    RESTORED = "outage_restored", _("Power restored")
    MASS_AUTHORITY = "mass_outage_authority", _("Mass outage, notice to a local authority")
    CONFIRM = "subscription_confirm", _("Confirm a subscription")
