from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "okno.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from okno.core import audit
        from okno.org import models

        for model in (
            models.Company,
            models.Branch,
            models.GridDistrict,
            models.ServiceCentre,
            models.Office,
            models.Department,
        ):
            audit.register(model)
        audit.register(models.User, exclude=("password", "last_login"))
