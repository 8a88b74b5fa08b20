from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    LEGAL_ENTITY = "legal_entity", _("Legal entity")
    SOLE_PROPRIETOR = "sole_proprietor", _("Sole proprietor")


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")


class ConsentPurpose(models.TextChoices):
    PERSONAL_DATA = "personal_data", _("Processing of personal data")
    SERVICE_NOTICES = "service_notices", _("Service notices (outages, appeals)")
    MARKETING = "marketing", _("Information and marketing")


class ContactEventKind(models.TextChoices):
    APPEAL = "appeal", _("Appeal")
    ANSWER = "answer", _("Answer")
    CALL = "call", _("Call")
    NOTIFICATION = "notification", _("Notification")
    VISIT = "visit", _("Visit")
    FEEDBACK = "feedback", _("Feedback")
    CHAT = "chat", _("Chat")
