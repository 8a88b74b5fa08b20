from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from okno.org.models import Branch, Company, Department, GridDistrict, Office, ServiceCentre, User


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "inn", "hotline")


class GridDistrictInline(admin.TabularInline):
    model = GridDistrict
    extra = 0


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "timezone", "region")
    inlines = [GridDistrictInline]


@admin.register(GridDistrict)
class GridDistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "branch")
    list_filter = ("branch",)


@admin.register(ServiceCentre)
class ServiceCentreAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "branch")
    list_filter = ("category", "branch")


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "phone", "service_centre")
    list_filter = ("service_centre__branch",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "branch", "parent", "head")
    list_filter = ("branch",)
    filter_horizontal = ("districts",)


@admin.register(User)
class OknoUserAdmin(UserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "department", "all_branches", "is_active")
    list_filter = ("role", "is_active", "all_branches", "branches")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            "Okno",
            {
                "fields": (
                    "patronymic",
                    "role",
                    "position",
                    "phone",
                    "department",
                    "office",
                    "branches",
                    "all_branches",
                    "is_system",
                )
            },
        ),
    )
    filter_horizontal = ("branches", "groups", "user_permissions")
