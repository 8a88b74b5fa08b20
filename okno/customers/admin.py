from django.contrib import admin

from okno.customers.models import (
    Account,
    Address,
    Consent,
    ContactEvent,
    ContactPoint,
    Customer,
    ServicePoint,
)


class ContactInline(admin.TabularInline):
    model = ContactPoint
    extra = 0


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "inn", "branch")
    list_filter = ("kind", "branch")
    search_fields = ("last_name", "organisation", "inn")
    inlines = [ContactInline, ConsentInline]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("__str__", "grid_district", "fias_guid")
    search_fields = ("settlement", "street")


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin):
    list_display = ("__str__", "branch", "grid_district")
    raw_id_fields = ("address",)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "service_point", "opened_on", "closed_on")
    search_fields = ("number",)
    raw_id_fields = ("customer", "service_point")


@admin.register(ContactEvent)
class ContactEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "customer", "kind", "summary")
    raw_id_fields = ("customer",)
