from django.urls import path
from rest_framework.routers import SimpleRouter

from okno.appeals.api.reference import AnswerTemplateViewSet, DeadlinePolicyViewSet, ReferenceView
from okno.appeals.api.views import AppealViewSet, CustomerAppealsView

router = SimpleRouter()
router.register("appeals", AppealViewSet, basename="appeal")
router.register("answer-templates", AnswerTemplateViewSet, basename="answer-template")
router.register("deadline-policies", DeadlinePolicyViewSet, basename="deadline-policy")

urlpatterns = [
    path("reference/", ReferenceView.as_view(), name="reference"),
    path("customers/<int:customer_id>/appeals/", CustomerAppealsView.as_view(), name="customer-appeals"),
    *router.urls,
]
