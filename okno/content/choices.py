"""Enumerations of the site's content: stable English codes, translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    ALL = "all", _("Everyone")
    INDIVIDUALS = "individuals", _("Individuals")
    LEGAL = "legal", _("Legal entities and sole proprietors")


class DocumentCategory(models.TextChoices):
    LAW = "law", _("Federal laws")
    DECREE = "decree", _("Government decrees")
    ORDER = "order", _("Orders of ministries and agencies")
    TARIFF = "tariff", _("Tariff decisions")
    STANDARD = "standard", _("Standards")
    COMPANY = "company", _("Company documents")
    TEMPLATE = "template", _("Contract and application templates")


class FaqTopic(models.TextChoices):
    CONNECTION = "connection", _("Grid connection")
    METERING = "metering", _("Meters and readings")
    BILLING = "billing", _("Bills and payments")
    OUTAGES = "outages", _("Outages")
    QUALITY = "quality", _("Power quality")
    DOCUMENTS = "documents", _("Documents and contracts")
    CABINET = "cabinet", _("Personal cabinet")
    OTHER = "other", _("Other questions")


class ReceptionForm(models.TextChoices):
    """The internet reception's forms a service passport may point to (URL names in ``reception``)."""

    CONNECTION_INDIVIDUAL = "connection_individual", _("Connection application of an individual")
    CONNECTION_LEGAL = "connection_legal", _("Connection application of a legal entity")
    METERING = "metering", _("Metering services application")
    REISSUE = "reissue", _("Re-issue of connection documents")
    QUESTION = "question", _("Ask a question")
    APPEAL = "appeal", _("Send an appeal")
    NO_POWER = "no_power", _("Report no power")
    QUALITY_COMPLAINT = "quality_complaint", _("Power quality complaint")
    THEFT = "theft", _("Report electricity theft")
