from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    SPECIALIST = "specialist", _("Specialist")
    DISPATCHER = "dispatcher", _("Dispatcher")
    HEAD_OF_DEPARTMENT = "head_of_department", _("Head of department")
    BRANCH_HEAD = "branch_head", _("Branch head")
    QUALITY_MANAGER = "quality_manager", _("Quality manager")
    SECURITY_OFFICER = "security_officer", _("Security officer")
    ADMINISTRATOR = "administrator", _("Administrator")
    SYSTEM = "system", _("System")


class ServiceCentreCategory(models.IntegerChoices):
    FIRST = 1, _("Category 1 (head office)")
    SECOND = 2, _("Category 2 (branch)")
    THIRD = 3, _("Category 3 (grid district)")
