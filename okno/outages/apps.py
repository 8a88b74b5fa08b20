from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutagesConfig(AppConfig):
    name = "okno.outages"
    label = "outages"
    verbose_name = _("Outages and grid topology")

    def ready(self) -> None:
        from okno.core import audit
        from okno.outages import models

        for model in (
            models.GridNode,
            models.Outage,
            models.LocalAuthority,
            models.Announcement,
            models.OutageSettings,
        ):
            audit.register(model)
        from okno.outages import loop, tasks  # noqa: F401  (registers the outage jobs)

        loop.connect()
