from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "okno.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from okno.core import audit, calendar  # noqa: F401  (connects the audit and calendar cache signals)
