from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "okno.appeals"
    label = "appeals"
    verbose_name = _("Appeals")

    def ready(self) -> None:
        from okno.appeals import deadlines, models, routing, tasks  # noqa: F401  (cache signals, jobs)
        from okno.core import audit

        audit.register(models.Appeal, exclude=("version",))
        for model in (
            models.Answer,
            models.Attachment,
            models.Incident,
            models.DeadlinePolicy,
            models.RoutingRule,
            models.AnswerTemplate,
        ):
            audit.register(model)
