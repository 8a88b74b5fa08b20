from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactCenterConfig(AppConfig):
    name = "okno.contact_center"
    label = "contact_center"
    verbose_name = _("Contact centre")
