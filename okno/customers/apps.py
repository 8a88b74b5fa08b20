from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "okno.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from okno.core import audit
        from okno.customers import models

        for model in (
            models.Customer,
            models.Address,
            models.ServicePoint,
            models.Account,
            models.ContactPoint,
            models.Consent,
        ):
            audit.register(model)
