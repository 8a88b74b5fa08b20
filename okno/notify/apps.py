from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "okno.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from okno.core import audit
        from okno.notify import models

        # Notices and attempts are a log of their own (hundreds of thousands a day): not change-logged.
        for model in (models.Subscription, models.NoticeTemplate, models.NotifySettings):
            audit.register(model, exclude=("token", "confirm_code") if model is models.Subscription else ())
        from okno.notify import tasks  # noqa: F401  (registers the delivery job)
