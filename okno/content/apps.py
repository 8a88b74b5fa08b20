from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "okno.content"
    label = "content"
    verbose_name = _("Public site content")

    def ready(self) -> None:
        from okno.content import models
        from okno.core import audit

        for model in (
            models.InfoPage,
            models.ServicePassport,
            models.ServiceStage,
            models.Document,
            models.FaqEntry,
            models.RegionOutline,
        ):
            audit.register(model)
