from rest_framework.routers import SimpleRouter

from okno.org.api.views import BranchViewSet, DepartmentViewSet, GridDistrictViewSet

router = SimpleRouter()
router.register("branches", BranchViewSet, basename="branch")
router.register("departments", DepartmentViewSet, basename="department")
router.register("grid-districts", GridDistrictViewSet, basename="grid-district")

urlpatterns = router.urls
