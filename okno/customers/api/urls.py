from rest_framework.routers import SimpleRouter

from okno.customers.api.views import AccountViewSet, CustomerViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("accounts", AccountViewSet, basename="account")

urlpatterns = router.urls
