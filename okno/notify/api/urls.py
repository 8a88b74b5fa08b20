"""API routes of notifications under ``/api/v1/notify/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from okno.notify.api.views import NoticeViewSet, PublicConfirmView, PublicSubscribeView, SubscriptionViewSet

router = SimpleRouter()
router.register("notify/subscriptions", SubscriptionViewSet, basename="notify-subscription")
router.register("notify/notices", NoticeViewSet, basename="notify-notice")

urlpatterns = [
    path("notify/subscribe/", PublicSubscribeView.as_view(), name="notify-subscribe"),
    path("notify/confirm/", PublicConfirmView.as_view(), name="notify-confirm"),
    *router.urls,
]
