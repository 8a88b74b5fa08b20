from okno.appeals.models.answer import Answer
from okno.appeals.models.appeal import Appeal, AppealCounter, AppealEvent, AppealStat, Attachment, Incident
from okno.appeals.models.policy import AnswerTemplate, DeadlinePolicy, RoutingRule

__all__ = [
    "Answer",
    "AnswerTemplate",
    "Appeal",
    "AppealCounter",
    "AppealEvent",
    "AppealStat",
    "Attachment",
    "DeadlinePolicy",
    "Incident",
    "RoutingRule",
]
