"""Enumerations of the appeals registry (codes are stable English words, labels translated)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    OFFICE = "office", _("Office (in person)")
    PHONE = "phone", _("Phone")
    CONTACT_CENTER = "contact_center", _("Contact centre")
    MAIL = "mail", _("Mail")
    FAX = "fax", _("Fax")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Internet reception")
    CABINET = "cabinet", _("Personal cabinet")
    MOBILE_APP = "mobile_app", _("Mobile app")
    CHAT = "chat", _("Chat")
    SMS = "sms", _("SMS")
    KIOSK = "kiosk", _("Kiosk")
    MESSENGER = "messenger", _("Messenger")


class AppealType(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    INFO_REQUEST = "info_request", _("Information request")
    APPLICATION = "application", _("Application")
    REPORT = "report", _("Report")
    FEEDBACK = "feedback", _("Feedback")
    SUGGESTION = "suggestion", _("Suggestion")


class Topic(models.TextChoices):
    OUTAGE = "outage", _("Power outage")
    POWER_QUALITY = "power_quality", _("Power quality")
    GRID_CONNECTION = "grid_connection", _("Grid connection")
    METERING = "metering", _("Metering")
    BILLING = "billing", _("Billing and payment")
    THEFT = "theft", _("Electricity theft")
    EQUIPMENT = "equipment", _("Grid equipment")
    SERVICE_QUALITY = "service_quality", _("Quality of service")
    CONTRACT = "contract", _("Contract")
    OTHER = "other", _("Other")


class AnswerChannel(models.TextChoices):
    PHONE = "phone", _("By phone")
    EMAIL = "email", _("By e-mail")
    MAIL = "mail", _("By post")
    IN_PERSON = "in_person", _("In person")
    CABINET = "cabinet", _("In the personal cabinet")
    SMS = "sms", _("By SMS")


class Status(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for the customer")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (Status.REGISTERED, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER)


class CancelReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate of another appeal")
    OBSCENE = "obscene", _("Obscene or insulting content")
    REPEATED_NO_NEW_ARGUMENTS = "repeated", _("Repeated question without new arguments")
    UNREADABLE = "unreadable", _("Text cannot be read")
    WITHDRAWN = "withdrawn", _("Withdrawn by the customer")


class DeadlineUnit(models.TextChoices):
    CALENDAR_DAYS = "calendar_days", _("Calendar days")
    WORKING_DAYS = "working_days", _("Working days")
    HOURS = "hours", _("Hours")


class EventType(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ROUTED = "routed", _("Routed")
    ASSIGNED = "assigned", _("Assigned")
    STARTED = "started", _("Work started")
    WAITING = "waiting", _("Waiting for the customer")
    RESUMED = "resumed", _("Resumed")
    ANSWERED = "answered", _("Answered")
    DELIVERED = "delivered", _("Answer delivered")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    CANCELLED = "cancelled", _("Cancelled")
    EXTENDED = "extended", _("Deadline extended")
    ESCALATED = "escalated", _("Escalated")
    LINKED = "linked", _("Linked")
    RATED = "rated", _("Rated by the customer")
    COMMENT = "comment", _("Comment")
    ATTACHMENT = "attachment", _("Attachment added")
    DEADLINE_WARNING = "deadline_warning", _("Deadline warning")
    OVERDUE = "overdue", _("Overdue, escalated to the head")
    RECLASSIFIED = "reclassified", _("Type and topic changed")


class ClassifiedBy(models.TextChoices):
    """Who decided an appeal's type and topic (blank: registered before this was recorded)."""

    ASSISTANT = "assistant", _("Assistant (applied automatically)")
    OPERATOR = "operator", _("Operator")
    CUSTOMER = "customer", _("Customer (chosen in a form)")
    DEFAULT = "default", _("Nobody yet (defaults; to be confirmed)")


RELIABILITY_TOPICS = (Topic.OUTAGE, Topic.POWER_QUALITY)
