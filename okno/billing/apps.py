from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "okno.billing"
    label = "billing"
    verbose_name = _("Metering and billing")

    def ready(self) -> None:
        from okno.billing import models
        from okno.core import audit

        for model in (
            models.Meter,
            models.BillingProfile,
            models.Tariff,
            models.TariffRate,
            models.ConsumptionNorm,
            models.Discount,
            models.AccountDiscount,
            models.KeyRate,
            models.PenaltyRule,
            models.DueDayRule,
            models.PayeeDetails,
            models.BillingSettings,
        ):
            audit.register(model)
        from django.db.models.signals import post_delete, post_save

        from okno.billing import rules

        for model in (models.DueDayRule, models.KeyRate, models.PenaltyRule):
            post_save.connect(rules.clear_cache, sender=model, dispatch_uid=f"rules-{model.__name__}")
            post_delete.connect(rules.clear_cache, sender=model, dispatch_uid=f"rules-del-{model.__name__}")
        from okno.billing import debt, invoices, tasks  # noqa: F401  (registers the billing jobs)

        invoices.connect()
        debt.connect()
